"""Case statistics: the figures the police put in their reports ("closure rate 96.5%", "incidents -9.1% year on
year"), for one alliance or for every alliance under a police unit, over any period of Asia/Shanghai calendar days.

A case belongs to the period in which it was raised: a dispute flag by ``flagged_at``, an incident report by
``created_at`` (when it was reported, not when it happened). On PostgreSQL the database computes every figure,
one statement per period reading its rows once; on SQLite, the embedded default, counts are database aggregates and
medians, percentiles, repeats and hotspots are computed in Python over the period's rows, with the same figures.
Each figure is computed for the period, the previous period of the same length and the same dates a year earlier
(a year's previous period is last year's: computed once): a fixed number of queries, whatever the number of cases.

Every figure has a one-sentence definition in :data:`DEFINITIONS`, returned with the figures so that a report can
quote them honestly.

The package, one module per concern:

- ``periods``: which days a figure counts (a period, the previous one, a year earlier);
- ``access``: which alliances a police unit's statistics cover, and who may see them;
- ``definitions``: what each figure means, beside the numbers the definitions quote;
- ``queries``: the figures of one period, and the switch between the two ways of computing them (the Python path
  for SQLite is here);
- ``postgres``: the one statement per period that computes them in PostgreSQL;
- ``geometry``: repeat cases and hotspots (where cases fall);
- ``arithmetic``: percentages, medians, percentiles and changes, rounded as the definitions say;
- ``catalogue``: every figure with its label, and :func:`~reports.statistics.catalogue.case_statistics`, the entry
  point that puts a period, its previous period and last year's side by side;
- ``spreadsheet``: the same figures as rows for the CSV download.
"""
