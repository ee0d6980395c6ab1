"""The demo city's patrol (``manage.py seed_demo``, through ``alliance/demo_city.py``): Fengming Golden Street
(凤鸣金街) split into a red, a yellow and a blue zone with grids, its patrol main line with five checkpoints, its
support points, the volunteer police team (平安义警队) with its leader and contact group, the nightly 22:00-02:00
template with its shifts over the planning horizon, and tonight's shift with three of its five places taken, so that a
volunteer can sign up for the rest from the app.

Positions are WGS-84, around the demo street's centre (``seed_demo.ALLIANCES``; its stores line the street from
116.5938 to 116.5966 east, 34.69585 to 34.69615 north), and the red zone holds every store. Like the rest of the
seed, rows are found by stable keys (names within their alliance, team, zone or route; the template and start of a
shift) and only what is missing is made.

Each part is made through the service that makes it in the app, so the demo's rows are what the app would have
made (boundaries checked and their bounding boxes kept, the team's contact group, the shifts' deadlines): zones,
grids, the route with its checkpoints and the support points through ``groups/services/patrol_zones.py`` as the
platform itself (``actor=None``, the admin site's and the seed's path); the team and its members through
``groups/services/patrol_teams.py`` by the alliance's founding police admin (who runs the alliance, so may make
teams; they are the admin of the team's contact group, as its maker is in the app); the nightly template through
``shift_template_create`` by the team's leader and tonight's shift from the generator (``shifts_generate_for_template``,
on the unique (template, start) key); the places through ``shift_signup`` by each volunteer.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from django.utils import timezone

from accounts.models import Role, User
from alliance.demo_city import DemoLogin
from alliance.management.commands.seed_demo import FENGMING, PEOPLE
from alliance.models import Alliance
from alliance.selectors.alliances import alliance_access_for
from groups.models import (
    GroupMembership,
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
from groups.selectors.patrol_rosters import team_access_or_404
from groups.services.contact_groups import team_group_create
from groups.services.patrol_teams import patrol_team_create, patrol_team_member_add
from groups.services.patrol_zones import (
    checkpoint_create,
    patrol_grid_create,
    patrol_route_create,
    patrol_zone_create,
    support_point_create,
)
from groups.services.shift_signups import shift_signup
from groups.services.shifts import shift_template_create, shifts_generate_for_template

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


# The alliance's founding police admin (陈所长, the station chief): runs the alliance, so makes its patrol team.
POLICE_ADMIN = next(
    phone for phone, _name, role, _in_alliance, slugs in PEOPLE if role == Role.POLICE_ADMIN and FENGMING in slugs
)


def seed_fengming_patrol(*, alliances: dict[str, Alliance], created: Counter[str]) -> list[DemoLogin]:
    """The part registered with ``alliance.demo_city``: idempotent, inside the seed's transaction."""
    alliance = alliances[FENGMING]
    zones = _seed_zones(alliance, created)
    red = zones[ZONES[0][0]]
    route = _seed_route(alliance, red, created)
    _seed_support_points(alliance, created)
    team, people = _seed_team(alliance, created)
    shift = _seed_tonight(team, red, route, people[LEADER], created)
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


def _seed_zones(alliance: Alliance, created: Counter[str]) -> dict[str, PatrolZone]:
    zones = {}
    for name, grade, boundary, focus, grids in ZONES:
        zone = PatrolZone.objects.filter(alliance=alliance, name=name).first()
        if zone is None:
            zone = patrol_zone_create(
                actor=None,
                access=None,
                alliance=alliance,
                name=name,
                risk_grade=grade,
                boundary=boundary,
                focus_starts=focus[0] if focus else None,
                focus_ends=focus[1] if focus else None,
            )
            created["patrol zones"] += 1
        # A zone archived by hand keeps its grids as they were (the service refuses changes to it).
        known = set(zone.grids.values_list("name", flat=True))
        for grid_name, grid_boundary in grids:
            if grid_name not in known and not zone.is_archived:
                patrol_grid_create(actor=None, access=None, zone=zone, name=grid_name, boundary=grid_boundary)
                created["grids"] += 1
        zones[name] = zone
    return zones


def _checkpoint_fields(position: int) -> dict:
    name, latitude, longitude = CHECKPOINTS[position - 1]
    return {"name": name, "latitude": latitude, "longitude": longitude, "radius_metres": 50, "position": position}


def _seed_route(alliance: Alliance, zone: PatrolZone, created: Counter[str]) -> PatrolRoute:
    route = PatrolRoute.objects.filter(alliance=alliance, name=ROUTE).first()
    positions = range(1, len(CHECKPOINTS) + 1)
    if route is None:
        checkpoints = [_checkpoint_fields(position) for position in positions]
        route = patrol_route_create(
            actor=None, access=None, alliance=alliance, name=ROUTE, zone=zone, checkpoints=checkpoints
        )
        created["patrol routes"] += 1
        created["checkpoints"] += len(checkpoints)
        return route
    if route.is_archived:
        return route
    taken = set(route.checkpoints.values_list("position", flat=True))
    for position in positions:
        if position not in taken:
            checkpoint_create(actor=None, access=None, route=route, **_checkpoint_fields(position))
            created["checkpoints"] += 1
    return route


def _seed_support_points(alliance: Alliance, created: Counter[str]) -> None:
    known = set(SupportPoint.objects.filter(alliance=alliance).values_list("name", flat=True))
    for kind, name, latitude, longitude, rings in SUPPORT_POINTS:
        if name not in known:
            support_point_create(
                actor=None,
                access=None,
                alliance=alliance,
                kind=kind,
                name=name,
                latitude=latitude,
                longitude=longitude,
                ring_metres=rings,
            )
            created["support points"] += 1


def _seed_team(alliance: Alliance, created: Counter[str]) -> tuple[PatrolTeam, dict[str, User]]:
    # The people are the alliance's volunteers, made by the seed before this part runs.
    people = {str(user.phone): user for user in User.objects.filter(phone__in=[p for p, _ in TEAM_MEMBERS])}
    police_admin = User.objects.get(phone=POLICE_ADMIN)
    team = PatrolTeam.objects.filter(alliance=alliance, name=TEAM).first()
    if team is None:
        access = alliance_access_for(user=police_admin, alliance=alliance)
        team = patrol_team_create(
            actor=police_admin,
            access=access,
            name=TEAM,
            kind=PatrolTeam.Kind.VOLUNTEER_POLICE,
            leader_ids=[people[LEADER].pk],
        )
        created["patrol teams"] += 1
        created["team members"] += 1
    elif team.contact_group is None:
        # A team seeded before teams had their contact group gets one, as the app would have made it.
        access = alliance_access_for(user=police_admin, alliance=alliance)
        team.contact_group = team_group_create(actor=police_admin, access=access, name=team.name, member_ids=[])
        team.save(update_fields=["contact_group"])
    team_access = team_access_or_404(user=police_admin, team_id=team.pk)
    roles = dict(PatrolTeamMember.objects.filter(team=team).values_list("user_id", "role"))
    in_group = set(GroupMembership.objects.filter(group=team.contact_group).values_list("user_id", flat=True))
    for phone, _place in TEAM_MEMBERS:
        user = people[phone]
        if user.pk in roles and user.pk in in_group:
            continue  # a role changed by hand stays as it is
        default = PatrolTeamMember.Role.LEADER if phone == LEADER else PatrolTeamMember.Role.MEMBER
        patrol_team_member_add(
            actor=police_admin, team_access=team_access, user_id=user.pk, role=roles.get(user.pk, default)
        )
        created["team members"] += user.pk not in roles
    return team, people


def tonight_starts(now: datetime | None = None) -> datetime:
    """The start of the night shift that has not ended yet: today's 22:00 (Asia/Shanghai), or yesterday's while it
    is still on (before 02:00)."""
    local = timezone.localtime(now)
    day = local.date()
    if local.time() < (datetime.combine(day, NIGHT_STARTS) + timedelta(minutes=NIGHT_MINUTES)).time():
        day -= timedelta(days=1)
    return datetime.combine(day, NIGHT_STARTS, tzinfo=timezone.get_default_timezone())


def _seed_tonight(team: PatrolTeam, zone: PatrolZone, route: PatrolRoute, leader: User, created: Counter[str]) -> Shift:
    """The nightly template (planned by the team's leader) and tonight's shift from the shift generator.

    The generator makes the shifts that start from the ``now`` it is given onward, so after 22:00 (and until the
    shift ends at 02:00) it would begin with tomorrow's. The seed hands it tonight's start as ``now`` instead: the
    demo is about tonight's shift, which then has the deadlines every generated shift has. Seeded while the shift
    is on, those deadlines are due at once, as they would be for a shift that started while the sweep was down:
    the sweep sends the late reminder and marks who has not checked in a no-show (a late check-in still counts).
    """
    starts_at = tonight_starts()
    before = Shift.objects.filter(team=team).count()
    template = ShiftTemplate.objects.filter(team=team, name=NIGHT_SHIFT).first()
    if template is None:
        template = shift_template_create(
            actor=leader,
            team_access=team_access_or_404(user=leader, team_id=team.pk),
            name=NIGHT_SHIFT,
            rrule="FREQ=DAILY",
            starts_on=timezone.localtime(starts_at).date(),
            start_time=NIGHT_STARTS,
            duration_minutes=NIGHT_MINUTES,
            zone_id=zone.pk,
            route_id=route.pk,
            slots=NIGHT_SLOTS,
            now=starts_at,
        )
        created["shift templates"] += 1
    else:
        # Seeded on an earlier day: tonight's shift (and the nights after it) are made by the same generator.
        shifts_generate_for_template(template=template, now=starts_at)
    created["shifts"] += Shift.objects.filter(team=team).count() - before
    return Shift.objects.select_related("team__alliance").get(template=template, starts_at=starts_at)


def _seed_places(shift: Shift, people: dict[str, User], created: Counter[str]) -> dict[str, str]:
    """Tonight's places by phone. A person who already has a row on the shift (signed up, or cancelled in the demo)
    is left as they are, and a shift cancelled by hand gets no places."""
    # The volunteers signed up before the shift began: seeded while it is on, they did so an hour before its start
    # (sign-ups close at the start).
    signed_up_at = min(timezone.now(), shift.starts_at - timedelta(hours=1))
    for phone, place in TEAM_MEMBERS:
        if place is None or shift.status != Shift.Status.SCHEDULED:
            continue
        if ShiftSignup.objects.filter(shift=shift, user=people[phone]).exists():
            continue
        shift_signup(actor=people[phone], shift=shift, role=place, now=signed_up_at)
        created["sign-ups"] += 1
    holding = ShiftSignup.objects.filter(shift=shift, status=ShiftSignup.Status.CONFIRMED).select_related("user")
    return {str(signup.user.phone): signup.role for signup in holding if signup.user.phone}
