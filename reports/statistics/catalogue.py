"""The figures, their labels and their changes: every scalar figure in report order, and the entry point that
computes a period, its previous period and the same period a year earlier side by side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from reports.models import Dispute, Incident
from reports.statistics.arithmetic import change
from reports.statistics.definitions import DEFINITIONS, LEVEL_KEYS, SATISFACTION_SCORES
from reports.statistics.periods import Period
from reports.statistics.queries import measures_settings, period_figures


@dataclass(frozen=True)
class Figure:
    """One scalar figure: where it sits in the statistics (``path``) and what a report calls it."""

    path: tuple[str, ...]
    section: str
    label: str

    @property
    def key(self) -> str:
        return ".".join(self.path)

    def value_in(self, figures: dict):
        value = figures
        for step in self.path:
            value = value[step]
        return value


def _duration_figures(section: str, path: tuple[str, ...], step: str) -> list[Figure]:
    return [
        Figure((*path, "count"), section, _("%(step)s: cases measured") % {"step": step}),
        Figure((*path, "median_seconds"), section, _("%(step)s: median (seconds)") % {"step": step}),
        Figure((*path, "p90_seconds"), section, _("%(step)s: 90th percentile (seconds)") % {"step": step}),
    ]


def figure_list() -> list[Figure]:
    """Every scalar figure in report order, labelled in the active language (call it inside a request)."""
    cases, disputes, incidents = _("All cases"), _("Dispute flags"), _("Incident reports")

    def choices(section: str, path: tuple[str, ...], template: str, pairs) -> list[Figure]:
        return [Figure((*path, str(value)), section, template % {"name": label}) for value, label in pairs]

    levels = [(LEVEL_KEYS[level], level.label) for level in Dispute.Level]
    return [
        Figure(("cases", "total"), cases, _("Cases (flags and reports)")),
        Figure(("cases", "repeat", "count"), cases, _("Repeat cases (within 50 m and 30 days)")),
        Figure(("cases", "repeat", "of"), cases, _("Cases counted for repeats")),
        Figure(("cases", "repeat", "rate_pct"), cases, _("Repeat rate (%)")),
        Figure(("disputes", "total"), disputes, _("Flags")),
        *choices(disputes, ("disputes", "by_category"), _("Category: %(name)s"), Dispute.Category.choices),
        *choices(disputes, ("disputes", "by_status"), _("Status: %(name)s"), Dispute.Status.choices),
        *choices(disputes, ("disputes", "by_level_reached"), _("Level reached: %(name)s"), levels),
        *choices(disputes, ("disputes", "by_outcome"), _("Outcome: %(name)s"), Dispute.Outcome.choices),
        *_duration_figures(disputes, ("disputes", "time_to_acknowledge"), _("Time to acknowledge")),
        *_duration_figures(disputes, ("disputes", "time_to_arrive"), _("Time to arrive")),
        *_duration_figures(disputes, ("disputes", "time_to_resolve"), _("Time to resolve")),
        Figure(("disputes", "handled_within_5_minutes", "count"), disputes, _("Resolved within 5 minutes")),
        Figure(
            ("disputes", "handled_within_5_minutes", "share_pct"),
            disputes,
            _("Resolved within 5 minutes, share of all flags (%)"),
        ),
        Figure(("incidents", "total"), incidents, _("Reports")),
        *choices(incidents, ("incidents", "by_category"), _("Category: %(name)s"), Incident.Category.choices),
        *choices(incidents, ("incidents", "by_status"), _("Status: %(name)s"), Incident.Status.choices),
        Figure(("incidents", "merged"), incidents, _("Merged into another report")),
        Figure(("incidents", "closure", "closed"), incidents, _("Resolved or closed")),
        Figure(("incidents", "closure", "of"), incidents, _("Reports neither rejected nor merged")),
        Figure(("incidents", "closure", "rate_pct"), incidents, _("Closure rate (%)")),
        *_duration_figures(incidents, ("incidents", "time_to_accept"), _("Time to accept")),
        *_duration_figures(incidents, ("incidents", "time_to_resolve"), _("Time to resolve")),
        Figure(("incidents", "satisfaction", "responses"), incidents, _("Satisfaction: ratings")),
        Figure(("incidents", "satisfaction", "average"), incidents, _("Satisfaction: average (1-5)")),
        *[
            Figure(
                ("incidents", "satisfaction", "distribution", score),
                incidents,
                _("Satisfaction: rated %(score)s") % {"score": score},
            )
            for score in SATISFACTION_SCORES
        ],
    ]


def case_statistics(*, alliance_ids: list[int], start: date, end: date) -> dict:
    """Every figure for the cases of ``alliance_ids`` raised from ``start`` to ``end`` (Asia/Shanghai calendar days,
    both included), with its change against the previous period and the same period a year earlier.

    A fixed number of queries per period whatever the number of cases (see ``period_figures``); a year's previous
    period is the year before, the same dates as last year's, and is computed once. The caller has checked that
    the viewer may see these alliances and that the period is valid (``start <= end``, at most two years)."""
    period = Period(start, end)
    previous, last_year = period.previous(), period.a_year_earlier()
    figures: dict[Period, dict] = {}
    with measures_settings():
        for each in (period, previous, last_year):
            if each not in figures:
                figures[each] = period_figures(alliance_ids=alliance_ids, period=each)
    current, before, year_ago = figures[period], figures[previous], figures[last_year]
    changes = {}
    for figure in figure_list():
        value = figure.value_in(current)
        changes[figure.key] = {
            "value": value,
            "previous_period": change(value, figure.value_in(before)),
            "last_year": change(value, figure.value_in(year_ago)),
        }
    return {
        "period": period.as_dict(),
        "previous_period": previous.as_dict(),
        "last_year_period": last_year.as_dict(),
        "cases": current["cases"],
        "disputes": current["disputes"],
        "incidents": current["incidents"],
        "hotspots": current["hotspots"],
        "changes": changes,
        "definitions": DEFINITIONS,
    }
