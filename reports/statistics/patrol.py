"""Patrol statistics: the figures a patrol report quotes ("920 patrols, 44 hidden dangers found, 230 disputes
mediated"), for one team, one alliance or every alliance under a police unit, over any period of Asia/Shanghai
calendar days, beside the previous period and the same dates a year earlier, as the case statistics are.

A shift counts in the period in which it starts (a night shift from 22:00 to 02:00 counts on its first day), and
so does everything done on it: its places, attendance, scans and patrol log. Cancelled shifts count nowhere.

Every figure is a database aggregate, the three periods side by side in the same statement (one filtered
aggregate per period): five queries whatever the number of shifts, the same figures on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import CharField, Count, Exists, F, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from groups.models import Checkpoint, CheckpointScan, PatrolLogEntry, Shift, ShiftSignup, SlotRole
from reports.models import Incident
from reports.statistics.arithmetic import change, half_up, percentage
from reports.statistics.catalogue import Figure
from reports.statistics.definitions import CLOSED_INCIDENT_STATUSES
from reports.statistics.periods import Period

PATROL_DEFINITIONS = {
    "period": (
        "A shift counts in the period in which it starts (a night shift from 22:00 to 02:00 on its first day), over "
        "Asia/Shanghai calendar days from `from` to `to`, both included; its places, attendance, checkpoint scans and "
        "patrol log count with it. Cancelled shifts count nowhere."
    ),
    "shifts.planned": "Shifts of the period, not cancelled.",
    "shifts.run": "Patrols run: shifts of the period on which at least one person checked in.",
    "places.planned": "Places planned: the sum of the places per role (fixed, mobile, patrol car) of the shifts.",
    "places.filled": (
        "Places filled: sign-ups holding a place on the shifts (not waitlisted, cancelled, removed or swapped away); "
        "`filled_pct` is places filled divided by places planned."
    ),
    "attendance.expected": "Places filled on shifts that have started at the time of the request.",
    "attendance.no_shows": (
        "Of those, the places whose holder did not come (marked after the shift's start); `no_show_pct` is no-shows "
        "divided by `expected`."
    ),
    "attendance.verified_hours": (
        "The time between accepted check-in and check-out (capped at the shift's end when closed automatically), "
        "summed over everyone on the shifts, in hours rounded half up to one decimal."
    ),
    "checkpoints": (
        "Checkpoint coverage of the shifts run on a route: each round the patrol started (the highest round scanned "
        "on the shift, at least one) expects every checkpoint of the route once; `scanned` counts the checkpoint-"
        "rounds scanned at least once by anyone on the shift, `expected` the checkpoints times the rounds, summed "
        "over the shifts run; `coverage_pct` is scanned divided by expected. `by_route` gives each route."
    ),
    "log.hidden_dangers": "Hidden dangers found: patrol log entries of that kind.",
    "log.hidden_dangers_fixed": (
        "Of those, the ones whose incident report is now resolved or closed (a hidden danger becomes a report)."
    ),
    "log.disputes_mediated": "Disputes mediated: patrol log entries of that kind.",
    "log.people_helped": "People helped: patrol log entries of that kind.",
    "log.flyers": "Flyers handed out: the sum of the flyers of every log entry.",
    "log.people_reached": "People reached: the sum of the people reached of every log entry.",
    "percentages": "Percentages are rounded half up to one decimal and are null when the denominator is 0.",
    "changes": (
        "Each figure against the previous period of the same number of days and against the same calendar dates "
        "one year earlier: `change` is this period's value minus the base, and `change_pct` that difference as a "
        "percentage of the base, null when the base is 0."
    ),
}


@dataclass(frozen=True)
class PatrolScope:
    """Whose shifts: those of one team, or of some alliances (a police unit's: every alliance under it)."""

    alliance_ids: tuple[int, ...] = ()
    team_id: int | None = None

    def shifts(self, prefix: str = "") -> Q:
        """The scope's scheduled shifts, as a filter on the shift reached through ``prefix`` (``"signup__shift__"``)."""
        scope = {f"{prefix}team_id": self.team_id} if self.team_id else {f"{prefix}alliance_id__in": self.alliance_ids}
        return Q(**scope, **{f"{prefix}status": Shift.Status.SCHEDULED})


def patrol_figure_list() -> list[Figure]:
    """Every scalar patrol figure in report order, labelled in the active language (call it inside a request)."""
    shifts, attendance, checkpoints, log = _("Shifts"), _("Attendance"), _("Checkpoints"), _("Patrol log")
    return [
        Figure(("shifts", "planned"), shifts, _("Shifts planned")),
        Figure(("shifts", "run"), shifts, _("Patrols run (shifts with a check-in)")),
        Figure(("places", "planned"), shifts, _("Places planned")),
        Figure(("places", "filled"), shifts, _("Places filled")),
        Figure(("places", "filled_pct"), shifts, _("Places filled (%)")),
        Figure(("attendance", "expected"), attendance, _("Places due to have started")),
        Figure(("attendance", "no_shows"), attendance, _("No-shows")),
        Figure(("attendance", "no_show_pct"), attendance, _("No-show rate (%)")),
        Figure(("attendance", "verified_hours"), attendance, _("Verified hours")),
        Figure(("checkpoints", "scanned"), checkpoints, _("Checkpoint-rounds scanned")),
        Figure(("checkpoints", "expected"), checkpoints, _("Checkpoint-rounds expected")),
        Figure(("checkpoints", "coverage_pct"), checkpoints, _("Checkpoint coverage (%)")),
        Figure(("log", "hidden_dangers"), log, _("Hidden dangers found")),
        Figure(("log", "hidden_dangers_fixed"), log, _("Hidden dangers fixed")),
        Figure(("log", "disputes_mediated"), log, _("Disputes mediated")),
        Figure(("log", "people_helped"), log, _("People helped")),
        Figure(("log", "flyers"), log, _("Flyers handed out (copies)")),
        Figure(("log", "people_reached"), log, _("People reached")),
    ]


def patrol_statistics(*, scope: PatrolScope, start: date, end: date) -> dict:
    """Every patrol figure of ``scope`` for the shifts starting from ``start`` to ``end`` (Asia/Shanghai calendar
    days, both included), with its change against the previous period and the same period a year earlier.

    The caller has checked that the viewer may see the scope and that the period is valid."""
    period = Period(start, end)
    periods = [period, period.previous(), period.a_year_earlier()]
    figures = _figures(scope, periods)
    current, before, year_ago = figures
    changes = {}
    for figure in patrol_figure_list():
        value = figure.value_in(current)
        changes[figure.key] = {
            "value": value,
            "previous_period": change(value, figure.value_in(before)),
            "last_year": change(value, figure.value_in(year_ago)),
        }
    return {
        "period": period.as_dict(),
        "previous_period": periods[1].as_dict(),
        "last_year_period": periods[2].as_dict(),
        **current,
        "changes": changes,
        "definitions": PATROL_DEFINITIONS,
    }


# --- the queries: each reads its rows once for the three periods ----------------------------------------------------


def _in_periods(periods: list[Period], path: str) -> list[Q]:
    """One filter per period on the start of the shift at ``path``."""
    filters = []
    for each in periods:
        first, after_last = each.bounds()
        filters.append(Q(**{f"{path}__gte": first, f"{path}__lt": after_last}))
    return filters


def _any(filters: list[Q]) -> Q:
    combined = Q()
    for each in filters:
        combined |= each
    return combined


def _places_planned():
    """The places of a shift: the sum of its places per role, read from the JSON in the database."""
    total = Value(0, output_field=IntegerField())
    for role in SlotRole.values:
        total = total + Coalesce(Cast(KT(f"slots__{role}"), IntegerField()), 0)
    return total


def _figures(scope: PatrolScope, periods: list[Period]) -> list[dict]:
    shift_in = _in_periods(periods, "starts_at")
    checked_in = ShiftSignup.objects.filter(shift=OuterRef("pk"), checked_in_at__isnull=False)
    shifts = (
        Shift.objects.filter(scope.shifts(), _any(shift_in))
        .annotate(was_run=Exists(checked_in), places=_places_planned())
        .aggregate(
            **{
                name: aggregate
                for i, within in enumerate(shift_in)
                for name, aggregate in (
                    (f"planned_{i}", Count("pk", filter=within)),
                    (f"run_{i}", Count("pk", filter=within & Q(was_run=True))),
                    (f"places_{i}", Sum("places", filter=within)),
                )
            }
        )
    )

    now = timezone.now()
    signup_in = _in_periods(periods, "shift__starts_at")
    holding = Q(status=ShiftSignup.Status.CONFIRMED)
    started = holding & Q(shift__starts_at__lte=now)
    signups = ShiftSignup.objects.filter(scope.shifts("shift__"), _any(signup_in)).aggregate(
        **{
            name: aggregate
            for i, within in enumerate(signup_in)
            for name, aggregate in (
                (f"filled_{i}", Count("pk", filter=within & holding)),
                (f"expected_{i}", Count("pk", filter=within & started)),
                (f"no_shows_{i}", Count("pk", filter=within & started & Q(attendance=ShiftSignup.Attendance.NO_SHOW))),
                (f"seconds_{i}", Sum("verified_seconds", filter=within)),
            )
        }
    )

    log_in = _in_periods(periods, "signup__shift__starts_at")
    kind = PatrolLogEntry.Kind
    fixed = Incident.objects.filter(pk=OuterRef("incident_id"), status__in=CLOSED_INCIDENT_STATUSES)
    log = (
        PatrolLogEntry.objects.filter(scope.shifts("signup__shift__"), _any(log_in))
        .annotate(is_fixed=Exists(fixed))
        .aggregate(
            **{
                name: aggregate
                for i, within in enumerate(log_in)
                for name, aggregate in (
                    (f"hidden_dangers_{i}", Count("pk", filter=within & Q(kind=kind.HIDDEN_DANGER))),
                    (
                        f"hidden_dangers_fixed_{i}",
                        Count("pk", filter=within & Q(kind=kind.HIDDEN_DANGER, is_fixed=True)),
                    ),
                    (f"disputes_mediated_{i}", Count("pk", filter=within & Q(kind=kind.DISPUTE_MEDIATED))),
                    (f"people_helped_{i}", Count("pk", filter=within & Q(kind=kind.PERSON_HELPED))),
                    (f"flyers_{i}", Sum("flyers", filter=within)),
                    (f"people_reached_{i}", Sum("people_reached", filter=within)),
                )
            }
        )
    )

    coverage = _checkpoint_coverage(scope, periods)
    figures = []
    for i in range(len(periods)):
        places_planned, filled = shifts[f"places_{i}"] or 0, signups[f"filled_{i}"]
        expected, no_shows = signups[f"expected_{i}"], signups[f"no_shows_{i}"]
        routes = coverage[i]
        scanned = sum(route["scanned"] for route in routes)
        rounds_expected = sum(route["expected"] for route in routes)
        figures.append(
            {
                "shifts": {"planned": shifts[f"planned_{i}"], "run": shifts[f"run_{i}"]},
                "places": {
                    "planned": places_planned,
                    "filled": filled,
                    "filled_pct": percentage(filled, places_planned),
                },
                "attendance": {
                    "expected": expected,
                    "no_shows": no_shows,
                    "no_show_pct": percentage(no_shows, expected),
                    "verified_hours": half_up((signups[f"seconds_{i}"] or 0) / 3600, "0.1"),
                },
                "checkpoints": {
                    "scanned": scanned,
                    "expected": rounds_expected,
                    "coverage_pct": percentage(scanned, rounds_expected),
                    "by_route": routes,
                },
                "log": {
                    "hidden_dangers": log[f"hidden_dangers_{i}"],
                    "hidden_dangers_fixed": log[f"hidden_dangers_fixed_{i}"],
                    "disputes_mediated": log[f"disputes_mediated_{i}"],
                    "people_helped": log[f"people_helped_{i}"],
                    "flyers": log[f"flyers_{i}"] or 0,
                    "people_reached": log[f"people_reached_{i}"] or 0,
                },
            }
        )
    return figures


def _checkpoint_coverage(scope: PatrolScope, periods: list[Period]) -> list[list[dict]]:
    """Per period, every route with a shift run on it: checkpoint-rounds scanned and expected (two queries)."""
    shift_in = _in_periods(periods, "starts_at")
    highest_round = (
        CheckpointScan.objects.filter(signup__shift=OuterRef("pk"), checkpoint__route_id=OuterRef("route_id"))
        .values("signup__shift")
        .annotate(highest=Max("round"))
        .values("highest")
    )
    checkpoints = (
        Checkpoint.objects.filter(route=OuterRef("route_id"))
        .values("route")
        .annotate(count=Count("pk"))
        .values("count")
    )
    checked_in = ShiftSignup.objects.filter(shift=OuterRef("pk"), checked_in_at__isnull=False)
    expected_rows = (
        Shift.objects.filter(scope.shifts(), _any(shift_in), route__isnull=False)
        .filter(Exists(checked_in))
        .annotate(rounds=Coalesce(Subquery(highest_round), 1), route_checkpoints=Coalesce(Subquery(checkpoints), 0))
        .values("route_id", "route__name")
        .annotate(
            **{
                f"expected_{i}": Sum(F("rounds") * F("route_checkpoints"), filter=within)
                for i, within in enumerate(shift_in)
            }
        )
        .order_by("route_id")
    )

    scan_in = _in_periods(periods, "signup__shift__starts_at")
    # A checkpoint-round counts once per shift, however many on the patrol scanned it.
    checkpoint_round = Concat(
        Cast("signup__shift_id", CharField()),
        Value(":"),
        Cast("checkpoint_id", CharField()),
        Value(":"),
        Cast("round", CharField()),
        output_field=CharField(),
    )
    scanned_rows = (
        CheckpointScan.objects.filter(
            scope.shifts("signup__shift__"), _any(scan_in), checkpoint__route_id=F("signup__shift__route_id")
        )
        .filter(Exists(ShiftSignup.objects.filter(shift=OuterRef("signup__shift"), checked_in_at__isnull=False)))
        .values("checkpoint__route_id")
        .annotate(
            **{
                f"scanned_{i}": Count(checkpoint_round, distinct=True, filter=within)
                for i, within in enumerate(scan_in)
            }
        )
        .order_by()
    )
    scanned = {row["checkpoint__route_id"]: row for row in scanned_rows}
    per_period: list[list[dict]] = [[] for _ in periods]
    for row in expected_rows:
        for i in range(len(periods)):
            expected = row[f"expected_{i}"] or 0
            if not expected:
                continue
            count = scanned.get(row["route_id"], {}).get(f"scanned_{i}", 0)
            per_period[i].append(
                {
                    "route": {"id": row["route_id"], "name": row["route__name"]},
                    "scanned": count,
                    "expected": expected,
                    "coverage_pct": percentage(count, expected),
                }
            )
    return per_period
