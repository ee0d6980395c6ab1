"""The figures of one period: the database reads (four queries, whatever the number of cases) and the figures built
from their rows. Counts are database aggregates; medians and percentiles are computed in Python over the period's
values, so SQLite and PostgreSQL give the same answer."""

from __future__ import annotations

from decimal import Decimal

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


def _dispute_figures(counts: list[dict], rows: list[tuple]) -> dict:
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
    to_resolve = seconds_between((r["flagged_at"], r["resolved_at"]) for r in rows)
    within = sum(1 for seconds in to_resolve if seconds <= HANDLED_WITHIN_SECONDS)
    return {
        "total": total,
        "by_category": by_category,
        "by_status": by_status,
        "by_level_reached": by_level,
        "by_outcome": by_outcome,
        "time_to_acknowledge": durations(seconds_between((r["flagged_at"], r["acknowledged_at"]) for r in rows)),
        "time_to_arrive": durations(seconds_between((r["flagged_at"], r["arrived_at"]) for r in rows)),
        "time_to_resolve": durations(to_resolve),
        "handled_within_5_minutes": {"count": within, "of": total, "share_pct": percentage(within, total)},
    }


def _incident_figures(counts: list[dict], rows: list[tuple]) -> dict:
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
    kept = [r for r in rows if r["merged_into_id"] is None]
    return {
        "total": sum(by_status.values()),
        "by_category": by_category,
        "by_status": by_status,
        "merged": merged,
        "closure": {"closed": closed, "of": closable, "rate_pct": percentage(closed, closable)},
        "time_to_accept": durations(seconds_between((r["created_at"], r["accepted_at"]) for r in kept)),
        "time_to_resolve": durations(seconds_between((r["created_at"], r["resolved_at"]) for r in kept)),
        "satisfaction": {
            "responses": responses,
            "average": half_up(Decimal(rating_sum) / Decimal(responses), "0.01") if responses else None,
            "distribution": distribution,
        },
    }


def period_figures(*, alliance_ids: list[int], period: Period) -> dict:
    """Four queries: per kind of case, one grouped count and one read of the rows (reaching 30 days back, for
    repeat cases)."""
    since, until = period.bounds()
    reach = since - REPEAT_WINDOW
    disputes = Dispute.objects.filter(alliance_id__in=alliance_ids).order_by()
    incidents = Incident.objects.filter(alliance_id__in=alliance_ids).order_by()

    dispute_counts = list(
        disputes.filter(flagged_at__gte=since, flagged_at__lt=until)
        .values("category", "status", "level", "outcome")
        .annotate(n=Count("pk"))
    )
    incident_counts = list(
        incidents.filter(created_at__gte=since, created_at__lt=until)
        .annotate(is_merged=ExpressionWrapper(Q(merged_into__isnull=False), output_field=BooleanField()))
        .values("category", "status", "satisfaction", "is_merged")
        .annotate(n=Count("pk"))
    )
    dispute_rows = list(
        disputes.filter(flagged_at__gte=reach, flagged_at__lt=until).values(
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
        incidents.filter(created_at__gte=reach, created_at__lt=until).values(
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
    repeats = repeat_count(places, since=since)

    dispute_figures = _dispute_figures(dispute_counts, [r for r in dispute_rows if r["flagged_at"] >= since])
    incident_figures = _incident_figures(incident_counts, [r for r in incident_rows if r["created_at"] >= since])
    return {
        "cases": {
            "total": dispute_figures["total"] + incident_figures["total"],
            "repeat": {"count": repeats, "of": len(in_period), "rate_pct": percentage(repeats, len(in_period))},
        },
        "disputes": dispute_figures,
        "incidents": incident_figures,
        "hotspots": hotspots(in_period),
    }
