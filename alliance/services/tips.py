"""Writes on safety tips (安全提示): the tip library, recurring schedules, and the sweep that sends each occurrence.

The library is per police unit (its police admins write it) plus a city-wide one (``station`` empty), which only a
superuser or the demo seed writes (``alliance/tip_library.py``) and every unit's schedules draw on. A schedule says
when (``time_of_day`` local Asia/Shanghai, ISO ``weekdays``, ``starts_on``/``ends_on``), what (``topics``) and to whom
(an audience, checked exactly as an alert's is); its ``next_run_at`` is a deadline column, and the sweep
(:func:`tip_occurrences_send_due`, every half minute from Celery beat) sends what is due as a safety-tip alert.

Exactly once: each run is a :class:`TipOccurrence`, unique per (schedule, scheduled_for). The sweep takes one due
schedule at a time under ``SELECT ... FOR UPDATE SKIP LOCKED`` and inserts the occurrence before it sends anything;
a second sweep, a second beat or a replayed task that reaches the same run finds the key taken and sends nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import is_police_admin
from alliance.alert_audience import AudienceSpec
from alliance.error_codes import AllianceErrorCode, field_error
from alliance.models import Alert, AlertKind, Station, Tip, TipOccurrence, TipSchedule
from alliance.selectors.alliances import jurisdiction_station_ids
from alliance.selectors.tips import tip_rotation
from alliance.services.alerts import AlertContent, alert_audience_check, alert_publish_scheduled
from config.errors import ApplicationError

logger = logging.getLogger(__name__)

# The city's clock: a schedule's 19:00 is 19:00 in Changzhou whatever the server's zone. China keeps no daylight
# saving, but the arithmetic goes through zoneinfo all the same (a local date and time, then its UTC instant).
TIP_TIME_ZONE = ZoneInfo("Asia/Shanghai")
TIP_TEXT_FIELDS = ("topic", "title_zh", "body_zh", "title_en", "body_en")


# --- who may write ---------------------------------------------------------------------------------------------------


def _writer_units(actor) -> frozenset[int] | None:
    """The units ``actor`` writes tips and schedules for; None: every unit (a superuser)."""
    if actor.is_superuser:
        return None
    if not is_police_admin(actor):
        raise ApplicationError.permission_denied(_("Only police admins write safety tips and their schedules."))
    return jurisdiction_station_ids(user=actor)


def _station_check(*, actor, station: Station | None) -> frozenset[int] | None:
    units = _writer_units(actor)
    if station is None:
        if units is not None:
            raise ApplicationError.permission_denied(_("Only a superuser writes the city-wide tip library."))
        return units
    if units is not None and station.pk not in units:
        raise ApplicationError.not_found(station=[str(station.pk)])
    return units


# --- the library -----------------------------------------------------------------------------------------------------


@transaction.atomic
def tip_create(
    *,
    actor,
    station: Station | None,
    topic: str,
    title_zh: str,
    body_zh: str,
    title_en: str = "",
    body_en: str = "",
    is_active: bool = True,
) -> Tip:
    """A tip in a unit's library (a police admin of its jurisdiction) or the city-wide one (a superuser)."""
    _station_check(actor=actor, station=station)
    return Tip.objects.create(
        station=station,
        topic=topic,
        title_zh=title_zh,
        body_zh=body_zh,
        title_en=title_en,
        body_en=body_en,
        is_active=is_active,
        created_by=actor,
    )


@transaction.atomic
def tip_update(*, actor, tip: Tip, **changes) -> Tip:
    """Change a tip's text, topic or whether it is in use (``TIP_TEXT_FIELDS`` and ``is_active``). Its unit stays:
    a tip moved to another library would change what other units' schedules send."""
    _station_check(actor=actor, station=tip.station)
    unknown = set(changes) - {*TIP_TEXT_FIELDS, "is_active"}
    if unknown:
        raise TypeError(f"tip_update() does not change {sorted(unknown)}")
    tip = Tip.objects.select_for_update().get(pk=tip.pk)
    for name, value in changes.items():
        setattr(tip, name, value)
    tip.save(update_fields=list(changes) or None)
    return tip


def tip_retire(*, actor, tip: Tip) -> Tip:
    """Out of rotation; the alerts it went out as stay as they were. ``is_active`` true puts it back."""
    return tip_update(actor=actor, tip=tip, is_active=False)


# --- schedules -------------------------------------------------------------------------------------------------------


@dataclass
class TipScheduleFields:
    name: str
    audience: AudienceSpec
    time_of_day: time
    topics: list[str] = field(default_factory=list)
    weekdays: list[int] = field(default_factory=list)
    starts_on: date | None = None
    ends_on: date | None = None
    is_active: bool = True

    @classmethod
    def of(cls, schedule: TipSchedule) -> TipScheduleFields:
        return cls(
            name=schedule.name,
            audience=AudienceSpec.from_json(schedule.audience),
            time_of_day=schedule.time_of_day,
            topics=list(schedule.topics),
            weekdays=list(schedule.weekdays),
            starts_on=schedule.starts_on,
            ends_on=schedule.ends_on,
            is_active=schedule.is_active,
        )


SCHEDULE_FIELDS = frozenset(f.name for f in fields(TipScheduleFields))
# What decides when a schedule runs: a change to any of these works the next run out again.
TIMING_FIELDS = ("time_of_day", "weekdays", "starts_on", "ends_on", "is_active")


def _local_run(day: date, time_of_day: time) -> datetime:
    return datetime.combine(day, time_of_day.replace(tzinfo=None), tzinfo=TIP_TIME_ZONE).astimezone(UTC)


def tip_schedule_next_run(schedule: TipSchedule | TipScheduleFields, after: datetime) -> datetime | None:
    """The first run strictly after ``after`` (UTC): ``time_of_day`` in Asia/Shanghai on an allowed ISO weekday, on
    or after ``starts_on`` and on or before ``ends_on``; None when none is left."""
    local_after = after.astimezone(TIP_TIME_ZONE)
    day = local_after.date()
    if schedule.starts_on is not None and schedule.starts_on > day:
        day = schedule.starts_on
    weekdays = set(schedule.weekdays) or set(range(1, 8))
    for _step in range(8):  # a week and a day covers every weekday after a time later than today's run
        if schedule.ends_on is not None and day > schedule.ends_on:
            return None
        if day.isoweekday() in weekdays:
            run = _local_run(day, schedule.time_of_day)
            if run > after:
                return run
        day += timedelta(days=1)
    return None


def _schedule_check(*, units: frozenset[int] | None, values: TipScheduleFields) -> None:
    """The audience as an alert's is checked (``alliance/services/alerts.py``: the same codes and words), and dates
    that leave a run."""
    if units is None:  # a superuser: every unit there is, so only targets that do not exist are refused
        units = frozenset(Station.objects.values_list("pk", flat=True))
    alert_audience_check(spec=values.audience, unit_ids=units)
    if values.starts_on is not None and values.ends_on is not None and values.ends_on < values.starts_on:
        raise field_error(
            AllianceErrorCode.TIP_SCHEDULE_ENDS_BEFORE_START, "ends_on", _("A schedule cannot end before it starts.")
        )


def _next_run_or_refuse(values: TipScheduleFields, *, now: datetime) -> datetime | None:
    if not values.is_active:
        return None
    next_run = tip_schedule_next_run(values, after=now)
    if next_run is None:
        raise field_error(
            AllianceErrorCode.TIP_SCHEDULE_NEVER_RUNS,
            "ends_on",
            _("This schedule has no run left: its dates and weekdays leave no day to send a tip."),
        )
    return next_run


def _schedule_apply(schedule: TipSchedule, values: TipScheduleFields) -> None:
    schedule.name = values.name
    schedule.audience = values.audience.as_json()
    schedule.time_of_day = values.time_of_day.replace(tzinfo=None)
    schedule.topics = sorted(set(values.topics))
    schedule.weekdays = sorted(set(values.weekdays))
    schedule.starts_on = values.starts_on
    schedule.ends_on = values.ends_on
    schedule.is_active = values.is_active


def tip_schedule_check(*, actor, station: Station, values: TipScheduleFields) -> None:
    """Everything :func:`tip_schedule_create` would refuse, without writing (the admin site's form asks first)."""
    units = _station_check(actor=actor, station=station)
    _schedule_check(units=units, values=values)
    _next_run_or_refuse(values, now=timezone.now())


@transaction.atomic
def tip_schedule_create(*, actor, station: Station, values: TipScheduleFields) -> TipSchedule:
    units = _station_check(actor=actor, station=station)
    _schedule_check(units=units, values=values)
    schedule = TipSchedule(station=station, created_by=actor)
    _schedule_apply(schedule, values)
    schedule.next_run_at = _next_run_or_refuse(values, now=timezone.now())
    schedule.save()
    return schedule


@transaction.atomic
def tip_schedule_update(*, actor, schedule: TipSchedule, **changes) -> TipSchedule:
    """Change any of ``SCHEDULE_FIELDS``. When the timing changes the next run is worked out again from now (a
    schedule moved from 19:00 to 20:00 at 19:30 runs at 20:00 today; one resumed after a pause does not send the runs
    it paused over); otherwise it stays, so renaming a schedule at 19:00:10 does not skip the run the sweep is about
    to send."""
    unknown = set(changes) - SCHEDULE_FIELDS
    if unknown:
        raise TypeError(f"tip_schedule_update() does not change {sorted(unknown)}")
    units = _station_check(actor=actor, station=schedule.station)
    schedule = TipSchedule.objects.select_for_update().get(pk=schedule.pk)
    before = TipScheduleFields.of(schedule)
    values = replace(before, **changes)
    _schedule_check(units=units, values=values)
    timing_changed = any(_timing(before, name) != _timing(values, name) for name in TIMING_FIELDS)
    _schedule_apply(schedule, values)
    if timing_changed:
        schedule.next_run_at = _next_run_or_refuse(values, now=timezone.now())
    schedule.save()
    return schedule


def _timing(values: TipScheduleFields, name: str):
    value = getattr(values, name)
    if name == "weekdays":
        return sorted(set(value))
    return value.replace(tzinfo=None) if name == "time_of_day" else value


def tip_schedule_pause(*, actor, schedule: TipSchedule) -> TipSchedule:
    return tip_schedule_update(actor=actor, schedule=schedule, is_active=False)


@transaction.atomic
def tip_schedule_delete(*, actor, schedule: TipSchedule) -> None:
    """The schedule and its record of runs; the tips it sent stay in the inboxes as the alerts they are."""
    _station_check(actor=actor, station=schedule.station)
    TipSchedule.objects.filter(pk=schedule.pk).delete()


# --- the sweep -------------------------------------------------------------------------------------------------------


def _latest_due(schedule: TipSchedule, *, now: datetime) -> datetime:
    """The latest run at or before ``now``, from ``next_run_at`` (which is due). A schedule whose worker was down
    for three days has three evenings due; only the last is sent: three tips at once, hours late, would teach
    people to ignore them. The older runs get no occurrence row: they were skipped, not sent."""
    due = schedule.next_run_at
    while (later := tip_schedule_next_run(schedule, after=due)) is not None and later <= now:
        due = later
    return due


def _next_tip(schedule: TipSchedule) -> Tip | None:
    """The tip after the last one sent, by id, wrapping around to the first."""
    rotation = tip_rotation(schedule=schedule)
    if schedule.last_tip_id is not None:
        after = rotation.filter(pk__gt=schedule.last_tip_id).first()
        if after is not None:
            return after
    return rotation.first()


def _tip_content(tip: Tip, schedule: TipSchedule) -> AlertContent:
    return AlertContent(
        kind=AlertKind.SAFETY_TIP,
        topic=tip.topic,
        title=tip.title_zh,
        body=tip.body_zh,
        title_en=tip.title_en,
        body_en=tip.body_en,
        severity=Alert.Severity.NORMAL,
        audience=AudienceSpec.from_json(schedule.audience),
    )


def _occurrence_send(schedule: TipSchedule, *, now: datetime) -> TipOccurrence | None:
    """One due run of a schedule whose row lock the caller holds: the occurrence first (the unique key), then the
    tip as an alert, then the next run. None when this run had been sent already (a replay)."""
    due = _latest_due(schedule, now=now)
    schedule.next_run_at = tip_schedule_next_run(schedule, after=due)
    try:
        with transaction.atomic():  # a savepoint: the schedule's own update below still happens
            occurrence = TipOccurrence.objects.create(schedule=schedule, scheduled_for=due)
    except IntegrityError:
        schedule.save(update_fields=["next_run_at"])
        return None
    tip = _next_tip(schedule)
    if tip is None:
        logger.warning("tip schedule %s ran at %s with no active tip of its topics", schedule.pk, due)
    else:
        occurrence.tip = tip
        occurrence.alert = alert_publish_scheduled(station=schedule.station, content=_tip_content(tip, schedule))
        occurrence.save(update_fields=["tip", "alert"])
        schedule.last_tip = tip
    schedule.save(update_fields=["next_run_at", "last_tip"])
    return occurrence


def tip_occurrences_send_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """The sweep: every active schedule whose ``next_run_at`` has come, one at a time, each in its own transaction
    under SKIP LOCKED (any number of workers). Answers how many occurrences were sent."""
    now = now or timezone.now()
    sent = 0
    for _step in range(limit):
        with transaction.atomic():
            schedule = (
                TipSchedule.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("station")
                .filter(is_active=True, next_run_at__lte=now)
                .order_by("next_run_at", "pk")
                .first()
            )
            if schedule is None:
                return sent
            if _occurrence_send(schedule, now=now) is not None:
                sent += 1
    return sent
