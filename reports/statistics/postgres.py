"""The statistics of one period computed by PostgreSQL: one statement reads the period's flags and reports (and the
30 days before it, for repeat cases) once, and returns a single row of grouped counts, times, repeat counts and
hotspots.

Exactly the figures of the Python path (``reports.statistics.geometry`` and ``arithmetic``), which the embedded
SQLite default uses and tests/reports/test_statistics_in_postgres.py compares with this one:

- times in seconds are ``EXTRACT(EPOCH ...)`` of the difference (an exact numeric) turned into the nearest float8,
  as Python's ``timedelta.total_seconds()``;
- the median and the 90th percentile by nearest rank are picked by ``percentile_disc`` (see ``RANKS``);
- distances are the Python path's local plane, in the same float8 operations in the same order;
- hotspot cells round the stored decimals half away from zero (``round(numeric, 3)``), as ``ROUND_HALF_UP``.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

from django.db import connection, transaction

from config.geo import METRES_PER_DEGREE_LATITUDE
from reports.models import Dispute, Incident
from reports.statistics.arithmetic import durations_from_ranks
from reports.statistics.definitions import (
    HANDLED_WITHIN_SECONDS,
    HOTSPOT_COUNT,
    HOTSPOT_GRID,
    REPEAT_DISTANCE_METRES,
    REPEAT_WINDOW,
)
from reports.statistics.periods import Period

# A "near cell" is small enough that any two points in it lie within 50 m of each other (0.0003 degree: at most
# 33.4 m along each axis, 47.2 m across), so an earlier case in a case's own near cell settles it as a repeat
# without measuring; only the cases left undecided are measured against the cases in the grid cells around them.
NEAR_CELL_DEGREES = 0.0003

# The search around an undecided case reaches 0.1% further than 50 m: a case at exactly 50 m is still searched
# for whatever the rounding of the degrees (the distance itself is then measured exactly as in Python).
SEARCH_MARGIN = 1.001

WORK_MEM = "64MB"

# ``percentile_disc(f)`` is the ``ceil(f * n)``-th smallest of n values (computed in float8). 0.5 gives the lower
# middle value, 0.5 + 1e-9 the upper one (the same one when n is odd; exact for n below 500 million), and 0.9 the
# 90th percentile by nearest rank (``ceil(0.9 * n)`` in float8 is Python's integer ``-(-90 * n // 100)`` for every
# n checked, up to five million): the median is then the mean of the two middle values, in the same float
# operations as ``statistics.median`` (``percentile_cont`` would interpolate in another order of operations).
RANKS = [0.5, 0.5 + 1e-9, 0.9]

PERIOD_SQL = """
WITH
-- The period's flags and reports and those of the 30 days before it (the earlier cases of repeats), read once.
disputes AS MATERIALIZED (
    SELECT id, alliance_id, flagged_at AS at, category, status, level, outcome, acknowledged_at, arrived_at,
           resolved_at, latitude, longitude
    FROM reports_dispute
    WHERE alliance_id = ANY(%(alliances)s) AND flagged_at >= %(reach)s AND flagged_at < %(until)s
),
incidents AS MATERIALIZED (
    SELECT id, alliance_id, created_at AS at, category, status, satisfaction, merged_into_id, accepted_at,
           resolved_at, latitude, longitude
    FROM reports_incident
    WHERE alliance_id = ANY(%(alliances)s) AND created_at >= %(reach)s AND created_at < %(until)s
),
-- The period's flags and reports in groups, counted (the same groups as the Python path's grouped counts).
dispute_counts AS (
    SELECT category, status, level, outcome, count(*) AS n
    FROM disputes WHERE at >= %(since)s GROUP BY category, status, level, outcome
),
incident_counts AS (
    SELECT category, status, satisfaction, merged_into_id IS NOT NULL AS is_merged, count(*) AS n
    FROM incidents WHERE at >= %(since)s GROUP BY category, status, satisfaction, is_merged
),
-- Seconds from raising a case to each step, for the period's cases (merged reports left out of the times).
dispute_times AS (
    SELECT EXTRACT(EPOCH FROM acknowledged_at - at)::float8 AS acknowledge,
           EXTRACT(EPOCH FROM arrived_at - at)::float8 AS arrive,
           EXTRACT(EPOCH FROM resolved_at - at)::float8 AS resolve
    FROM disputes WHERE at >= %(since)s
),
incident_times AS (
    SELECT EXTRACT(EPOCH FROM accepted_at - at)::float8 AS accept,
           EXTRACT(EPOCH FROM resolved_at - at)::float8 AS resolve
    FROM incidents WHERE at >= %(since)s AND merged_into_id IS NULL
),
-- The cases repeats and hotspots count (not false alarms, rejected or merged reports) of the period and the 30 days
-- before it, each with its grid cells for the search of earlier cases (the 0.001-degree cell and the 30-day slice of
-- time) and with whether an earlier case of its alliance in its own near cell was raised at most 30 days before it
-- (the frame: from 30 days before it up to, not including, its own instant; timestamps are whole microseconds). The
-- near-cell indexes of migration reports 0005 hold these columns in the window's order, so PostgreSQL merges the
-- two kinds' index-only scans instead of reading the tables and sorting: the near cells (NEAR_CELL_DEGREES) must be
-- written exactly as the indexes write them (PostgreSQL uses an expression index only for the same expression),
-- and the kinds' conditions are columns filtered outside the UNION ALL (a branch with a WHERE of its own is not
-- merged in order). tests/reports/test_statistics_in_postgres.py checks that the plan can use the indexes.
places AS MATERIALIZED (
    SELECT *, floor(lat / %(grid)s)::int AS row, floor(lon / %(grid)s)::int AS col,
           -- whole seconds (exact in float8), so that a case 30 days before another is at most one slice before it
           floor(date_part('epoch', date_trunc('second', at)) / %(window)s)::int AS slice
    FROM (
        SELECT dispute, id, alliance_id, at, latitude, longitude, latitude::float8 AS lat, longitude::float8 AS lon,
               count(*) OVER (
                   PARTITION BY alliance_id, floor(latitude::float8 / 0.0003::float8),
                                floor(longitude::float8 / 0.0003::float8) ORDER BY at
                   RANGE BETWEEN make_interval(secs => %(window)s) PRECEDING AND interval '1 microsecond' PRECEDING
               ) > 0 AS near_earlier
        FROM (
            SELECT 1 AS dispute, id, alliance_id, flagged_at AS at, latitude, longitude,
                   outcome <> %(false_alarm)s AS counted
            FROM reports_dispute
            UNION ALL
            SELECT 0, id, alliance_id, created_at, latitude, longitude,
                   merged_into_id IS NULL AND status <> %(rejected)s
            FROM reports_incident
        ) both_kinds
        WHERE alliance_id = ANY(%(alliances)s) AND at >= %(reach)s AND at < %(until)s AND counted
    ) ranked
),
-- The period's cases: how many, and how many an earlier case in their near cell settles.
shortcut AS (
    SELECT count(*) AS places, count(*) FILTER (WHERE near_earlier) AS repeats FROM places WHERE at >= %(since)s
),
-- The others, with the metres per degree of longitude at their latitude and the cells that can hold a case within
-- 50 m of them (its latitude and longitude give or take 50 m, with a margin for rounding).
undecided AS MATERIALIZED (
    SELECT *, floor((lat - %(lat_reach)s) / %(grid)s)::int - row AS row_from,
           floor((lat + %(lat_reach)s) / %(grid)s)::int - row AS row_to,
           floor((lon - %(distance)s * %(margin)s / metres_east) / %(grid)s)::int - col AS col_from,
           floor((lon + %(distance)s * %(margin)s / metres_east) / %(grid)s)::int - col AS col_to
    FROM (
        SELECT *, %(metres)s * greatest(cos(radians(lat)), 0.01) AS metres_east
        FROM places WHERE at >= %(since)s AND NOT near_earlier
    ) measured
),
offsets AS MATERIALIZED (
    SELECT d_row, d_col, d_slice
    FROM generate_series((SELECT min(row_from) FROM undecided), (SELECT max(row_to) FROM undecided)) AS d_row,
         generate_series((SELECT min(col_from) FROM undecided), (SELECT max(col_to) FROM undecided)) AS d_col,
         generate_series(-1, 0) AS d_slice
),
-- One probe per cell around an undecided case, in its own 30-day slice and the one before; the probes are joined
-- to the cases on equality (a hash join) rather than searching through every earlier case for each.
probes AS (
    SELECT p.*, p.row + o.d_row AS probe_row, p.col + o.d_col AS probe_col, p.slice + o.d_slice AS probe_slice
    FROM undecided p
    JOIN offsets o ON o.d_row BETWEEN p.row_from AND p.row_to AND o.d_col BETWEEN p.col_from AND p.col_to
),
measured AS (
    SELECT count(DISTINCT (p.dispute, p.id)) AS repeats FROM probes p
    WHERE EXISTS (
        SELECT 1 FROM places e
        WHERE e.alliance_id = p.alliance_id AND e.row = p.probe_row AND e.col = p.probe_col
          AND e.slice = p.probe_slice
          AND e.at < p.at AND e.at >= p.at - make_interval(secs => %(window)s)
          AND ((p.lat - e.lat) * %(metres)s) * ((p.lat - e.lat) * %(metres)s)
              + ((p.lon - e.lon) * p.metres_east) * ((p.lon - e.lon) * p.metres_east) <= %(distance)s * %(distance)s
    )
),
-- The period's cases by 0.001-degree cell, the stored decimals rounded half away from zero.
hotspots AS (
    SELECT round(latitude, %(places)s) AS latitude, round(longitude, %(places)s) AS longitude,
           sum(dispute) AS disputes, count(*) - sum(dispute) AS incidents
    FROM places WHERE at >= %(since)s
    GROUP BY 1, 2
    ORDER BY count(*) DESC, 1, 2
    LIMIT %(hotspots)s
)
SELECT
    (SELECT json_agg(dispute_counts) FROM dispute_counts) AS dispute_counts,
    (SELECT json_agg(incident_counts) FROM incident_counts) AS incident_counts,
    (SELECT places FROM shortcut) AS places,
    (SELECT repeats FROM shortcut) + (SELECT repeats FROM measured) AS repeats,
    (SELECT array_agg(ARRAY[latitude, longitude, disputes, incidents]) FROM hotspots) AS hotspots,
    -- each: how many times, and [lower middle, upper middle, 90th percentile] from one sort (see RANKS)
    count(d.acknowledge) AS acknowledge_count,
    percentile_disc(%(ranks)s) WITHIN GROUP (ORDER BY d.acknowledge) AS acknowledge_ranks,
    count(d.arrive) AS arrive_count,
    percentile_disc(%(ranks)s) WITHIN GROUP (ORDER BY d.arrive) AS arrive_ranks,
    count(d.resolve) AS resolve_count,
    percentile_disc(%(ranks)s) WITHIN GROUP (ORDER BY d.resolve) AS resolve_ranks,
    count(*) FILTER (WHERE d.resolve <= %(within)s) AS resolved_within,
    (SELECT count(accept) FROM incident_times) AS accept_count,
    (SELECT percentile_disc(%(ranks)s) WITHIN GROUP (ORDER BY accept) FROM incident_times) AS accept_ranks,
    (SELECT count(resolve) FROM incident_times) AS incident_resolve_count,
    (SELECT percentile_disc(%(ranks)s) WITHIN GROUP (ORDER BY resolve) FROM incident_times) AS incident_resolve_ranks
FROM dispute_times d
"""


def _json(value) -> list:
    """A ``json`` column: decoded by psycopg, or text where a loader keeps it so; null for no rows."""
    return (json.loads(value) if isinstance(value, str) else value) or []


@contextmanager
def statistics_settings():
    """Memory to sort and hash in, and no JIT, for the statistics' statements (one transaction around them).

    A year of a city's cases is ~120,000 rows to sort and hash: in the default 4 MB of work_mem they would spill
    to disk, and the planner's cost would call in JIT compilation, which costs more than it saves here. Both
    settings end with the transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [WORK_MEM])
        yield


def statement_params(*, alliance_ids: list[int], period: Period) -> dict:
    """PERIOD_SQL's parameters for the period."""
    since, until = period.bounds()
    return {
        "alliances": list(alliance_ids),
        "since": since,
        "until": until,
        "reach": since - REPEAT_WINDOW,
        "window": REPEAT_WINDOW.total_seconds(),
        "ranks": RANKS,
        "grid": float(HOTSPOT_GRID),
        "places": -HOTSPOT_GRID.as_tuple().exponent,
        "hotspots": HOTSPOT_COUNT,
        "metres": METRES_PER_DEGREE_LATITUDE,
        "distance": REPEAT_DISTANCE_METRES,
        "lat_reach": REPEAT_DISTANCE_METRES * SEARCH_MARGIN / METRES_PER_DEGREE_LATITUDE,
        "margin": SEARCH_MARGIN,
        "within": float(HANDLED_WITHIN_SECONDS),
        "false_alarm": Dispute.Outcome.FALSE_ALARM.value,
        "rejected": Incident.Status.REJECTED.value,
    }


def postgres_measures(*, alliance_ids: list[int], period: Period) -> dict:
    """The period's grouped counts, times, repeat cases and hotspots in one statement (see the module's docstring);
    the same dict as ``reports.statistics.queries.python_measures``. Run it inside :func:`statistics_settings`."""
    params = statement_params(alliance_ids=alliance_ids, period=period)
    with connection.cursor() as cursor:
        cursor.execute(PERIOD_SQL, params)
        columns = [column.name for column in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))

    def times(prefix: str) -> dict:
        return durations_from_ranks(row[f"{prefix}_count"], *(row[f"{prefix}_ranks"] or (None, None, None)))

    return {
        "dispute_counts": _json(row["dispute_counts"]),
        "incident_counts": _json(row["incident_counts"]),
        "time_to_acknowledge": times("acknowledge"),
        "time_to_arrive": times("arrive"),
        "time_to_resolve": times("resolve"),
        "resolved_within": row["resolved_within"],
        "time_to_accept": times("accept"),
        "incident_time_to_resolve": times("incident_resolve"),
        "repeats": row["repeats"],
        "repeat_of": row["places"],
        "hotspots": [
            {
                "latitude": float(lat),
                "longitude": float(lon),
                "cases": int(disputes + incidents),
                "disputes": int(disputes),
                "incidents": int(incidents),
            }
            for lat, lon, disputes, incidents in row["hotspots"] or []
        ],
    }
