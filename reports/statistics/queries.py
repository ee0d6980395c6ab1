"""The figures of one period: the database reads and the figures built from them, whatever the number of cases.

On PostgreSQL one statement per period computes the grouped counts, times, repeat cases and hotspots in the
database, reading the period's rows once (``reports.statistics.postgres``); on SQLite, the embedded default,
:func:`python_measures` counts in two grouped queries and reads the rows (two more) to compute the rest here. Both
give exactly the same figures (tests/reports/test_statistics_in_postgres.py compares them on PostgreSQL)."""

from __future__ import annotations

from contextlib import nullcontext
from decimal import Decimal

from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, Q

from reports.models import Dispute, Incident
from reports.statistics.arithmetic import durations, half_up, percentage, seconds_between
from reports.statistics.definitions import (
    CLOSED_INCIDENT_STATUSES,
    HANDLED_WITHIN_SECONDS,
    LEVEL_KEYS,
    REPEAT_WINDOW,
    SATISFACTION_SCORES,
)
from reports.statistics.geometry import CasePlace, hotspots, repeat_count
from reports.statistics.periods import Period
from reports.statistics.postgres import postgres_measures, statistics_settings


def measured_in_postgres() -> bool:
    """The one switch between the two ways of computing the measures."""
    return connection.vendor == "postgresql"


def _dispute_figures(counts: list[dict], measures: dict) -> dict:
    by_category = dict.fromkeys(Dispute.Category.values, 0)
    by_status = dict.fromkeys(Dispute.Status.values, 0)
    by_level = dict.fromkeys(LEVEL_KEYS.values(), 0)
    by_outcome = dict.fromkeys(Dispute.Outcome.values, 0)
    for group in counts:
        n = group["n"]
        by_category[group["category"]] = by_category.get(group["category"], 0) + n
        by_status[group["status"]] = by_status.get(group["status"], 0) + n
        level = LEVEL_KEYS.get(group["level"], str(group["level"]))
        by_level[level] = by_level.get(level, 0) + n
        if group["outcome"]:
            by_outcome[group["outcome"]] = by_outcome.get(group["outcome"], 0) + n
    total = sum(by_status.values())
    within = measures["resolved_within"]
    return {
        "total": total,
        "by_category": by_category,
        "by_status": by_status,
        "by_level_reached": by_level,
        "by_outcome": by_outcome,
        "time_to_acknowledge": measures["time_to_acknowledge"],
        "time_to_arrive": measures["time_to_arrive"],
        "time_to_resolve": measures["time_to_resolve"],
        "handled_within_5_minutes": {"count": within, "of": total, "share_pct": percentage(within, total)},
    }


def _incident_figures(counts: list[dict], measures: dict) -> dict:
    by_category = dict.fromkeys(Incident.Category.values, 0)
    by_status = dict.fromkeys(Incident.Status.values, 0)
    distribution = dict.fromkeys(SATISFACTION_SCORES, 0)
    merged = closed = closable = 0
    for group in counts:
        n = group["n"]
        by_category[group["category"]] = by_category.get(group["category"], 0) + n
        by_status[group["status"]] = by_status.get(group["status"], 0) + n
        if group["satisfaction"] is not None:
            score = str(group["satisfaction"])
            distribution[score] = distribution.get(score, 0) + n
        if group["is_merged"]:
            merged += n
        elif group["status"] != Incident.Status.REJECTED:
            closable += n
            if group["status"] in CLOSED_INCIDENT_STATUSES:
                closed += n
    responses = sum(distribution.values())
    rating_sum = sum(int(score) * n for score, n in distribution.items())
    return {
        "total": sum(by_status.values()),
        "by_category": by_category,
        "by_status": by_status,
        "merged": merged,
        "closure": {"closed": closed, "of": closable, "rate_pct": percentage(closed, closable)},
        "time_to_accept": measures["time_to_accept"],
        "time_to_resolve": measures["incident_time_to_resolve"],
        "satisfaction": {
            "responses": responses,
            "average": half_up(Decimal(rating_sum) / Decimal(responses), "0.01") if responses else None,
            "distribution": distribution,
        },
    }


def python_measures(*, alliance_ids: list[int], period: Period) -> dict:
    """Grouped counts (two queries), and times, repeat cases and hotspots computed here from the rows (two more,
    reaching 30 days back for repeat cases): the SQLite path, and what the PostgreSQL statement is compared with."""
    since, until = period.bounds()
    reach = since - REPEAT_WINDOW
    dispute_counts = list(
        Dispute.objects.filter(alliance_id__in=alliance_ids, flagged_at__gte=since, flagged_at__lt=until)
        .order_by()
        .values("category", "status", "level", "outcome")
        .annotate(n=Count("pk"))
    )
    incident_counts = list(
        Incident.objects.filter(alliance_id__in=alliance_ids, created_at__gte=since, created_at__lt=until)
        .order_by()
        .annotate(is_merged=ExpressionWrapper(Q(merged_into__isnull=False), output_field=BooleanField()))
        .values("category", "status", "satisfaction", "is_merged")
        .annotate(n=Count("pk"))
    )
    dispute_rows = list(
        Dispute.objects.filter(alliance_id__in=alliance_ids, flagged_at__gte=reach, flagged_at__lt=until)
        .order_by()
        .values(
            "alliance_id",
            "flagged_at",
            "acknowledged_at",
            "arrived_at",
            "resolved_at",
            "outcome",
            "latitude",
            "longitude",
        )
    )
    incident_rows = list(
        Incident.objects.filter(alliance_id__in=alliance_ids, created_at__gte=reach, created_at__lt=until)
        .order_by()
        .values(
            "alliance_id",
            "created_at",
            "accepted_at",
            "resolved_at",
            "status",
            "merged_into_id",
            "latitude",
            "longitude",
        )
    )

    places = [
        CasePlace(r["alliance_id"], r["flagged_at"], r["latitude"], r["longitude"], "dispute")
        for r in dispute_rows
        if r["outcome"] != Dispute.Outcome.FALSE_ALARM
    ] + [
        CasePlace(r["alliance_id"], r["created_at"], r["latitude"], r["longitude"], "incident")
        for r in incident_rows
        if r["merged_into_id"] is None and r["status"] != Incident.Status.REJECTED
    ]
    in_period = [p for p in places if p.at >= since]
    flags = [r for r in dispute_rows if r["flagged_at"] >= since]
    kept = [r for r in incident_rows if r["created_at"] >= since and r["merged_into_id"] is None]
    to_resolve = seconds_between((r["flagged_at"], r["resolved_at"]) for r in flags)
    return {
        "dispute_counts": dispute_counts,
        "incident_counts": incident_counts,
        "time_to_acknowledge": durations(seconds_between((r["flagged_at"], r["acknowledged_at"]) for r in flags)),
        "time_to_arrive": durations(seconds_between((r["flagged_at"], r["arrived_at"]) for r in flags)),
        "time_to_resolve": durations(to_resolve),
        "resolved_within": sum(1 for seconds in to_resolve if seconds <= HANDLED_WITHIN_SECONDS),
        "time_to_accept": durations(seconds_between((r["created_at"], r["accepted_at"]) for r in kept)),
        "incident_time_to_resolve": durations(seconds_between((r["created_at"], r["resolved_at"]) for r in kept)),
        "repeats": repeat_count(places, since=since),
        "repeat_of": len(in_period),
        "hotspots": hotspots(in_period),
    }


def measures_settings():
    """Around all the periods of a request: PostgreSQL's settings for the statistics, nothing for SQLite."""
    return statistics_settings() if measured_in_postgres() else nullcontext()


def period_figures(*, alliance_ids: list[int], period: Period) -> dict:
    """One statement on PostgreSQL, four queries on SQLite (see :func:`python_measures`)."""
    measure = postgres_measures if measured_in_postgres() else python_measures
    measures = measure(alliance_ids=alliance_ids, period=period)
    dispute_figures = _dispute_figures(measures["dispute_counts"], measures)
    incident_figures = _incident_figures(measures["incident_counts"], measures)
    repeats, of = measures["repeats"], measures["repeat_of"]
    return {
        "cases": {
            "total": dispute_figures["total"] + incident_figures["total"],
            "repeat": {"count": repeats, "of": of, "rate_pct": percentage(repeats, of)},
        },
        "disputes": dispute_figures,
        "incidents": incident_figures,
        "hotspots": measures["hotspots"],
    }
