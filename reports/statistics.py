"""Case statistics: the figures the police put in their reports ("closure rate 96.5%", "incidents -9.1% year on
year"), for one alliance or for every alliance under a police unit, over any period of Asia/Shanghai calendar days.

A case belongs to the period in which it was raised: a dispute flag by ``flagged_at``, an incident report by
``created_at`` (when it was reported, not when it happened). Counts are database aggregates; medians and
percentiles are computed here in Python over the period's values, so both SQLite and PostgreSQL give the same
answer. Each figure is computed for the period, the previous period of the same length and the same dates a year
earlier: a fixed number of queries (four per period), whatever the number of cases.

Every figure has a one-sentence definition in :data:`DEFINITIONS`, returned with the figures so that a report can
quote them honestly.
"""

from __future__ import annotations

import math
import statistics as pystatistics
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import is_police
from alliance.models import Alliance, Station, StationStaff
from reports.models import Dispute, Incident

DEFAULT_DAYS = 30
MAX_YEARS = 2
# Outside these the previous period and last year's would leave the calendar; nobody reports on them anyway.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)

HANDLED_WITHIN_SECONDS = 300
REPEAT_DISTANCE_METRES = 50.0
REPEAT_WINDOW = timedelta(days=30)
HOTSPOT_GRID = Decimal("0.001")  # degrees: cells about 111 m north-south, 95 m east-west at 31 degrees north
HOTSPOT_COUNT = 10

METRES_PER_DEGREE_LATITUDE = 111_320.0

LEVEL_KEYS = {Dispute.Level.MALL: "mall", Dispute.Level.OFFICE: "office", Dispute.Level.STATION: "station"}
CLOSED_INCIDENT_STATUSES = (Incident.Status.RESOLVED, Incident.Status.CLOSED)
SATISFACTION_SCORES = ("1", "2", "3", "4", "5")

DEFINITIONS = {
    "period": (
        "A case counts in the period in which it was raised (a dispute flag when it was flagged, an incident report "
        "when it was reported), over Asia/Shanghai calendar days from `from` to `to`, both included."
    ),
    "cases.total": "Dispute flags and incident reports raised in the period, whatever their status.",
    "cases.repeat": (
        "A repeat case is a case raised within 50 m of an earlier case of the same alliance raised at most 30 days "
        "before it, where cases are flags and reports except reports rejected or merged into another report and "
        "flags resolved as false alarms; the rate is repeat cases divided by all such cases of the period (`of`)."
    ),
    "hotspots": (
        "The period's cases (counted as for repeat cases) grouped into grid cells by rounding latitude and "
        "longitude to 0.001 degree (about 111 m by 95 m), the ten cells with the most cases first, each with the "
        "cell's centre."
    ),
    "disputes.total": "Dispute flags raised in the period, including cancelled and still open ones.",
    "disputes.by_category": "Dispute flags of the period by the category the reporter chose.",
    "disputes.by_status": "Dispute flags of the period by their status at the time of the request.",
    "disputes.by_level_reached": (
        "Dispute flags of the period by the highest rung of the handling ladder they reached (mall management, "
        "community police office, police station); a flag starts higher when nobody is on duty below."
    ),
    "disputes.by_outcome": (
        "Resolved dispute flags of the period by how they ended: mediated, settled on site, referred to the police "
        "station, or false alarm."
    ),
    "disputes.time_to_acknowledge": (
        "Seconds from flagging to the first responder's acknowledgement (or first arrival or resolution when nobody "
        "acknowledged before), over the period's flags that got one (`count`)."
    ),
    "disputes.time_to_arrive": (
        "Seconds from flagging to the first responder's arrival on the scene, over the period's flags with an "
        "arrival (`count`)."
    ),
    "disputes.time_to_resolve": ("Seconds from flagging to resolution, over the period's resolved flags (`count`)."),
    "disputes.handled_within_5_minutes": (
        "Dispute flags resolved at most 300 seconds after they were flagged (`count`), divided by all flags raised "
        "in the period (`of`), cancelled, unresolved and still open flags included."
    ),
    "incidents.total": "Incident reports raised in the period, whatever their status.",
    "incidents.by_category": "Incident reports of the period by the category the reporter chose.",
    "incidents.by_status": "Incident reports of the period by their status at the time of the request.",
    "incidents.merged": "Incident reports of the period merged into another report of the same incident.",
    "incidents.closure": (
        "Incident reports of the period now resolved or closed (`closed`), divided by the period's reports that "
        "were neither rejected nor merged into another report (`of`)."
    ),
    "incidents.time_to_accept": (
        "Seconds from reporting to acceptance by the police, over the period's reports, not merged, that were "
        "accepted (`count`)."
    ),
    "incidents.time_to_resolve": (
        "Seconds from reporting to resolution, over the period's reports, not merged, that were resolved (`count`)."
    ),
    "incidents.satisfaction": (
        "The reporters' ratings from 1 to 5 of the period's reports: how many were rated (`responses`), their mean "
        "rounded to two decimals (`average`), and how many gave each rating (`distribution`)."
    ),
    "median_seconds": (
        "The middle one of the sorted times (the mean of the two middle ones when their number is even), rounded "
        "to 0.1 s; null when there is none."
    ),
    "p90_seconds": (
        "The 90th percentile by nearest rank: the shortest of the sorted times that at least 90% of the measured "
        "cases did not exceed, rounded to 0.1 s; null when there is none."
    ),
    "percentages": "Percentages are rounded half up to one decimal and are null when the denominator is 0.",
    "changes": (
        "Each figure against the previous period of the same number of days and against the same calendar dates "
        "one year earlier (29 February becomes 28 February): `change` is this period's value minus the base, and "
        "`change_pct` that difference as a percentage of the base (for a rate: a relative change, not percentage "
        "points), null when the base is 0 or missing."
    ),
}


# --- periods ------------------------------------------------------------------------------------------------------


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def latest_last_day(first_day: date) -> date:
    """The last day a period starting on ``first_day`` may end on: at most two years, both ends included."""
    return years_before(first_day, -MAX_YEARS) - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """Asia/Shanghai calendar days from ``first_day`` to ``last_day``, both included."""

    first_day: date
    last_day: date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as a half-open interval of aware datetimes: [first day 00:00, day after the last 00:00)."""
        tz = timezone.get_default_timezone()
        return (
            datetime.combine(self.first_day, time.min, tzinfo=tz),
            datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=tz),
        )

    def previous(self) -> Period:
        return Period(self.first_day - timedelta(days=self.days), self.first_day - timedelta(days=1))

    def a_year_earlier(self) -> Period:
        return Period(years_before(self.first_day, 1), years_before(self.last_day, 1))

    def as_dict(self) -> dict:
        return {"from": self.first_day, "to": self.last_day, "days": self.days}


def default_period(*, today: date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


# --- who may see which alliances ----------------------------------------------------------------------------------


def police_posted_to_station(*, user, station: Station) -> bool:
    """Police posted to the unit itself or to a unit above it (a station's officers answer for its offices).

    ``station`` comes with ``parent`` selected."""
    if not is_police(user):
        return False
    above = [station.pk, station.parent_id, station.parent.parent_id if station.parent_id else None]
    return StationStaff.objects.filter(user=user, station_id__in=[pk for pk in above if pk]).exists()


def alliances_under_station(*, station: Station) -> list[Alliance]:
    """The alliances whose police station or community police office is the unit or a unit under it (units are
    at most three tiers deep), whatever their status: archived alliances had cases too."""
    under = Q(pk=station.pk) | Q(parent_id=station.pk) | Q(parent__parent_id=station.pk)
    units = Station.objects.filter(under).values("pk")
    return list(Alliance.objects.filter(Q(station_id__in=units) | Q(office_id__in=units)).only("pk", "name"))


# --- small pieces of arithmetic -----------------------------------------------------------------------------------


def _half_up(value, places: str) -> float:
    return float(Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def percentage(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, rounded half up to one decimal; None when ``whole`` is 0."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def median(values: Sequence[float]) -> float | None:
    return pystatistics.median(values) if values else None


def percentile_nearest_rank(values: Sequence[float], percent: int) -> float | None:
    """The smallest value that at least ``percent``% of the values do not exceed (an observed value, not an
    interpolation: "90% of flags were answered within this time" is then literally true)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-percent * len(ordered) // 100)  # ceil, in integers
    return ordered[max(rank, 1) - 1]


def _durations(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    middle, p90 = median(ordered), percentile_nearest_rank(ordered, 90)
    return {
        "count": len(ordered),
        "median_seconds": None if middle is None else _half_up(middle, "0.1"),
        "p90_seconds": None if p90 is None else _half_up(p90, "0.1"),
    }


def _seconds_between(pairs: Iterable[tuple[datetime, datetime | None]]) -> list[float]:
    return [(end - start).total_seconds() for start, end in pairs if end is not None]


# --- repeat cases and hotspots ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CasePlace:
    """A case as repeat detection and hotspots see it: where, when, and which alliance."""

    alliance_id: int
    at: datetime
    latitude: Decimal
    longitude: Decimal
    kind: str  # "dispute" or "incident"


def _neighbour_offsets(lat_reach: int, lon_reach: int) -> list[tuple[int, int]]:
    """The grid cells to search around a case's own, nearest first: a repeat is most often in the same cell."""
    offsets = [(r, c) for r in range(-lat_reach, lat_reach + 1) for c in range(-lon_reach, lon_reach + 1)]
    return sorted(offsets, key=lambda offset: (abs(offset[0]) + abs(offset[1]), offset))


def repeat_count(places: list[CasePlace], *, since: datetime) -> int:
    """How many cases raised at or after ``since`` lie within 50 m of an earlier case of the same alliance raised
    at most 30 days before. ``places`` must reach back 30 days before ``since``.

    Cases go into a 0.001-degree grid and each is compared only with the neighbouring cells' cases of the last 30
    days, so the work grows with the cases, not with their square. Distances are measured on the local plane at
    111,320 m per degree (of latitude; of longitude times its cosine): within 0.2 m of the true distance at 50 m."""
    cell = float(HOTSPOT_GRID)
    lat_reach = math.ceil(REPEAT_DISTANCE_METRES / (METRES_PER_DEGREE_LATITUDE * cell))
    within_squared = REPEAT_DISTANCE_METRES**2
    offsets_by_reach: dict[int, list[tuple[int, int]]] = {}
    repeats = 0
    by_alliance: dict[int, list[CasePlace]] = defaultdict(list)
    for place in places:
        by_alliance[place.alliance_id].append(place)
    for cases in by_alliance.values():
        cases.sort(key=lambda p: p.at)
        recent: dict[tuple[int, int], deque[tuple[datetime, float, float]]] = defaultdict(deque)
        for case in cases:
            lat, lon = float(case.latitude), float(case.longitude)
            row, col = math.floor(lat / cell), math.floor(lon / cell)
            if case.at >= since:
                metres_east = METRES_PER_DEGREE_LATITUDE * max(math.cos(math.radians(lat)), 0.01)
                lon_reach = math.ceil(REPEAT_DISTANCE_METRES / (metres_east * cell))
                if lon_reach not in offsets_by_reach:
                    offsets_by_reach[lon_reach] = _neighbour_offsets(lat_reach, lon_reach)
                oldest = case.at - REPEAT_WINDOW
                if _near_an_earlier_case(
                    case.at,
                    lat,
                    lon,
                    metres_east,
                    within_squared,
                    oldest,
                    row,
                    col,
                    recent,
                    offsets_by_reach[lon_reach],
                ):
                    repeats += 1
            recent[(row, col)].append((case.at, lat, lon))
    return repeats


def _near_an_earlier_case(at, lat, lon, metres_east, within_squared, oldest, row, col, recent, offsets) -> bool:
    for d_row, d_col in offsets:
        earlier = recent.get((row + d_row, col + d_col))
        if not earlier:
            continue
        while earlier and earlier[0][0] < oldest:
            earlier.popleft()  # cases come in time order: too old now, too old for every later one
        for e_at, e_lat, e_lon in earlier:
            if e_at < at:
                north = (lat - e_lat) * METRES_PER_DEGREE_LATITUDE
                east = (lon - e_lon) * metres_east
                if north * north + east * east <= within_squared:
                    return True
    return False


def hotspots(places: Iterable[CasePlace], *, limit: int = HOTSPOT_COUNT) -> list[dict]:
    cells: dict[tuple[Decimal, Decimal], dict[str, int]] = defaultdict(lambda: {"dispute": 0, "incident": 0})
    for place in places:
        key = (
            place.latitude.quantize(HOTSPOT_GRID, rounding=ROUND_HALF_UP),
            place.longitude.quantize(HOTSPOT_GRID, rounding=ROUND_HALF_UP),
        )
        cells[key][place.kind] += 1
    ranked = sorted(cells.items(), key=lambda item: (-sum(item[1].values()), item[0]))[:limit]
    return [
        {
            "latitude": float(lat),
            "longitude": float(lon),
            "cases": counts["dispute"] + counts["incident"],
            "disputes": counts["dispute"],
            "incidents": counts["incident"],
        }
        for (lat, lon), counts in ranked
    ]


# --- one period ---------------------------------------------------------------------------------------------------


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
    to_resolve = _seconds_between((r["flagged_at"], r["resolved_at"]) for r in rows)
    within = sum(1 for seconds in to_resolve if seconds <= HANDLED_WITHIN_SECONDS)
    return {
        "total": total,
        "by_category": by_category,
        "by_status": by_status,
        "by_level_reached": by_level,
        "by_outcome": by_outcome,
        "time_to_acknowledge": _durations(_seconds_between((r["flagged_at"], r["acknowledged_at"]) for r in rows)),
        "time_to_arrive": _durations(_seconds_between((r["flagged_at"], r["arrived_at"]) for r in rows)),
        "time_to_resolve": _durations(to_resolve),
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
        "time_to_accept": _durations(_seconds_between((r["created_at"], r["accepted_at"]) for r in kept)),
        "time_to_resolve": _durations(_seconds_between((r["created_at"], r["resolved_at"]) for r in kept)),
        "satisfaction": {
            "responses": responses,
            "average": _half_up(Decimal(rating_sum) / Decimal(responses), "0.01") if responses else None,
            "distribution": distribution,
        },
    }


def _period_figures(*, alliance_ids: list[int], period: Period) -> dict:
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


# --- the figures, their labels and their changes ------------------------------------------------------------------


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


def change(value, base) -> dict:
    """``value`` against ``base``: the base, the difference and the difference in percent of the base."""
    if value is None or base is None:
        return {"value": base, "change": None, "change_pct": None}
    difference = value - base
    if isinstance(difference, float):
        difference = _half_up(difference, "0.1")
    change_pct = None
    if base:
        change_pct = float(
            ((Decimal(str(value)) - Decimal(str(base))) * 100 / Decimal(str(base))).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
        )
    return {"value": base, "change": difference, "change_pct": change_pct}


def case_statistics(*, alliance_ids: list[int], start: date, end: date) -> dict:
    """Every figure for the cases of ``alliance_ids`` raised from ``start`` to ``end`` (Asia/Shanghai calendar days,
    both included), with its change against the previous period and the same period a year earlier.

    Twelve queries whatever the number of cases; the caller has checked that the viewer may see these alliances
    and that the period is valid (``start <= end``, at most two years)."""
    period = Period(start, end)
    previous, last_year = period.previous(), period.a_year_earlier()
    current = _period_figures(alliance_ids=alliance_ids, period=period)
    before = _period_figures(alliance_ids=alliance_ids, period=previous)
    year_ago = _period_figures(alliance_ids=alliance_ids, period=last_year)
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


def statistics_table(stats: dict) -> list[list]:
    """The statistics as rows for a spreadsheet, one per figure, headed in the active language: section, figure,
    this period, previous period, change %, same period last year, change % (year on year)."""
    header = [
        _("Section"),
        _("Figure"),
        _("This period"),
        _("Previous period"),
        _("Change on previous period (%)"),
        _("Same period last year"),
        _("Change year on year (%)"),
    ]
    period_section = _("Period")
    periods = (stats["period"], stats["previous_period"], stats["last_year_period"])
    rows = [
        header,
        [period_section, _("From"), *(periods[0]["from"], periods[1]["from"], "", periods[2]["from"], "")],
        [period_section, _("To"), *(periods[0]["to"], periods[1]["to"], "", periods[2]["to"], "")],
        [period_section, _("Days"), *(periods[0]["days"], periods[1]["days"], "", periods[2]["days"], "")],
    ]
    for figure in figure_list():
        row = stats["changes"][figure.key]
        rows.append(
            [
                figure.section,
                figure.label,
                row["value"],
                row["previous_period"]["value"],
                row["previous_period"]["change_pct"],
                row["last_year"]["value"],
                row["last_year"]["change_pct"],
            ]
        )
    hotspot_section = _("Hotspots (cases per grid cell)")
    for rank, spot in enumerate(stats["hotspots"], start=1):
        label = _("No. %(rank)s near %(latitude)s, %(longitude)s") % {
            "rank": rank,
            "latitude": f"{spot['latitude']:.3f}",
            "longitude": f"{spot['longitude']:.3f}",
        }
        rows.append([hotspot_section, label, spot["cases"], "", "", "", ""])
    return [["" if cell is None else cell for cell in row] for row in rows]
