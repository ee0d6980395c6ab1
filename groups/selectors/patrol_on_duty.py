"""Who is on duty in an alliance now, nearest first: the one reading that dispatch (a dispute flag's first rung), the
police's on-duty screen and the live on-duty events share.

Two kinds of people are on duty:
- volunteers checked in to a shift of the alliance (``ShiftSignup.attendance == "on_duty"``) whose window covers now,
  from the check-in grace before its start to the same grace after its end (when the close sweep checks them out).
  A volunteer's manual duty switch does not count: check-ins replace it (``alliance_duty_set`` refuses it);
- police and mall managers who went on duty with the alliance's duty switch (``AllianceMembership.on_duty``): the
  police liaisons and mall managers, and police officers holding any other role in the alliance (an officer who is
  also its admin), as ``alliance.permissions.can_go_on_duty`` allows.

Two queries whatever the size of the city, each on an index: the sign-ups through the alliance's shifts starting
in a bounded window (``shift_alliance_start``) and the partial ``signup_on_duty`` index; the memberships through
``membership_on_duty``. Distances are measured in Python over those rows (a few dozen per alliance; see
bench/dispatch_lookup.py for the city-scale figures).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Role, RoleGrant
from alliance.models import Alliance, AllianceMembership, StationStaff
from alliance.selectors import units_under
from config.geo import distance_metres
from groups.models import Shift, ShiftSignup

# A shift lasts at most a day (ShiftTemplate.duration_minutes): the bound that keeps the shift scan on its index.
LONGEST_SHIFT = timedelta(hours=24)
# Alliance roles that go on duty by the switch and are dispatched as such; police in any other role are "police".
SWITCH_RESPONDER_ROLES = (AllianceMembership.Role.POLICE_LIAISON, AllianceMembership.Role.MALL_MANAGER)
POLICE_ROLES = (Role.OFFICER, Role.POLICE_ADMIN)


class ResponderKind:
    POLICE = "police"
    POLICE_LIAISON = "police_liaison"
    MALL_MANAGER = "mall_manager"
    VOLUNTEER = "volunteer"


@dataclass(frozen=True, slots=True)
class OnDutyResponder:
    """One person on duty. ``role``: the alliance role for those on the duty switch, the place on the shift
    (fixed, mobile, vehicle) for volunteers. ``since``: when they went on duty or checked in. The position is
    WGS-84 (None when unknown); ``distance_metres`` is None unless a position was asked about and both are known."""

    user_id: int
    display_name: str
    kind: str
    role: str
    since: datetime | None
    latitude: float | None
    longitude: float | None
    distance_metres: float | None = None
    shift_id: int | None = None
    zone_id: int | None = None


def check_in_grace() -> timedelta:
    """How long before a shift's start check-in opens, and how long after its end the close sweep waits."""
    return timedelta(minutes=getattr(settings, "PATROL_CHECK_IN_GRACE_MINUTES", 15))


def _volunteers(*, alliance_id: int, zone_id: int | None, now: datetime, exclude_user_ids) -> list[OnDutyResponder]:
    grace = check_in_grace()
    signups = ShiftSignup.objects.filter(
        attendance=ShiftSignup.Attendance.ON_DUTY,
        shift__alliance_id=alliance_id,
        shift__status=Shift.Status.SCHEDULED,
        shift__starts_at__lte=now + grace,
        shift__starts_at__gte=now - LONGEST_SHIFT - grace,
        shift__ends_at__gte=now - grace,
        user__is_active=True,
    )
    if zone_id is not None:
        signups = signups.filter(shift__zone_id=zone_id)
    if exclude_user_ids:
        signups = signups.exclude(user_id__in=exclude_user_ids)
    rows = signups.order_by().values_list(
        "user_id",
        "user__display_name",
        "role",
        "checked_in_at",
        "last_latitude",
        "last_longitude",
        "shift_id",
        "shift__zone_id",
    )
    return [
        OnDutyResponder(
            user_id=user_id,
            display_name=name,
            kind=ResponderKind.VOLUNTEER,
            role=role,
            since=since,
            latitude=latitude,
            longitude=longitude,
            shift_id=shift_id,
            zone_id=shift_zone_id,
        )
        for user_id, name, role, since, latitude, longitude, shift_id, shift_zone_id in rows
    ]


def _kind_of_member(role: str) -> str:
    if role in SWITCH_RESPONDER_ROLES:
        return role
    return ResponderKind.POLICE  # only police in other roles pass the query's filter


def _switched_on(*, alliance_id: int, exclude_user_ids) -> list[OnDutyResponder]:
    is_police = Exists(
        RoleGrant.objects.filter(user_id=OuterRef("user_id"), role__in=POLICE_ROLES, revoked_at__isnull=True)
    )
    memberships = (
        AllianceMembership.objects.filter(alliance_id=alliance_id, on_duty=True, user__is_active=True)
        .annotate(is_police=is_police)
        .filter(Q(role__in=SWITCH_RESPONDER_ROLES) | Q(is_police=True))
    )
    if exclude_user_ids:
        memberships = memberships.exclude(user_id__in=exclude_user_ids)
    rows = memberships.order_by().values_list(
        "user_id", "user__display_name", "role", "on_duty_since", "duty_latitude", "duty_longitude"
    )
    return [
        OnDutyResponder(
            user_id=user_id,
            display_name=name,
            kind=_kind_of_member(role),
            role=role,
            since=since,
            latitude=latitude,
            longitude=longitude,
        )
        for user_id, name, role, since, latitude, longitude in rows
    ]


def _nearest_first(responders: list[OnDutyResponder], near: tuple[float, float] | None) -> list[OnDutyResponder]:
    """Those with a known distance nearest first, then the others longest on duty first; one entry per person (a
    mall manager also checked in to a shift counts once, at the nearer or longer-standing of the two)."""
    if near is not None:
        latitude, longitude = near
        responders = [
            replace(r, distance_metres=distance_metres(latitude, longitude, r.latitude, r.longitude))
            if r.latitude is not None and r.longitude is not None
            else r
            for r in responders
        ]

    def order(responder: OnDutyResponder):
        unknown = responder.distance_metres is None
        since = responder.since.timestamp() if responder.since else 0.0
        return (unknown, responder.distance_metres or 0.0, since, responder.user_id)

    seen: set[int] = set()
    ordered = []
    for responder in sorted(responders, key=order):
        if responder.user_id not in seen:
            seen.add(responder.user_id)
            ordered.append(responder)
    return ordered


def responders_on_duty(
    *,
    alliance_id: int,
    zone_id: int | None = None,
    near: tuple[float, float] | None = None,
    exclude_user_ids=(),
    now: datetime | None = None,
) -> list[OnDutyResponder]:
    """Everyone on duty in the alliance now (volunteers of ``zone_id`` only, when given: police are not on a
    zone), nearest to ``near`` (WGS-84 latitude, longitude) first. Two queries."""
    now = now or timezone.now()
    exclude_user_ids = tuple(exclude_user_ids)
    responders = _volunteers(alliance_id=alliance_id, zone_id=zone_id, now=now, exclude_user_ids=exclude_user_ids)
    responders += _switched_on(alliance_id=alliance_id, exclude_user_ids=exclude_user_ids)
    return _nearest_first(responders, near)


def on_duty_watchers(*, alliance_id: int) -> list[int]:
    """Who is told live when someone goes on or off duty in the alliance: the officers posted to its community
    police office and its station (levels 2 and 3 of the dispute ladder) and its admins. One query."""
    units = Alliance.objects.filter(pk=alliance_id)
    officers = StationStaff.objects.filter(
        Q(station_id__in=units.values("station_id")) | Q(station_id__in=units.values("office_id")),
        user__is_active=True,
    ).values_list("user_id", flat=True)
    admins = AllianceMembership.objects.filter(
        alliance_id=alliance_id, role=AllianceMembership.Role.ADMIN, user__is_active=True
    ).values_list("user_id", flat=True)
    return sorted(set(officers.union(admins)))


def police_posted_over(*, user, alliance: Alliance) -> bool:
    """``user`` is posted to the alliance's office or station, or to a unit above them. One query."""
    posted = units_under(StationStaff.objects.filter(user=user).values("station_id"))
    return posted.filter(pk__in=[unit for unit in (alliance.station_id, alliance.office_id) if unit]).exists()
