"""An alert's audience read both ways agrees: the people a spec reaches (``audience_user_ids``: the count, the live
delivery, the push) are exactly the people whose own keys (``person_audience_keys``: their inbox) hold one of the
spec's keys, for every kind of place (stations, alliances, patrol zones, contact groups), with and without roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role, User
from alliance.alert_audience import (
    AudienceSpec,
    audience_described,
    audience_keys_of_spec,
    audience_targets_outside,
    audience_user_ids,
    person_audience_keys,
)
from alliance.models import Station
from groups.models import ContactGroup, PatrolZone
from tests.factories.alliance import MemberRole, member_add, store_make, store_staff_make
from tests.factories.groups import team_make as team_group_make
from tests.factories.patrol import offset_position, shift_make, team_make, template_make, zone_make
from tests.fixtures.street import Street, build_street

STORE_POSITION = (31.777012, 119.956301)  # the street's store (tests/fixtures/street.py)


def diamond(centre: tuple[float, float], half_metres: float) -> dict:
    north, east, south, west = (
        offset_position(*centre, north_metres=north, east_metres=east)
        for north, east in ((half_metres, 0), (0, half_metres), (-half_metres, 0), (0, -half_metres))
    )
    ring = [[point[1], point[0]] for point in (north, west, south, east, north)]  # anticlockwise
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class World:
    street: Street
    other: Street
    people: dict[str, User]
    zone: PatrolZone  # around the street's store
    other_zone: PatrolZone  # the other alliance's zone at the same place
    archived_zone: PatrolZone
    team_group: ContactGroup
    archived_group: ContactGroup


def build_world(user_factory) -> World:
    """Qingguo Lane with a zone around its first merchant's store (a clerk works there), a second store 1 km away
    and a third in the corner of the zone's bounding box but outside the zone,
    a team with a template in the zone, a team with a shift there tomorrow, a team whose shift is over and a team
    with no shift at all; a team group; Fengming, another station's alliance with its own zone over the same
    streets, a store inside it, and the first merchant also volunteering there."""
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="青平果所长")
    street = build_street(user_factory, name="青平果联盟", slug="qingpingguo", police_admin=admin)
    other_admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="凤鸣所长")
    other = build_street(user_factory, name="凤鸣金街联盟", slug="fengming", police_admin=other_admin)
    alliance = street.alliance
    people = {"admin": admin, "merchant": street.merchant, "other_merchant": street.other_merchant}
    people["mall_manager"] = street.mall_manager
    for name in (
        "clerk",
        "corner_merchant",
        "templated",
        "templated_leader",
        "shifted",
        "past_shift",
        "idle",
        "grouped",
    ):
        people[name] = user_factory(roles=[Role.MERCHANT, Role.VOLUNTEER], display_name=name)
        member_add(
            alliance,
            people[name],
            MemberRole.MERCHANT if name.endswith(("clerk", "merchant")) else MemberRole.VOLUNTEER,
        )
    store_staff_make(store=street.store, user=people["clerk"])
    far = offset_position(*STORE_POSITION, north_metres=1000)
    store_make(owner=street.other_merchant, alliance=alliance, name="远处的店", latitude=round(far[0], 6),
               longitude=round(far[1], 6))  # fmt: skip

    # a diamond: a store in the corner of its bounding box lies outside it
    corner = offset_position(*STORE_POSITION, north_metres=150, east_metres=150)
    store_make(owner=people["corner_merchant"], alliance=alliance, name="角落的店", latitude=round(corner[0], 6),
               longitude=round(corner[1], 6))  # fmt: skip
    zone = zone_make(alliance=alliance, name="青果巷红区", boundary=diamond(STORE_POSITION, 200))
    archived_zone = zone_make(alliance=alliance, name="旧区", centre=STORE_POSITION, half_metres=400)
    PatrolZone.objects.filter(pk=archived_zone.pk).update(is_archived=True)
    templated = team_make(alliance=alliance, name="义警一队", leader=people["templated_leader"],
                          members=(people["templated"],))  # fmt: skip
    template_make(team=templated, zone=zone)
    shifted = team_make(alliance=alliance, name="义警二队", members=(people["shifted"],))
    shift_make(team=shifted, zone=zone, starts_at=timezone.now() + timedelta(days=1))
    ended = team_make(alliance=alliance, name="义警三队", members=(people["past_shift"],))
    shift_make(team=ended, zone=zone, starts_at=timezone.now() - timedelta(days=1))
    team_make(alliance=alliance, name="义警四队", members=(people["idle"],))
    team_group = team_group_make(
        alliance=alliance, by=admin, name="夜巡群", members=[people["grouped"], street.merchant]
    )
    archived_group = team_group_make(alliance=alliance, by=admin, name="旧群", members=[people["idle"]])
    ContactGroup.objects.filter(pk=archived_group.pk).update(is_archived=True)

    # the other alliance: its own zone over the same streets, its merchant's store inside, our merchant volunteers
    other_zone = zone_make(alliance=other.alliance, name="凤鸣红区", centre=STORE_POSITION, half_metres=200)
    store_make(owner=other.merchant, alliance=other.alliance, name="凤鸣的店")  # at the same position
    member_add(other.alliance, street.merchant, MemberRole.VOLUNTEER)
    people.update({"other_admin": other_admin, "other_street_merchant": other.merchant})
    people["other_street_manager"] = other.mall_manager
    people["officer"] = street.station_officer  # posted to the station, in no alliance
    return World(street, other, people, zone, other_zone, archived_zone, team_group, archived_group)


@pytest.fixture
def world(db, user_factory) -> World:
    return build_world(user_factory)


def reached(spec: AudienceSpec) -> set[int]:
    return set(audience_user_ids(spec).values_list("user_id", flat=True))


def matched(spec: AudienceSpec) -> set[int]:
    """Everyone whose inbox shows the spec: one of their keys is one of its keys."""
    keys = {key for *_rest, key in audience_keys_of_spec(spec)}
    return {user.pk for user in User.objects.all() if keys & set(person_audience_keys(user=user))}


def ids(world: World, *names: str) -> set[int]:
    return {world.people[name].pk for name in names}


def test_a_zone_holds_the_people_of_its_stores_and_of_the_teams_that_patrol_it(world):
    # given an alert to the zone around the merchant's store
    spec = AudienceSpec(zones=[world.zone.pk])

    # then its owner and clerk, the template's team and the team with a shift to come are in it; not the store 1 km
    # away, the store in the corner of the zone's bounding box, the team whose shift is over, the idle team, or the
    # other alliance's people over the same streets
    assert reached(spec) == ids(world, "merchant", "clerk", "templated", "templated_leader", "shifted")
    assert matched(spec) == reached(spec)


def test_a_contact_group_holds_its_members_and_an_archived_place_holds_nobody(world):
    assert reached(AudienceSpec(groups=[world.team_group.pk])) == ids(world, "admin", "grouped", "merchant")
    for spec in (AudienceSpec(zones=[world.archived_zone.pk]), AudienceSpec(groups=[world.archived_group.pk])):
        assert reached(spec) == set() == matched(spec)


def test_roles_narrow_through_the_alliance_the_person_is_in_the_place_by(world):
    # given the merchant is a merchant in the zone's alliance and a volunteer in the other one
    # when alerts go to the zone's volunteers, and to both zones' volunteers
    ours = AudienceSpec(zones=[world.zone.pk], roles=[MemberRole.VOLUNTEER])
    both = AudienceSpec(zones=[world.zone.pk, world.other_zone.pk], roles=[MemberRole.VOLUNTEER])

    # then the merchant is in neither: in the other zone they have no store and no team
    assert reached(ours) == ids(world, "templated", "templated_leader", "shifted") == matched(ours)
    assert reached(both) == reached(ours) == matched(both)
    other_merchants = AudienceSpec(zones=[world.other_zone.pk], roles=[MemberRole.MERCHANT])
    assert reached(other_merchants) == ids(world, "other_street_merchant") == matched(other_merchants)


@pytest.mark.parametrize(
    "make_spec",
    [
        lambda w: AudienceSpec(stations=[w.street.station.pk]),
        lambda w: AudienceSpec(stations=[w.street.office.pk], roles=[MemberRole.MERCHANT]),
        lambda w: AudienceSpec(alliances=[w.other.alliance.pk], roles=[MemberRole.VOLUNTEER, MemberRole.ADMIN]),
        lambda w: AudienceSpec(zones=[w.zone.pk, w.other_zone.pk]),
        lambda w: AudienceSpec(zones=[w.zone.pk], roles=[MemberRole.MERCHANT]),
        lambda w: AudienceSpec(groups=[w.team_group.pk], roles=[MemberRole.VOLUNTEER]),
        lambda w: AudienceSpec(groups=[w.team_group.pk, w.other.main.pk], roles=[MemberRole.MERCHANT]),
        lambda w: AudienceSpec(stations=[w.other.station.pk], groups=[w.team_group.pk], zones=[w.zone.pk]),
        lambda w: AudienceSpec(alliances=[w.street.alliance.pk], zones=[w.other_zone.pk], roles=["mall_manager"]),
    ],
)
def test_both_directions_agree(world, make_spec):
    spec = make_spec(world)
    assert reached(spec), "a spec that reaches nobody proves nothing"
    assert matched(spec) == reached(spec)


def test_zones_and_groups_lie_within_their_alliance_s_units_and_are_named(world):
    # given the street's units (its station and office) as a jurisdiction
    units = frozenset(Station.objects.filter(pk__in=[world.street.station.pk, world.street.office.pk]).values_list(
        "pk", flat=True))  # fmt: skip
    spec = AudienceSpec(
        zones=[world.zone.pk, world.other_zone.pk, world.archived_zone.pk],
        groups=[world.team_group.pk, world.other.main.pk, world.archived_group.pk],
    )

    # then the other alliance's places and the archived ones are outside it
    assert audience_targets_outside(spec, unit_ids=units) == {
        "zones": sorted([world.other_zone.pk, world.archived_zone.pk]),
        "groups": sorted([world.other.main.pk, world.archived_group.pk]),
    }
    described = audience_described(AudienceSpec(zones=[world.zone.pk], groups=[world.team_group.pk]))
    assert described["zones"] == [{"id": world.zone.pk, "name": "青果巷红区"}]
    assert described["groups"] == [{"id": world.team_group.pk, "name": "夜巡群"}]
