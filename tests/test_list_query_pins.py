"""Every list endpoint (a GET answering a page of rows) has its query count pinned, and the count does not grow with
the rows: each is asked with 2 rows, then with 10, and must make no more queries the second time (an N+1 shows as
8 more) and no more than its pin. A list endpoint that appears in the schema without a pin here fails the suite."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accounts.models import Role
from accounts.services import device_register
from alliance.alert_audience import AudienceSpec
from alliance.models import Alliance, SafeStoreRanking, SafeStoreRankingEntry, TipSchedule
from alliance.services.tips import tip_occurrences_send_due
from config.errors import ApplicationError
from groups.selectors.patrol_rosters import team_access_or_404
from groups.services.patrol_teams import patrol_team_member_add
from groups.services.shift_check_ins import shift_check_in
from tests.factories.accounts import role_granted
from tests.factories.alerts import alert_make
from tests.factories.alliance import (
    MemberRole,
    alliance_make,
    invite_make,
    join_request_make,
    member_add,
    office_make,
    station_staff_post,
    store_make,
    store_staff_make,
)
from tests.factories.groups import message_make, team_make
from tests.factories.patrol import (
    FENGMING_CENTRE,
    grid_make,
    offset_position,
    route_make,
    shift_make,
    signup_make,
    support_point_make,
    template_make,
    zone_make,
)
from tests.factories.patrol import shift_make as patrol_shift_make
from tests.factories.patrol import team_make as patrol_team_make
from tests.factories.patrol import zone_make as patrol_zone_make
from tests.factories.points import points_entry_make
from tests.factories.reports import comment_make, dispute_make, incident_make
from tests.factories.rewards import points_give, redemption_make, reward_make
from tests.factories.safe_store_awards import badge_make, last_period_start, ranking_snapshot_make
from tests.factories.safe_stores import inspection_make, ranking_make, stores_make
from tests.factories.tips import schedule_make, tip_make
from tests.fixtures.street import Street, build_street
from tests.world import case_photo

HERE = {"latitude": Decimal("31.777012"), "longitude": Decimal("119.956301")}


@dataclass
class World:
    """The shared street, founded by its police admin, plus what the growers made along the way."""

    street: Street
    admin: object
    user_factory: Callable
    joiner: object = None
    incident: object = None
    zone: object = None
    shift: object = None
    patrol_team: object = None
    patrol_zone: object = None
    patroller: object = None  # a volunteer of the alliance, on the team
    safe_store_ranking: object = None
    ranking: object = None  # a final Safe Store ranking of the street's alliance
    alert: object = None  # an alert to the street's merchants
    tip_schedule: object = None  # a tip schedule of the street's office, to its alliance

    def person(self, role: str = Role.MERCHANT, alliance_role: str | None = MemberRole.MERCHANT):
        user = self.user_factory(roles=[role])
        if alliance_role:
            member_add(self.street.alliance, user, alliance_role)
        return user


@dataclass(frozen=True)
class Pin:
    path: str  # formatted with the world: {alliance}, {station}, {store}, {group}, {incident}
    viewer: Callable[[World], object]
    add: Callable[[World, int, int], None]  # add(world, first, count): rows number first .. first + count - 1
    max_queries: int
    grows: bool = True  # False: the list does not depend on rows (a fixed catalogue)


def _alliances(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        alliance_make(name=f"第{number}联盟", slug=f"pin-{number}", station=world.street.station, founder=world.admin)


def _joins(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        alliance = alliance_make(
            name=f"第{number}联盟", slug=f"pin-{number}", station=world.street.station, founder=world.admin
        )
        join_request_make(invite=invite_make(alliance=alliance, by=world.admin), user=world.joiner)


def _invites(world: World, first: int, count: int) -> None:
    for _ in range(count):
        invite_make(alliance=world.street.alliance, by=world.admin, role=MemberRole.MERCHANT)


def _join_requests(world: World, first: int, count: int) -> None:
    invite = invite_make(alliance=world.street.alliance, by=world.admin)
    for _ in range(count):
        join_request_make(invite=invite, user=world.user_factory(roles=[Role.VOLUNTEER]))


def _members(world: World, first: int, count: int) -> None:
    for number in range(count):
        if number % 2:
            world.person(Role.VOLUNTEER, MemberRole.VOLUNTEER)
        else:
            world.person()


def _disputes(world: World, first: int, count: int) -> None:
    for number in range(count):
        reporter = world.street.merchant if number % 2 else world.person()
        dispute_make(
            reporter=reporter,
            alliance=world.street.alliance,
            note=f"争执{first + number}",
            photos=[case_photo()],
            **HERE,
        )


def _teams(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        members = [world.person(Role.VOLUNTEER, MemberRole.VOLUNTEER)]
        team_make(alliance=world.street.alliance, by=world.admin, name=f"巡逻{number}队", members=members)


def _messages(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        message_make(group=world.street.main, sender=world.person(), body=f"第{number}条")


def _incidents(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        reporter = world.street.merchant if number % 2 else world.person()
        incident_make(
            reporter=reporter,
            alliance=world.street.alliance,
            description=f"电动车被偷{number}",
            photos=[case_photo()],
            **HERE,
        )


def _comments(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        author = world.admin if number % 2 else world.street.merchant
        comment_make(incident=world.incident, author=author, body=f"第{number}条")


def _duplicates(world: World, first: int, count: int) -> None:
    # Reports of the same kind at the same store's place: each is a possible duplicate of the first.
    for number in range(first, first + count):
        incident_make(reporter=world.street.merchant, alliance=world.street.alliance, description=f"又被偷{number}")


def _role_grants(world: World, first: int, count: int) -> None:
    for _ in range(count):
        role_granted(user=world.person(), role=Role.VOLUNTEER, by=world.admin)


def _offices(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        office_make(station=world.street.station, name=f"第{number}警务室")


def _station_staff(world: World, first: int, count: int) -> None:
    for _ in range(count):
        station_staff_post(station=world.street.station, user=world.user_factory(roles=[Role.OFFICER]), by=world.admin)


def _stores(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        store_make(owner=world.person(), alliance=world.street.alliance, name=f"第{number}号店")


def _safe_stores(world: World, first: int, count: int) -> None:
    """Safe Stores of the last half-year's ranking (made on first use), a store and its badge at a time."""
    if world.safe_store_ranking is None:
        last_half_year = last_period_start(timezone.localdate())
        world.safe_store_ranking = ranking_snapshot_make(world.street.alliance, last_half_year, [])
    for number in range(first, first + count):
        store = store_make(owner=world.person(), alliance=world.street.alliance, name=f"平安{number}号店")
        badge_make(ranking=world.safe_store_ranking, store=store, place=number)


def _store_staff(world: World, first: int, count: int) -> None:
    for _ in range(count):
        store_staff_make(store=world.street.store, user=world.person(Role.VOLUNTEER, MemberRole.VOLUNTEER))


def _patrol_zones(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        centre = offset_position(*FENGMING_CENTRE, east_metres=1000 * number)
        zone_make(alliance=world.street.alliance, by=world.admin, name=f"第{number}巡区", centre=centre)


def _patrol_grids(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        centre = offset_position(*FENGMING_CENTRE, east_metres=40 * number - 200)
        grid_make(zone=world.zone, by=world.admin, name=f"第{number}网格", centre=centre, half_metres=15)


def _patrol_routes(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        route_make(alliance=world.street.alliance, by=world.admin, name=f"第{number}线")


def _support_points(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        position = offset_position(*FENGMING_CENTRE, north_metres=50 * number)
        support_point_make(alliance=world.street.alliance, by=world.admin, name=f"第{number}点", position=position)


def _patrol_shift(world: World):
    """A patrol shift of the street's alliance, under way, led by the police admin (made on first use)."""
    if world.shift is None:
        zone = patrol_zone_make(alliance=world.street.alliance)
        team = patrol_team_make(alliance=world.street.alliance, leader=world.admin)
        world.shift = patrol_shift_make(team=team, zone=zone, starts_at=timezone.now() - timedelta(minutes=10))
    return world.shift


def _patrol_attempts(world: World, first: int, count: int) -> None:
    # Each by another volunteer with a place on the shift: refused check-ins, from 2 km away.
    shift = _patrol_shift(world)
    far = offset_position(*FENGMING_CENTRE, north_metres=2000)
    for _ in range(count):
        volunteer = world.person(Role.VOLUNTEER, MemberRole.VOLUNTEER)
        signup_make(shift=shift, user=volunteer)
        with contextlib.suppress(ApplicationError):
            shift_check_in(
                user=volunteer,
                shift=shift,
                latitude=far[0],
                longitude=far[1],
                accuracy_metres=10,
                device_time=timezone.now(),
            )


def _patrol_teams(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        leader = world.person(Role.VOLUNTEER, MemberRole.VOLUNTEER)
        patrol_team_make(alliance=world.street.alliance, by=world.admin, name=f"第{number}巡逻队", leader=leader)


def _patrol_members(world: World, first: int, count: int) -> None:
    for _ in range(count):
        patrol_team_member_add(
            actor=world.admin,
            team_access=team_access_or_404(user=world.admin, team_id=world.patrol_team.pk),
            user_id=world.person(Role.VOLUNTEER, MemberRole.VOLUNTEER).pk,
        )


def _shift_templates(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        template_make(
            team=world.patrol_team, zone=world.patrol_zone, by=world.admin, name=f"第{number}班", rrule="FREQ=MONTHLY"
        )


def _shifts(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        shift = shift_make(
            team=world.patrol_team, zone=world.patrol_zone, starts_at=timezone.now() + timedelta(days=number)
        )
        signup_make(shift=shift, user=world.patroller)
        signup_make(shift=shift, user=world.person(Role.VOLUNTEER, MemberRole.VOLUNTEER), role="fixed")


def _on_duty(world: World, first: int, count: int) -> None:
    """Volunteers checked in to a shift of the street's alliance, now."""
    alliance = world.street.alliance
    shift = shift_make(
        team=patrol_team_make(alliance=alliance, name=f"第{first}队"),
        zone=zone_make(alliance=alliance, name=f"第{first}巡区"),
        starts_at=timezone.now() - timedelta(hours=1),
    )
    for number in range(first, first + count):
        signup = signup_make(shift=shift, user=world.person(Role.VOLUNTEER, MemberRole.VOLUNTEER))
        signup.attendance, signup.checked_in_at = "on_duty", timezone.now()
        signup.last_latitude, signup.last_longitude = 31.777 + number / 10_000, 119.956
        signup.save()


def _rewards(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        reward_make(alliance=world.street.alliance, by=world.admin, name=f"第{number}号奖励", price=number)


def _redemptions(world: World, first: int, count: int) -> None:
    # Each by another member, for another reward (the patroller's own among them, for "my requests").
    for number in range(first, first + count):
        reward = reward_make(alliance=world.street.alliance, by=world.admin, name=f"第{number}号奖励", price=10)
        for person in (world.patroller, world.person(Role.VOLUNTEER, MemberRole.VOLUNTEER)):
            points_give(user=person, alliance=world.street.alliance, amount=10)
            redemption_make(reward=reward, user=person)


def _safe_store_stores(world: World, first: int, count: int) -> None:
    """Stores of the street's alliance, ranked in the live Safe Store preview."""
    stores_make(alliance=world.street.alliance, user_factory=world.user_factory, count=count, first=first)


def _safe_store_rankings(world: World, first: int, count: int) -> None:
    """Final rankings of as many half-years gone by (the alliance dated back to before them)."""
    Alliance.objects.filter(pk=world.street.alliance.pk).update(created_at=datetime(2000, 1, 1, tzinfo=UTC))
    for number in range(first, first + count):
        ranking_make(alliance=world.street.alliance, period_start=date(2020 - number // 2, 1 + 6 * (number % 2), 1))


def _safe_store_ranking(world: World) -> SafeStoreRanking:
    """The street's ranking of January-June 2020 (made on first use)."""
    if world.ranking is None:
        _safe_store_rankings(world, 0, 1)
        world.ranking = SafeStoreRanking.objects.get(alliance=world.street.alliance, period_start=date(2020, 1, 1))
    return world.ranking


def _safe_store_ranking_entries(world: World, first: int, count: int) -> None:
    # A computed ranking is a snapshot that later stores do not join: their entries are written here directly.
    for store in stores_make(alliance=world.street.alliance, user_factory=world.user_factory, count=count, first=first):
        SafeStoreRankingEntry.objects.create(
            ranking=_safe_store_ranking(world), store=store, rank=1, score=0, security_score=0, contribution_score=0
        )


def _store_inspections(world: World, first: int, count: int) -> None:
    for _ in range(count):
        inspection_make(store=world.street.store, by=world.admin)


def _points_accounts(world: World, first: int, count: int) -> None:
    """The patroller's points in more alliances."""
    for number in range(first, first + count):
        alliance = alliance_make(
            name=f"第{number}联盟", slug=f"pin-{number}", station=world.street.station, founder=world.admin
        )
        points_entry_make(user=world.patroller, alliance=alliance, amount=number)


def _points_history(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        points_entry_make(user=world.patroller, alliance=world.street.alliance, amount=number)


def _points_board(world: World, first: int, count: int) -> None:
    """Volunteers earning this month: each a row of the board and of the ledger."""
    for number in range(first, first + count):
        person = world.person(Role.VOLUNTEER, MemberRole.VOLUNTEER)
        points_entry_make(user=person, alliance=world.street.alliance, amount=number)


def _tips(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        tip_make(station=world.street.office, by=world.admin, title=f"第{number}条提示")


def _tip_schedule_of(world: World, name: str) -> TipSchedule:
    audience = AudienceSpec(alliances=[world.street.alliance.pk])
    return schedule_make(station=world.street.office, by=world.admin, audience=audience, name=name)


def _tip_schedules(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        _tip_schedule_of(world, f"第{number}个计划")


def _tip_schedule(world: World) -> TipSchedule:
    """The office's evening tip schedule, with a tip to send (made on first use)."""
    if world.tip_schedule is None:
        tip_make(station=world.street.office, by=world.admin)
        world.tip_schedule = _tip_schedule_of(world, "每晚七点夜市提示")
    return world.tip_schedule


def _tip_occurrences(world: World, first: int, count: int) -> None:
    """Evenings of January 2026 on which the schedule ran, each sent by the sweep."""
    schedule = _tip_schedule(world)
    for number in range(first, first + count):
        evening = datetime(2026, 1, number, 11, tzinfo=UTC)
        TipSchedule.objects.filter(pk=schedule.pk).update(next_run_at=evening)
        tip_occurrences_send_due(now=evening)


def _nothing(world: World, first: int, count: int) -> None:
    pass


def _admin(world: World):
    return world.admin


def _devices(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        device_register(user=world.patroller, platform="android", provider="jpush", token=f"pin-device-{number:04d}")


def _alerts(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        alert_make(
            actor=world.admin,
            station=world.street.station,
            audience={"alliances": [world.street.alliance.pk]},
            title=f"提示{number}",
        )


def _street_alert(world: World):
    if world.alert is None:
        world.alert = alert_make(
            actor=world.admin,
            station=world.street.station,
            audience={"alliances": [world.street.alliance.pk], "roles": [MemberRole.MERCHANT]},
        )
    return world.alert


def _unread_stores(world: World, first: int, count: int) -> None:
    for number in range(first, first + count):
        store_make(owner=world.person(), alliance=world.street.alliance, name=f"未读{number}号店")


# operation id -> how to grow its rows and its pin (the most queries a page of it may take).
LIST_PINS: dict[str, Pin] = {
    "v1_alliance_joins_list": Pin("/api/v1/alliance-joins", lambda w: w.joiner, _joins, 4),
    "v1_alliances_list": Pin("/api/v1/alliances", _admin, _alliances, 6),
    "v1_alliances_invites_list": Pin("/api/v1/alliances/{alliance}/invites", _admin, _invites, 8),
    "v1_alliances_join_requests_list": Pin("/api/v1/alliances/{alliance}/join-requests", _admin, _join_requests, 8),
    "alliances_on_duty_list": Pin(
        "/api/v1/alliances/{alliance}/on-duty?near=31.777,119.956", lambda w: w.street.office_officer, _on_duty, 8
    ),
    "v1_alliances_members_list": Pin("/api/v1/alliances/{alliance}/members", _admin, _members, 8),
    "v1_alliances_safe_stores_list": Pin("/api/v1/alliances/{alliance}/safe-stores", _admin, _safe_stores, 6),
    "v1_disputes_list": Pin("/api/v1/disputes", _admin, _disputes, 5),
    "v1_groups_list": Pin("/api/v1/groups", _admin, _teams, 4),
    "v1_groups_members_list": Pin("/api/v1/groups/{group}/members", _admin, _members, 8),
    "groups_messages_list": Pin("/api/v1/groups/{group}/messages", _admin, _messages, 5),
    "v1_incidents_list": Pin("/api/v1/incidents", _admin, _incidents, 5),
    "v1_incidents_comments_list": Pin("/api/v1/incidents/{incident}/comments", _admin, _comments, 9),
    "incidents_duplicates": Pin("/api/v1/incidents/{incident}/duplicates", _admin, _duplicates, 12),
    "v1_shifts_attempts_list": Pin("/api/v1/shifts/{shift}/attempts", _admin, _patrol_attempts, 8),
    "v1_role_grants_list": Pin("/api/v1/role-grants", _admin, _role_grants, 5),
    "roles_list": Pin("/api/v1/roles", _admin, _nothing, 3, grows=False),
    "v1_stations_list": Pin("/api/v1/stations", _admin, _offices, 6),
    "v1_stations_staff_list": Pin("/api/v1/stations/{station}/staff", _admin, _station_staff, 7),
    "v1_stores_list": Pin("/api/v1/stores", _admin, _stores, 6),
    "v1_stores_staff_list": Pin("/api/v1/stores/{store}/staff", lambda w: w.street.merchant, _store_staff, 8),
    "v1_users_list": Pin("/api/v1/users", _admin, _members, 6),
    "v1_alliances_patrol_zones_list": Pin("/api/v1/alliances/{alliance}/patrol-zones", _admin, _patrol_zones, 6),
    "v1_patrol_zones_grids_list": Pin("/api/v1/patrol-zones/{zone}/grids", _admin, _patrol_grids, 7),
    "v1_alliances_patrol_routes_list": Pin("/api/v1/alliances/{alliance}/patrol-routes", _admin, _patrol_routes, 7),
    "v1_alliances_support_points_list": Pin("/api/v1/alliances/{alliance}/support-points", _admin, _support_points, 6),
    "v1_alliances_patrol_teams_list": Pin("/api/v1/alliances/{alliance}/patrol-teams", _admin, _patrol_teams, 7),
    "v1_patrol_teams_members_list": Pin("/api/v1/patrol-teams/{team}/members", _admin, _patrol_members, 8),
    "v1_patrol_teams_shift_templates_list": Pin(
        "/api/v1/patrol-teams/{team}/shift-templates", _admin, _shift_templates, 8
    ),
    "v1_alliances_shifts_list": Pin("/api/v1/alliances/{alliance}/shifts", _admin, _shifts, 7),
    "alliances_safe_stores_preview": Pin(
        "/api/v1/alliances/{alliance}/safe-stores/preview", _admin, _safe_store_stores, 7
    ),
    "v1_alliances_safe_store_rankings_list": Pin(
        "/api/v1/alliances/{alliance}/safe-store-rankings", _admin, _safe_store_rankings, 6
    ),
    "v1_alliances_safe_store_rankings_entries_list": Pin(
        "/api/v1/alliances/{alliance}/safe-store-rankings/{ranking}/entries", _admin, _safe_store_ranking_entries, 7
    ),
    "v1_stores_inspections_list": Pin(
        "/api/v1/stores/{store}/inspections", lambda w: w.street.merchant, _store_inspections, 7
    ),
    "v1_tips_list": Pin("/api/v1/tips", _admin, _tips, 5),
    "v1_tip_schedules_list": Pin("/api/v1/tip-schedules", _admin, _tip_schedules, 5),
    "v1_tip_schedules_occurrences_list": Pin(
        "/api/v1/tip-schedules/{schedule}/occurrences", _admin, _tip_occurrences, 6
    ),
    "v1_me_shifts_list": Pin("/api/v1/me/shifts", lambda w: w.patroller, _shifts, 4),
    "v1_alliances_rewards_list": Pin("/api/v1/alliances/{alliance}/rewards", lambda w: w.patroller, _rewards, 5),
    "v1_alliances_redemptions_list": Pin("/api/v1/alliances/{alliance}/redemptions", _admin, _redemptions, 6),
    "v1_me_redemptions_list": Pin("/api/v1/me/redemptions", lambda w: w.patroller, _redemptions, 4),
    "v1_me_points_list": Pin("/api/v1/me/points", lambda w: w.patroller, _points_accounts, 4),
    "v1_me_points_history_list": Pin("/api/v1/me/points/history", lambda w: w.patroller, _points_history, 4),
    "me_devices_list": Pin("/api/v1/me/devices", lambda w: w.patroller, _devices, 4),
    "alliances_points_leaderboard": Pin(
        "/api/v1/alliances/{alliance}/leaderboard", lambda w: w.patroller, _points_board, 6
    ),
    "v1_alliances_points_ledger_list": Pin("/api/v1/alliances/{alliance}/points/ledger", _admin, _points_board, 6),
    "v1_alerts_list": Pin("/api/v1/alerts", _admin, _alerts, 7),
    "v1_alerts_unread_stores_list": Pin("/api/v1/alerts/{alert}/unread-stores", _admin, _unread_stores, 7),
    # A person's keys read two more: the zones their stores lie in or their teams patrol, and their contact groups.
    "v1_me_alerts_list": Pin("/api/v1/me/alerts", lambda w: w.street.merchant, _alerts, 8),
}


def _list_operations() -> set[str]:
    """GET operations that answer a page of rows: a paginated body, a page of lines, or a bare JSON array."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    found = set()
    for operations in schema["paths"].values():
        operation = operations.get("get")
        if not operation:
            continue
        body = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        name = body.get("$ref", "").rsplit("/", 1)[-1]
        is_page = name.startswith("Paginated") or (
            name.endswith("PageOutput") and components[name]["properties"].get("results", {}).get("type") == "array"
        )
        if is_page or body.get("type") == "array":
            found.add(operation["operationId"])
    return found


def test_every_list_endpoint_has_a_query_pin():
    # given the list operations of the API schema
    operations = _list_operations()

    # then each has a pin here, and no pin names an operation that is gone
    assert operations - LIST_PINS.keys() == set(), "list endpoints without a query pin: add them to LIST_PINS"
    assert LIST_PINS.keys() - operations == set(), "pins of operations that are no longer list endpoints"


@pytest.fixture
def world(db, user_factory) -> World:
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="王所长")
    street = build_street(user_factory, name="青平果联盟", slug="qingpingguo", police_admin=admin)
    built = World(street=street, admin=admin, user_factory=user_factory)
    built.joiner = user_factory(roles=[Role.VOLUNTEER], display_name="新人")
    built.incident = incident_make(reporter=street.merchant, alliance=street.alliance)
    built.zone = zone_make(alliance=street.alliance, by=admin, name="网格的巡区")
    built.patroller = built.person(Role.VOLUNTEER, MemberRole.VOLUNTEER)
    built.patrol_zone = zone_make(alliance=street.alliance)
    built.patrol_team = patrol_team_make(alliance=street.alliance, by=admin, members=(built.patroller,))
    return built


def _rows(body) -> int:
    return len(body) if isinstance(body, list) else len(body["results"])


def _page(client, url: str) -> tuple[int, int]:
    """(queries, rows) of one steady-state page: asked once to warm per-user caches, then counted."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), _rows(response.json())


@pytest.mark.parametrize("operation_id", sorted(LIST_PINS))
def test_a_list_endpoint_makes_as_many_queries_for_10_rows_as_for_2(operation_id, world, login):
    # given the viewer and 2 rows of the list
    pin = LIST_PINS[operation_id]
    street = world.street
    url = pin.path.format(
        alliance=street.alliance.pk,
        station=street.station.pk,
        store=street.store.pk,
        group=street.main.pk,
        incident=world.incident.pk,
        zone=world.zone.pk,
        shift=_patrol_shift(world).pk if "{shift}" in pin.path else 0,
        team=world.patrol_team.pk,
        ranking=_safe_store_ranking(world).pk if "{ranking}" in pin.path else 0,
        alert=_street_alert(world).pk if "{alert}" in pin.path else 0,
        schedule=_tip_schedule(world).pk if "{schedule}" in pin.path else 0,
    )
    client = login(pin.viewer(world))
    pin.add(world, 1, 2)

    # when the list is asked with 2 rows, then with 10
    queries_at_2, rows_at_2 = _page(client, url)
    pin.add(world, 3, 8)
    queries_at_10, rows_at_10 = _page(client, url)

    # then the 8 new rows are on the page and cost no query more
    print(f"{operation_id}: {queries_at_2} queries at {rows_at_2} rows, {queries_at_10} at {rows_at_10}")
    if pin.grows:
        assert rows_at_10 >= rows_at_2 + 8
    assert queries_at_10 <= queries_at_2, f"{operation_id} grows with its rows (N+1)"
    assert queries_at_10 <= pin.max_queries
