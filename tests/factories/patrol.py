"""Patrol zones, routes, teams, shifts and sign-ups for the tests. Zones and routes go through
``groups/services/patrol_zones.py`` as a police admin of the alliance's jurisdiction (``by``, or the first one posted
there; the platform's own path when the jurisdiction has none, as the admin site and the demo seed make them).

Teams go through ``patrol_team_create`` and sign-ups through ``shift_signup`` (a non-member joins the alliance as a
volunteer first); ``shift_make`` stays a plain row so that a test can place a shift in the past, with the timers
the generator sets."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import Role, User
from alliance.models import Alliance, AllianceMembership, StationStaff
from alliance.selectors.alliances import alliance_access_for, unit_and_units_above
from config.geo import METRES_PER_DEGREE_LATITUDE
from groups.models import (
    PatrolGrid,
    PatrolRoute,
    PatrolTeam,
    PatrolTeamMember,
    PatrolZone,
    Shift,
    ShiftSignup,
    ShiftTemplate,
    SupportPoint,
)
from groups.selectors.patrol_rosters import team_access_or_404
from groups.services.patrol_teams import patrol_team_create, patrol_team_member_add
from groups.services.patrol_zones import (
    patrol_grid_create,
    patrol_route_create,
    patrol_zone_create,
    support_point_create,
)
from groups.services.shift_signups import shift_signup
from groups.services.shifts import shift_deadlines, shift_template_create
from tests.factories.alliance import member_add

# Fengming Golden Street (凤鸣金街), Fengxian, Shanghai: WGS-84.
FENGMING_CENTRE = (30.9180, 121.4740)


def offset_position(latitude: float, longitude: float, *, north_metres: float = 0, east_metres: float = 0):
    """The position ``north_metres`` north and ``east_metres`` east of the one given (local plane)."""
    return (
        latitude + north_metres / METRES_PER_DEGREE_LATITUDE,
        longitude + east_metres / (METRES_PER_DEGREE_LATITUDE * math.cos(math.radians(latitude))),
    )


def square_boundary(latitude: float, longitude: float, *, half_metres: float = 300) -> dict:
    """A GeoJSON Polygon: the square of side ``2 * half_metres`` centred on the position."""
    south, west = offset_position(latitude, longitude, north_metres=-half_metres, east_metres=-half_metres)
    north, east = offset_position(latitude, longitude, north_metres=half_metres, east_metres=half_metres)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def police_admin_of(alliance: Alliance) -> User | None:
    """A police admin whose jurisdiction holds the alliance (posted to its office, its station or above), if any."""
    units = set(unit_and_units_above(alliance.station))
    if alliance.office_id is not None:
        units.update(unit_and_units_above(alliance.office))
    post = (
        StationStaff.objects.filter(
            station_id__in=units,
            user__role_grants__role=Role.POLICE_ADMIN,
            user__role_grants__revoked_at__isnull=True,
        )
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return post.user if post else None


def _acting(alliance: Alliance, by: User | None):
    """(actor, access) for a patrol geography service: ``by``, else the jurisdiction's police admin, else the
    platform (None, None)."""
    actor = by or police_admin_of(alliance)
    if actor is None:
        return None, None
    return actor, alliance_access_for(user=actor, alliance=alliance)


def zone_make(
    *,
    alliance: Alliance,
    name: str = "凤鸣金街红区",
    risk_grade: str = PatrolZone.RiskGrade.RED,
    centre: tuple[float, float] = FENGMING_CENTRE,
    half_metres: float = 300,
    boundary: dict | None = None,
    by: User | None = None,
) -> PatrolZone:
    actor, access = _acting(alliance, by)
    return patrol_zone_create(
        actor=actor,
        access=access,
        alliance=alliance,
        name=name,
        risk_grade=risk_grade,
        boundary=boundary or square_boundary(*centre, half_metres=half_metres),
    )


def grid_make(
    *,
    zone: PatrolZone,
    name: str = "一网格",
    centre: tuple[float, float] = FENGMING_CENTRE,
    half_metres: float = 50,
    by: User | None = None,
) -> PatrolGrid:
    """A square grid inside ``zone``."""
    actor, access = _acting(zone.alliance, by)
    return patrol_grid_create(
        actor=actor, access=access, zone=zone, name=name, boundary=square_boundary(*centre, half_metres=half_metres)
    )


def route_make(
    *,
    alliance: Alliance,
    zone: PatrolZone | None = None,
    name: str = "凤鸣金街主线",
    checkpoints: list[tuple[float, float]] | None = None,
    radius_metres: int = 50,
    by: User | None = None,
) -> PatrolRoute:
    """A route with its checkpoints in order (default: three, 100 m apart going east from the street's centre)."""
    if checkpoints is None:
        checkpoints = [offset_position(*FENGMING_CENTRE, east_metres=100 * step) for step in range(3)]
    actor, access = _acting(alliance, by)
    route = patrol_route_create(
        actor=actor,
        access=access,
        alliance=alliance,
        zone=zone,
        name=name,
        checkpoints=[
            {
                "name": f"{name} {position}号巡更点",
                "latitude": latitude,
                "longitude": longitude,
                "radius_metres": radius_metres,
            }
            for position, (latitude, longitude) in enumerate(checkpoints, start=1)
        ],
    )
    return route


def support_point_make(
    *,
    alliance: Alliance,
    kind: str = SupportPoint.Kind.RAPID_RESPONSE,
    name: str = "凤鸣金街快反点",
    position: tuple[float, float] = FENGMING_CENTRE,
    ring_metres: list[int] | None = None,
    by: User | None = None,
) -> SupportPoint:
    actor, access = _acting(alliance, by)
    latitude, longitude = position
    return support_point_create(
        actor=actor,
        access=access,
        alliance=alliance,
        kind=kind,
        name=name,
        latitude=latitude,
        longitude=longitude,
        ring_metres=ring_metres,
    )


def _alliance_manager(alliance: Alliance) -> User | None:
    """Someone who may make the alliance's teams: its first admin (the founding police admin in most tests)."""
    membership = AllianceMembership.objects.filter(alliance=alliance, role="admin").order_by("pk").first()
    return membership.user if membership is not None else None


def team_make(
    *,
    alliance: Alliance,
    name: str = "凤鸣金街义警队",
    kind: str = PatrolTeam.Kind.VOLUNTEER_POLICE,
    leader: User | None = None,
    members: tuple[User, ...] = (),
    by: User | None = None,
) -> PatrolTeam:
    """A team made through ``patrol_team_create`` by ``by`` (default: the alliance's first admin), with its
    contact group; leader and members must be alliance members who patrol. An alliance made without a founder has
    nobody who may make a team, so there the team is made as the admin site makes it."""
    actor = by or _alliance_manager(alliance)
    if actor is None:
        team = PatrolTeam.objects.create(alliance=alliance, name=name, kind=kind)
        if leader is not None:
            PatrolTeamMember.objects.create(team=team, user=leader, role=PatrolTeamMember.Role.LEADER)
        for member in members:
            PatrolTeamMember.objects.create(team=team, user=member)
        return team
    team = patrol_team_create(
        actor=actor,
        access=alliance_access_for(user=actor, alliance=alliance),
        name=name,
        kind=kind,
        leader_ids=[leader.pk] if leader is not None else [],
    )
    team_access = team_access_or_404(user=actor, team_id=team.pk)
    for member in members:
        patrol_team_member_add(actor=actor, team_access=team_access, user_id=member.pk)
    return team


def template_make(
    *,
    team: PatrolTeam,
    zone: PatrolZone,
    by: User | None = None,
    name: str = "夜间巡逻",
    rrule: str = "FREQ=DAILY",
    starts_on: date | None = None,
    start_time: time = time(22, 0),
    duration_minutes: int = 240,
    slots: dict | None = None,
    route: PatrolRoute | None = None,
    now: datetime | None = None,
) -> ShiftTemplate:
    """A template through ``shift_template_create`` (its shifts over the horizon are made at once)."""
    actor = by or _alliance_manager(team.alliance)
    now = now or timezone.now()
    return shift_template_create(
        actor=actor,
        team_access=team_access_or_404(user=actor, team_id=team.pk),
        name=name,
        rrule=rrule,
        starts_on=starts_on or timezone.localdate(now),
        start_time=start_time,
        duration_minutes=duration_minutes,
        zone_id=zone.pk,
        route_id=route.pk if route is not None else None,
        slots=slots or {"fixed": 1, "mobile": 3, "vehicle": 1},
        now=now,
    )


def shift_make(
    *,
    team: PatrolTeam,
    zone: PatrolZone,
    starts_at: datetime,
    hours: float = 4,
    route: PatrolRoute | None = None,
    slots: dict | None = None,
    name: str = "夜间巡逻",
) -> Shift:
    """An ad-hoc shift at any time, past ones included (``shift_create`` takes future ones only), with the timers
    the app sets."""
    ends_at = starts_at + timedelta(hours=hours)
    return Shift.objects.create(
        team=team,
        alliance=team.alliance,
        zone=zone,
        route=route,
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        slots=slots or {"fixed": 1, "mobile": 3, "vehicle": 1},
        **shift_deadlines(starts_at=starts_at, ends_at=ends_at),
    )


def signup_make(*, shift: Shift, user: User, role: str = "mobile") -> ShiftSignup:
    """``user`` signs up through ``shift_signup`` (eligibility, capacity, overlaps), joining the shift's alliance as a
    volunteer first when not a member; on a shift already running the sign-up is made as at a minute before its
    start."""
    if not AllianceMembership.objects.filter(alliance_id=shift.alliance_id, user=user).exists():
        member_add(shift.alliance, user, AllianceMembership.Role.VOLUNTEER)  # a volunteer joins, then signs up
    now = min(timezone.now(), shift.starts_at - timedelta(minutes=1))
    return shift_signup(actor=user, shift=shift, role=role, now=now)
