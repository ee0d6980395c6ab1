"""Patrol zones, routes, teams, shifts and sign-ups for the tests.

These start as plain ORM rows so that every part of the patrol work can be tested from the first day; each
function moves to the service that makes its object in the app as soon as that service exists (zones and routes:
``groups/services/patrol_zones.py``; teams, shifts and sign-ups: ``groups/services/patrol_*``), keeping its
signature, so the tests built on it follow."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from alliance.models import Alliance, AllianceMembership
from alliance.selectors import alliance_access_for
from config.geo import METRES_PER_DEGREE_LATITUDE
from groups.models import (
    Checkpoint,
    PatrolRoute,
    PatrolTeam,
    PatrolTeamMember,
    PatrolZone,
    Shift,
    ShiftSignup,
    ShiftTemplate,
)
from groups.selectors.patrol_rosters import team_access_or_404
from groups.services.patrol_teams import patrol_team_create, patrol_team_member_add
from groups.services.shift_signups import shift_signup
from groups.services.shifts import shift_deadlines, shift_template_create

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


def zone_make(
    *,
    alliance: Alliance,
    name: str = "凤鸣金街红区",
    risk_grade: str = PatrolZone.RiskGrade.RED,
    centre: tuple[float, float] = FENGMING_CENTRE,
    half_metres: float = 300,
    boundary: dict | None = None,
) -> PatrolZone:
    boundary = boundary or square_boundary(*centre, half_metres=half_metres)
    longitudes = [position[0] for position in boundary["coordinates"][0]]
    latitudes = [position[1] for position in boundary["coordinates"][0]]
    return PatrolZone.objects.create(
        alliance=alliance,
        name=name,
        risk_grade=risk_grade,
        boundary=boundary,
        min_latitude=min(latitudes),
        max_latitude=max(latitudes),
        min_longitude=min(longitudes),
        max_longitude=max(longitudes),
    )


def route_make(
    *,
    alliance: Alliance,
    zone: PatrolZone | None = None,
    name: str = "凤鸣金街主线",
    checkpoints: list[tuple[float, float]] | None = None,
    radius_metres: int = 50,
) -> PatrolRoute:
    """A route with its checkpoints in order (default: three, 100 m apart going east from the street's centre)."""
    route = PatrolRoute.objects.create(alliance=alliance, zone=zone, name=name)
    if checkpoints is None:
        checkpoints = [offset_position(*FENGMING_CENTRE, east_metres=100 * step) for step in range(3)]
    for position, (latitude, longitude) in enumerate(checkpoints, start=1):
        Checkpoint.objects.create(
            route=route,
            position=position,
            name=f"{name} {position}号巡更点",
            latitude=latitude,
            longitude=longitude,
            radius_metres=radius_metres,
        )
    return route


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
    """``user`` signs up through ``shift_signup`` (eligibility, capacity, overlaps); on a shift already running the
    sign-up is made as at a minute before its start."""
    now = min(timezone.now(), shift.starts_at - timedelta(minutes=1))
    return shift_signup(actor=user, shift=shift, role=role, now=now)
