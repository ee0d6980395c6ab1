"""Writes on shift templates and shifts: the recurrence rule, generating shifts over the rolling horizon, ad-hoc
shifts and cancelling one.

A template speaks local time: its RRULE is expanded in Asia/Shanghai from ``starts_on`` at ``start_time``, each
occurrence becomes an aware start, and the end is the start plus the duration, so "every night 22:00 for 240
minutes" ends at 02:00 the next day. Generation relies on the unique (template, starts_at) key, so running it
again (or on two workers at once) makes nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, rrulestr
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ApplicationError
from groups.error_codes import GroupErrorCode
from groups.events import event_publish, user_topic
from groups.models import PatrolRoute, PatrolZone, Shift, ShiftSignup, ShiftTemplate, SlotRole
from groups.selectors.patrol_rosters import TeamAccess

PATROL_TIME_ZONE = ZoneInfo("Asia/Shanghai")
MAX_PLACES_PER_ROLE = 50
# Parts of a rule that would move or multiply the start within a day, or restart it: the template's own
# ``starts_on`` and ``start_time`` say those.
_REFUSED_RULE_PARTS = {"DTSTART", "BYHOUR", "BYMINUTE", "BYSECOND"}


# --- the recurrence rule ------------------------------------------------------------------------------------------


def rrule_normalise(value: str, *, starts_on: date, start_time: time) -> str:
    """The rule as stored (without an ``RRULE:`` prefix), or a 400 naming ``rrule``: one RRULE line, at most
    daily, no DTSTART (the template's first day is), no time-of-day parts, and at least one occurrence within a
    year of the first day."""
    rule = value.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    if not rule or any(char in rule for char in "\r\n:"):
        raise ApplicationError.invalid("rrule", _("Enter one recurrence rule, e.g. FREQ=DAILY."))
    parts = {}
    for part in rule.split(";"):
        name, _sep, setting = part.partition("=")
        parts[name.strip().upper()] = setting.strip()
    refused = sorted(_REFUSED_RULE_PARTS & parts.keys())
    if refused:
        raise ApplicationError.invalid(
            "rrule",
            _("The rule may not set %(parts)s: the template's first day and start time do.")
            % {"parts": ", ".join(refused)},
        )
    if "INTERVAL" in parts and not (parts["INTERVAL"].isdigit() and 1 <= int(parts["INTERVAL"]) <= 366):
        raise ApplicationError.invalid("rrule", _("INTERVAL must be a whole number from 1 to 366."))
    first = datetime.combine(starts_on, start_time)
    try:
        parsed = rrulestr(rule, dtstart=first)
        within_a_year = parsed.between(first, first + timedelta(days=366), inc=True)
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        raise ApplicationError.invalid("rrule", _("This recurrence rule cannot be read: %(error)s") % {"error": error})
    if parsed._freq > DAILY:  # dateutil numbers frequencies YEARLY=0 .. SECONDLY=6
        raise ApplicationError.invalid("rrule", _("A shift recurs at most daily (FREQ=DAILY, WEEKLY, ...)."))
    if not within_a_year:
        raise ApplicationError.invalid("rrule", _("This rule has no shift within a year of its first day."))
    return rule


def template_occurrences(template: ShiftTemplate, *, starts_from: datetime, starts_to: datetime) -> list[datetime]:
    """Aware starts of the template's shifts in [starts_from, starts_to), expanded in local time."""
    first = datetime.combine(template.starts_on, template.start_time)
    local_from = timezone.localtime(starts_from, PATROL_TIME_ZONE).replace(tzinfo=None)
    local_to = timezone.localtime(starts_to, PATROL_TIME_ZONE).replace(tzinfo=None)
    rule = rrulestr(template.rrule, dtstart=first)
    starts = []
    for occurrence in rule.between(local_from, local_to, inc=True):
        if template.ends_on is not None and occurrence.date() > template.ends_on:
            break
        start = occurrence.replace(tzinfo=PATROL_TIME_ZONE)
        if starts_from <= start < starts_to:
            starts.append(start)
    return starts


def shift_deadlines(*, starts_at: datetime, ends_at: datetime) -> dict:
    """The timers of a shift: reminders before it, the no-show check once check-in closes, the automatic
    check-out after its end (the close sweep's)."""
    grace = timedelta(minutes=settings.PATROL_CHECK_IN_GRACE_MINUTES)
    return {
        "remind_at": starts_at - timedelta(minutes=settings.PATROL_REMINDER_MINUTES),
        "no_show_check_at": starts_at + grace,
        "close_at": ends_at + grace,
    }


# --- templates ----------------------------------------------------------------------------------------------------


def _require_leader(team_access: TeamAccess) -> None:
    if not team_access.may_lead:
        raise ApplicationError.permission_denied(
            _("Only the team's leaders and the alliance's admins plan the team's shifts.")
        )


def _require_open_team(team_access: TeamAccess) -> None:
    if team_access.team.is_archived:
        raise ApplicationError(GroupErrorCode.TEAM_ARCHIVED, _("This team is archived."), status_code=409)


def slots_clean(slots) -> dict:
    """``{"fixed": 1, "mobile": 3, "vehicle": 1}``: known roles, whole numbers 0..50, at least one place."""
    if not isinstance(slots, dict) or not slots:
        raise ApplicationError.invalid("slots", _('Give the places per role, e.g. {"mobile": 3}.'))
    unknown = sorted(set(slots) - set(SlotRole.values))
    if unknown:
        raise ApplicationError.invalid("slots", _("Unknown roles: %(roles)s.") % {"roles": ", ".join(unknown)})
    for count in slots.values():
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_PLACES_PER_ROLE:
            raise ApplicationError.invalid(
                "slots", _("Places per role are whole numbers from 0 to %(max)s.") % {"max": MAX_PLACES_PER_ROLE}
            )
    if not any(slots.values()):
        raise ApplicationError.invalid("slots", _("A shift needs at least one place."))
    return {role: slots[role] for role in SlotRole.values if role in slots}


def _where_clean(*, alliance, zone_id: int, route_id: int | None) -> tuple[PatrolZone, PatrolRoute | None]:
    """The zone and route by id, both of this alliance: another alliance's id reads as not found."""
    zone = PatrolZone.objects.filter(pk=zone_id, alliance=alliance).first()
    if zone is None:
        raise ApplicationError.not_found(zone=[_("Not found.")])
    route = None
    if route_id is not None:
        route = PatrolRoute.objects.filter(pk=route_id, alliance=alliance).first()
        if route is None:
            raise ApplicationError.not_found(route=[_("Not found.")])
    return zone, route


@transaction.atomic
def shift_template_create(
    *,
    actor,
    team_access: TeamAccess,
    name: str,
    rrule: str,
    starts_on: date,
    start_time: time,
    duration_minutes: int,
    zone_id: int,
    slots: dict,
    route_id: int | None = None,
    ends_on: date | None = None,
    now: datetime | None = None,
) -> ShiftTemplate:
    """A recurring shift of the team; its shifts over the horizon are made at once."""
    _require_leader(team_access)
    _require_open_team(team_access)
    team = team_access.team
    if ends_on is not None and ends_on < starts_on:
        raise ApplicationError.invalid("ends_on", _("The last day comes before the first."))
    zone, route = _where_clean(alliance=team.alliance, zone_id=zone_id, route_id=route_id)
    template = ShiftTemplate.objects.create(
        team=team,
        name=name,
        rrule=rrule_normalise(rrule, starts_on=starts_on, start_time=start_time),
        starts_on=starts_on,
        ends_on=ends_on,
        start_time=start_time,
        duration_minutes=duration_minutes,
        zone=zone,
        route=route,
        slots=slots_clean(slots),
        created_by=actor,
    )
    shifts_generate_for_template(template=template, now=now or timezone.now())
    return template


@transaction.atomic
def shift_template_update(*, actor, template: ShiftTemplate, team_access: TeamAccess, now=None, **changes):
    """Changes apply to shifts not yet taken: future shifts of the template that nobody ever signed up for are made
    again from the new rule; shifts with people on them stay as they are (the leader cancels those by hand)."""
    _require_leader(team_access)
    now = now or timezone.now()
    zone_id = changes.pop("zone_id", template.zone_id)
    route_id = changes.pop("route_id", template.route_id)
    zone, route = _where_clean(alliance=team_access.team.alliance, zone_id=zone_id, route_id=route_id)
    for field, value in changes.items():
        setattr(template, field, value)
    template.zone, template.route = zone, route
    if "slots" in changes:
        template.slots = slots_clean(template.slots)
    if template.ends_on is not None and template.ends_on < template.starts_on:
        raise ApplicationError.invalid("ends_on", _("The last day comes before the first."))
    template.rrule = rrule_normalise(template.rrule, starts_on=template.starts_on, start_time=template.start_time)
    template.save()
    _untaken_future_shifts(template=template, now=now).delete()
    if template.is_active and not team_access.team.is_archived:
        shifts_generate_for_template(template=template, now=now)
    return template


@transaction.atomic
def shift_template_deactivate(*, actor, template: ShiftTemplate, team_access: TeamAccess, now=None) -> ShiftTemplate:
    """No more shifts from it; its future shifts nobody signed up for go, those with people stay."""
    _require_leader(team_access)
    template.is_active = False
    template.save(update_fields=["is_active"])
    _untaken_future_shifts(template=template, now=now or timezone.now()).delete()
    return template


def _untaken_future_shifts(*, template: ShiftTemplate, now: datetime):
    return Shift.objects.filter(template=template, starts_at__gt=now, signups__isnull=True)


# --- generation ---------------------------------------------------------------------------------------------------


def shifts_generate_for_template(*, template: ShiftTemplate, now: datetime, horizon_days: int | None = None) -> int:
    """Makes the template's missing shifts starting between ``now`` and the horizon; returns how many rows were
    offered to the database (those that existed already are skipped by the unique key)."""
    horizon = timedelta(days=horizon_days if horizon_days is not None else settings.PATROL_SHIFT_HORIZON_DAYS)
    team = template.team
    duration = timedelta(minutes=template.duration_minutes)
    rows = [
        Shift(
            template=template,
            team=team,
            alliance_id=team.alliance_id,
            zone_id=template.zone_id,
            route_id=template.route_id,
            name=template.name,
            starts_at=start,
            ends_at=start + duration,
            slots=template.slots,
            **shift_deadlines(starts_at=start, ends_at=start + duration),
        )
        for start in template_occurrences(template, starts_from=now, starts_to=now + horizon)
    ]
    Shift.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def shifts_generate(*, now: datetime | None = None, horizon_days: int | None = None) -> int:
    """Every active template of a team in use: its shifts over the horizon, each made once however often this
    runs (the periodic ``generate_shifts_task``)."""
    now = now or timezone.now()
    templates = ShiftTemplate.objects.filter(is_active=True, team__is_archived=False).select_related("team")
    return sum(
        shifts_generate_for_template(template=template, now=now, horizon_days=horizon_days) for template in templates
    )


# --- single shifts ------------------------------------------------------------------------------------------------


@transaction.atomic
def shift_create(
    *,
    actor,
    team_access: TeamAccess,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    zone_id: int,
    slots: dict,
    route_id: int | None = None,
    now: datetime | None = None,
) -> Shift:
    """An ad-hoc shift (a festival night, a reinforcement) outside any template."""
    _require_leader(team_access)
    _require_open_team(team_access)
    now = now or timezone.now()
    if starts_at <= now:
        raise ApplicationError.invalid("starts_at", _("A shift is planned for later than now."))
    if ends_at <= starts_at:
        raise ApplicationError.invalid("ends_at", _("A shift ends after it starts."))
    if ends_at - starts_at > timedelta(hours=24):
        raise ApplicationError.invalid("ends_at", _("A shift lasts at most 24 hours."))
    team = team_access.team
    zone, route = _where_clean(alliance=team.alliance, zone_id=zone_id, route_id=route_id)
    return Shift.objects.create(
        team=team,
        alliance=team.alliance,
        zone=zone,
        route=route,
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        slots=slots_clean(slots),
        **shift_deadlines(starts_at=starts_at, ends_at=ends_at),
    )


@transaction.atomic
def shift_cancel(*, actor, shift: Shift, team_access: TeamAccess, now: datetime | None = None) -> Shift:
    """Cancels a shift that has not ended: its timers stop, every held place is cancelled and its holders told
    (event ``shift_cancelled``)."""
    _require_leader(team_access)
    now = now or timezone.now()
    shift = Shift.objects.select_for_update().get(pk=shift.pk)
    if shift.status == Shift.Status.CANCELLED:
        return shift
    if shift.ends_at <= now:
        raise ApplicationError(GroupErrorCode.SHIFT_NOT_OPEN, _("This shift is over."), status_code=409)
    holders = list(
        ShiftSignup.objects.filter(shift=shift, status__in=ShiftSignup.HOLDING_STATUSES).values_list(
            "user_id", flat=True
        )
    )
    ShiftSignup.objects.filter(shift=shift, status__in=ShiftSignup.HOLDING_STATUSES).update(
        status=ShiftSignup.Status.CANCELLED, cancelled_at=now
    )
    shift.status = Shift.Status.CANCELLED
    shift.remind_at = shift.no_show_check_at = shift.close_at = None
    shift.save(update_fields=["status", "remind_at", "no_show_check_at", "close_at"])
    event_publish(
        topics=[user_topic(user_id) for user_id in holders],
        event={"type": "shift_cancelled", "shift": shift.pk, "name": shift.name, "starts_at": shift.starts_at},
        durable=True,
    )
    return shift
