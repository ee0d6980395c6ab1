"""The demo city's patrol (``manage.py seed_demo``, through ``alliance/demo_city.py``): Fengming Golden Street
(凤鸣金街) split into a red, a yellow and a blue zone with grids, its patrol main line with five checkpoints, its
support points, the volunteer police team (平安义警队) with its leader, the nightly 22:00-02:00 shift and tonight's
shift with three of its five places taken, so that a volunteer can sign up for the rest from the app.

Positions are WGS-84, around the demo street's centre (``seed_demo.ALLIANCES``; its stores line the street from
116.5938 to 116.5966 east, 34.69585 to 34.69615 north), and the red zone holds every store. Like the rest of the
seed, rows are found by stable keys (names within their alliance, team, zone or route; the template and start of a
shift) and only what is missing is made.

Rows are made with the ORM for now. Each part moves to its service once that exists, keeping the keys:
zones, grids, routes and checkpoints to ``groups/services/patrol_zones.py`` (which validates the GeoJSON and keeps
the bounding box), support points to their service beside it, the team and its members to the team service (which
also makes the team's contact group), the template and tonight's shift to the shift generation (which owns the
reminder, no-show and close deadlines), the places to the sign-up service.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from alliance.demo_city import DemoLogin
from alliance.management.commands.seed_demo import FENGMING
from alliance.models import Alliance
from groups.models import (
    Checkpoint,
    PatrolGrid,
    PatrolRoute,
    PatrolTeam,
    PatrolTeamMember,
    PatrolZone,
    Shift,
    ShiftSignup,
    ShiftTemplate,
    SlotRole,
    SupportPoint,
)

TEAM = "凤鸣金街平安义警队"
ROUTE = "凤鸣金街巡逻主线"
NIGHT_SHIFT = "凤鸣金街夜巡"
NIGHT_STARTS, NIGHT_MINUTES = time(22, 0), 4 * 60  # the Fengxian article: patrols hardest from 22:00 to 02:00
NIGHT_SLOTS = {"fixed": 1, "mobile": 3, "vehicle": 1}  # the "1+3+1" layout


def _box(west: float, south: float, east: float, north: float) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


RED, YELLOW, BLUE = PatrolZone.RiskGrade.RED, PatrolZone.RiskGrade.YELLOW, PatrolZone.RiskGrade.BLUE
# (name, grade, boundary, focus hours, grids as (name, boundary)). The red zone is the street itself with about 50 m
# to spare on every side; the yellow zone the homes and shops north of it; the blue zone the edge south of it.
ZONES = (
    (
        "凤鸣金街红区（核心商业街）",
        RED,
        _box(116.5932, 34.6955, 116.5972, 34.6966),
        (time(22, 0), time(2, 0)),
        (
            ("红区西段网格", _box(116.5932, 34.6955, 116.5952, 34.6966)),
            ("红区东段网格", _box(116.5952, 34.6955, 116.5972, 34.6966)),
        ),
    ),
    (
        "凤鸣金街黄区（北侧商住片区）",
        YELLOW,
        _box(116.5925, 34.6966, 116.5980, 34.6985),
        (time(20, 0), time(0, 0)),
        (("黄区北片网格", _box(116.5925, 34.6966, 116.5980, 34.6985)),),
    ),
    (
        "凤鸣金街蓝区（南侧外围）",
        BLUE,
        _box(116.5925, 34.6935, 116.5980, 34.6955),
        None,
        (("蓝区南片网格", _box(116.5925, 34.6935, 116.5980, 34.6955)),),
    ),
)
# West to east along the middle of the street; 50 m rings.
CHECKPOINTS = (
    ("西口牌坊", 34.69600, 116.59350),
    ("花漾花店门前", 34.69600, 116.59420),
    ("金街中心广场", 34.69600, 116.59500),
    ("星光KTV门前", 34.69600, 116.59580),
    ("东口停车场", 34.69600, 116.59680),
)
# (kind, name, latitude, longitude, metres reached in 1, 3 and 5 minutes: on foot for posts, by e-bike for the
# rapid-response point)
SUPPORT_POINTS = (
    (SupportPoint.Kind.WORKSTATION, "凤鸣警务站", 34.69625, 116.59510, [80, 240, 400]),
    (SupportPoint.Kind.TRAFFIC_BOOTH, "凤鸣路口交通岗亭", 34.69600, 116.59300, [80, 240, 400]),
    (SupportPoint.Kind.RAPID_RESPONSE, "凤鸣金街1、3、5分钟快反点", 34.69580, 116.59650, [300, 900, 1500]),
)
LEADER = "+8613800000037"
# (phone, place tonight or None: left free for the demo of signing up)
TEAM_MEMBERS = (
    (LEADER, "fixed"),
    ("+8613800000034", "mobile"),  # 张大姐
    ("+8613800000035", "mobile"),  # 赵师傅
    ("+8613800000036", None),  # 义警小刘: signs up from the app in the demo
    ("+8613800000038", None),  # 义警小陈
)


def seed_fengming_patrol(*, alliances: dict[str, Alliance], created: Counter[str]) -> list[DemoLogin]:
    """The part registered with ``alliance.demo_city``: idempotent, inside the seed's transaction."""
    alliance = alliances[FENGMING]
    zones = _seed_zones(alliance, created)
    red = zones[ZONES[0][0]]
    route = _seed_route(alliance, red, created)
    _seed_support_points(alliance, created)
    team, people = _seed_team(alliance, created)
    shift = _seed_tonight(team, red, route, created)
    places = _seed_places(shift, people, created)
    window = f"{timezone.localtime(shift.starts_at):%m-%d %H:%M}-{timezone.localtime(shift.ends_at):%H:%M}"
    logins = []
    for phone, _place in TEAM_MEMBERS:
        user = people[phone]
        place = places.get(phone)
        tonight = f"tonight {window}: {SlotRole(place).label}" if place else f"tonight {window}: not signed up yet"
        role = "team leader" if phone == LEADER else "volunteer"
        logins.append(DemoLogin(role, user.display_name, phone, f"{team.name} · {tonight}"))
    return logins


def _bounding_box(boundary: dict) -> dict:
    longitudes = [position[0] for position in boundary["coordinates"][0]]
    latitudes = [position[1] for position in boundary["coordinates"][0]]
    return {
        "min_latitude": min(latitudes),
        "max_latitude": max(latitudes),
        "min_longitude": min(longitudes),
        "max_longitude": max(longitudes),
    }


def _seed_zones(alliance: Alliance, created: Counter[str]) -> dict[str, PatrolZone]:
    zones = {}
    for name, grade, boundary, focus, grids in ZONES:
        zone, is_new = PatrolZone.objects.get_or_create(
            alliance=alliance,
            name=name,
            defaults={
                "risk_grade": grade,
                "boundary": boundary,
                "focus_starts": focus[0] if focus else None,
                "focus_ends": focus[1] if focus else None,
                **_bounding_box(boundary),
            },
        )
        created["patrol zones"] += is_new
        for grid_name, grid_boundary in grids:
            _, is_new = PatrolGrid.objects.get_or_create(
                zone=zone, name=grid_name, defaults={"boundary": grid_boundary}
            )
            created["grids"] += is_new
        zones[name] = zone
    return zones


def _seed_route(alliance: Alliance, zone: PatrolZone, created: Counter[str]) -> PatrolRoute:
    route, is_new = PatrolRoute.objects.get_or_create(alliance=alliance, name=ROUTE, defaults={"zone": zone})
    created["patrol routes"] += is_new
    for position, (name, latitude, longitude) in enumerate(CHECKPOINTS, start=1):
        _, is_new = Checkpoint.objects.get_or_create(
            route=route,
            position=position,
            defaults={"name": name, "latitude": latitude, "longitude": longitude, "radius_metres": 50},
        )
        created["checkpoints"] += is_new
    return route


def _seed_support_points(alliance: Alliance, created: Counter[str]) -> None:
    for kind, name, latitude, longitude, rings in SUPPORT_POINTS:
        _, is_new = SupportPoint.objects.get_or_create(
            alliance=alliance,
            name=name,
            defaults={"kind": kind, "latitude": latitude, "longitude": longitude, "ring_metres": rings},
        )
        created["support points"] += is_new


def _seed_team(alliance: Alliance, created: Counter[str]) -> tuple[PatrolTeam, dict[str, User]]:
    team, is_new = PatrolTeam.objects.get_or_create(
        alliance=alliance, name=TEAM, defaults={"kind": PatrolTeam.Kind.VOLUNTEER_POLICE}
    )
    created["patrol teams"] += is_new
    # The people are the alliance's volunteers, made by the seed before this part runs.
    people = {str(user.phone): user for user in User.objects.filter(phone__in=[p for p, _ in TEAM_MEMBERS])}
    for phone, _place in TEAM_MEMBERS:
        role = PatrolTeamMember.Role.LEADER if phone == LEADER else PatrolTeamMember.Role.MEMBER
        _, is_new = PatrolTeamMember.objects.get_or_create(team=team, user=people[phone], defaults={"role": role})
        created["team members"] += is_new
    return team, people


def tonight_starts(now: datetime | None = None) -> datetime:
    """The start of the night shift that has not ended yet: today's 22:00 (Asia/Shanghai), or yesterday's while it
    is still on (before 02:00)."""
    local = timezone.localtime(now)
    day = local.date()
    if local.time() < (datetime.combine(day, NIGHT_STARTS) + timedelta(minutes=NIGHT_MINUTES)).time():
        day -= timedelta(days=1)
    return datetime.combine(day, NIGHT_STARTS, tzinfo=timezone.get_default_timezone())


def _seed_tonight(team: PatrolTeam, zone: PatrolZone, route: PatrolRoute, created: Counter[str]) -> Shift:
    starts_at = tonight_starts()
    template, is_new = ShiftTemplate.objects.get_or_create(
        team=team,
        name=NIGHT_SHIFT,
        defaults={
            "rrule": "FREQ=DAILY",
            "starts_on": timezone.localtime(starts_at).date(),
            "start_time": NIGHT_STARTS,
            "duration_minutes": NIGHT_MINUTES,
            "zone": zone,
            "route": route,
            "slots": NIGHT_SLOTS,
        },
    )
    created["shift templates"] += is_new
    ends_at = starts_at + timedelta(minutes=NIGHT_MINUTES)
    shift, is_new = Shift.objects.get_or_create(
        template=template,
        starts_at=starts_at,
        defaults={
            "team": team,
            "alliance": team.alliance,
            "zone": zone,
            "route": route,
            "name": NIGHT_SHIFT,
            "ends_at": ends_at,
            "slots": NIGHT_SLOTS,
            # The patrol sweep's deadlines, as the shift generation sets them: a reminder an hour before, the
            # no-show check half an hour in, the automatic check-out at the end.
            "remind_at": starts_at - timedelta(hours=1),
            "no_show_check_at": starts_at + timedelta(minutes=30),
            "close_at": ends_at,
        },
    )
    created["shifts"] += is_new
    return shift


def _seed_places(shift: Shift, people: dict[str, User], created: Counter[str]) -> dict[str, str]:
    """Tonight's places by phone. A person who already has a row on the shift (signed up, or cancelled in the demo)
    is left as they are."""
    for phone, place in TEAM_MEMBERS:
        if place is None or ShiftSignup.objects.filter(shift=shift, user=people[phone]).exists():
            continue
        ShiftSignup.objects.create(shift=shift, user=people[phone], role=place, status=ShiftSignup.Status.CONFIRMED)
        created["sign-ups"] += 1
    holding = ShiftSignup.objects.filter(shift=shift, status=ShiftSignup.Status.CONFIRMED).select_related("user")
    return {str(signup.user.phone): signup.role for signup in holding if signup.user.phone}
