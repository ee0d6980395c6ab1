"""Patrol geography: zones and grids drawn by the police of the jurisdiction, checked as geometry (shapely), read by
the alliance's members; routes with ordered checkpoints; support points with their rings; positions received and
answered in WGS-84 or GCJ-02; the zones holding a position; the map in one GeoJSON answer; the admin site."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import Role, User
from alliance.models import Alliance
from alliance.selectors.alliances import alliance_access_for
from config.coordinates import gcj02_to_wgs84, wgs84_to_gcj02
from config.errors import ApplicationError
from groups.models import Checkpoint, PatrolZone, SupportPoint
from groups.selectors.patrol_zones import zones_containing
from groups.services.patrol_zones import RAPID_RESPONSE_RINGS_METRES, checkpoint_code_reissue
from tests.factories.alliance import MemberRole, member_add
from tests.factories.patrol import (
    FENGMING_CENTRE,
    offset_position,
    route_make,
    square_boundary,
    support_point_make,
    zone_make,
)
from tests.fixtures.street import build_street

pytestmark = pytest.mark.django_db


@dataclass
class Patrol:
    alliance: Alliance
    police_admin: User
    volunteer: User
    other_alliance: Alliance
    other_police_admin: User
    other_volunteer: User


@pytest.fixture
def patrol(user_factory) -> Patrol:
    """Fengming Golden Street (its police admin, a volunteer member) and another jurisdiction's alliance."""
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="凤鸣所长")
    other_admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="青果所长")
    street = build_street(user_factory, name="凤鸣金街联盟", slug="fengming", police_admin=admin, people=False)
    other = build_street(
        user_factory,
        name="青平果联盟",
        slug="qingguo",
        station_name="局前街派出所",
        police_admin=other_admin,
        people=False,
    )
    volunteer = user_factory(roles=[Role.VOLUNTEER], display_name="志愿者小张")
    member_add(street.alliance, volunteer, MemberRole.VOLUNTEER)
    other_volunteer = user_factory(roles=[Role.VOLUNTEER], display_name="志愿者小李")
    member_add(other.alliance, other_volunteer, MemberRole.VOLUNTEER)
    return Patrol(street.alliance, admin, volunteer, other.alliance, other_admin, other_volunteer)


def zone_body(**changes) -> dict:
    return {"name": "凤鸣金街红区", "risk_grade": "red", "boundary": square_boundary(*FENGMING_CENTRE), **changes}


def polygon(*ring) -> dict:
    return {"type": "Polygon", "coordinates": [[list(position) for position in ring]]}


def zones_url(alliance) -> str:
    return f"/api/v1/alliances/{alliance.pk}/patrol-zones"


# --- zones: drawn by the police, read by members ------------------------------------------------------------------


def test_a_police_admin_draws_a_zone_and_a_volunteer_member_reads_it(patrol, login):
    # given the police admin of the street's jurisdiction
    police = login(patrol.police_admin)

    # when they draw a red zone with focus hours across midnight
    response = police.post_json(zones_url(patrol.alliance), zone_body(focus_starts="22:00", focus_ends="02:00"))

    # then it is stored with its bounding box, and a volunteer of the alliance reads it in the list and by id
    assert response.status_code == 201, response.content
    zone = PatrolZone.objects.get(pk=response.json()["id"])
    longitudes = [position[0] for position in zone.boundary["coordinates"][0]]
    assert (zone.min_longitude, zone.max_longitude) == (min(longitudes), max(longitudes))
    assert zone.min_latitude < FENGMING_CENTRE[0] < zone.max_latitude
    volunteer = login(patrol.volunteer)
    listed = volunteer.get(zones_url(patrol.alliance)).json()["results"]
    assert [(row["id"], row["risk_grade"], row["focus_starts"]) for row in listed] == [(zone.pk, "red", "22:00:00")]
    detail = volunteer.get(f"/api/v1/patrol-zones/{zone.pk}")
    assert detail.status_code == 200
    assert detail.json()["boundary"] == zone.boundary


BOWTIE = polygon((121.470, 30.915), (121.478, 30.921), (121.478, 30.915), (121.470, 30.921), (121.470, 30.915))


@pytest.mark.parametrize(
    ("boundary", "message"),
    [
        (BOWTIE, "The boundary crosses itself (near longitude 121.474000, latitude 30.918000)"),
        (
            polygon((121.470, 30.915), (121.478, 30.915), (121.478, 30.921), (121.470, 30.921)),
            "ring 1: the ring is not closed; the last position must repeat the first.",
        ),
        (
            polygon((121.470, 30.915), (181.0, 30.915), (121.478, 30.921), (121.470, 30.915)),
            "ring 1: longitude must be between -180 and 180.",
        ),
        (
            polygon((121.470, 30.915), (121.478, 91.0), (121.478, 30.921), (121.470, 30.915)),
            "ring 1: latitude must be between -90 and 90.",
        ),
        (
            square_boundary(*FENGMING_CENTRE, half_metres=4000),
            "The boundary covers 64.0 km²; a patrol zone may cover at most 50 km².",
        ),
        (square_boundary(*FENGMING_CENTRE, half_metres=4), "a patrol zone covers at least 100 m²."),
    ],
    ids=["bowtie", "unclosed", "longitude", "latitude", "too-large", "too-small"],
)
def test_a_boundary_that_is_not_a_patrol_polygon_is_refused_with_the_reason(patrol, login, boundary, message):
    # given the police admin
    police = login(patrol.police_admin)

    # when they send a boundary that is not a usable polygon
    response = police.post_json(zones_url(patrol.alliance), zone_body(boundary=boundary), HTTP_ACCEPT_LANGUAGE="en")

    # then it is refused naming the boundary and saying why, and no zone is stored
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_boundary"
    assert message in body["fields"]["boundary"][0]
    assert not PatrolZone.objects.exists()


def test_the_reason_is_given_in_chinese_by_default(patrol, login):
    # when the bowtie is sent without asking for English
    response = login(patrol.police_admin).post_json(zones_url(patrol.alliance), zone_body(boundary=BOWTIE))

    # then the reason is in Chinese
    assert response.status_code == 400
    assert "边界线自相交" in response.json()["fields"]["boundary"][0]


def test_a_boundary_with_too_many_points_is_refused(patrol, login):
    # given a circle of 600 points around the street
    ring = [
        list(reversed(offset_position(*FENGMING_CENTRE, north_metres=200 * math.sin(a), east_metres=200 * math.cos(a))))
        for a in (2 * math.pi * step / 600 for step in range(600))
    ]
    ring.append(ring[0])

    # when it is sent as a zone
    response = login(patrol.police_admin).post_json(
        zones_url(patrol.alliance),
        zone_body(boundary={"type": "Polygon", "coordinates": [ring]}),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    # then it is refused with the limit
    assert response.status_code == 400
    assert response.json()["fields"]["boundary"] == ["The boundary may have at most 500 points."]


def test_a_zone_drawn_on_amap_in_gcj02_is_stored_in_wgs84(patrol, login):
    # given a square as Amap shows it (GCJ-02)
    drawn = square_boundary(*wgs84_to_gcj02(*FENGMING_CENTRE))

    # when it is sent with coordinate_system gcj02
    response = login(patrol.police_admin).post_json(
        zones_url(patrol.alliance), zone_body(boundary=drawn, coordinate_system="gcj02")
    )

    # then every vertex is stored converted to WGS-84, and asking the answer in GCJ-02 gives back what was drawn
    assert response.status_code == 201, response.content
    zone = PatrolZone.objects.get()
    for (stored_lon, stored_lat), (drawn_lon, drawn_lat) in zip(
        zone.boundary["coordinates"][0], drawn["coordinates"][0], strict=True
    ):
        assert (stored_lat, stored_lon) == pytest.approx(gcj02_to_wgs84(drawn_lat, drawn_lon), abs=1e-12)
        assert abs(stored_lon - drawn_lon) > 0.003  # several hundred metres: really converted
    answered = login(patrol.volunteer).get(f"/api/v1/patrol-zones/{zone.pk}?coordinate_system=gcj02").json()
    assert answered["boundary"]["coordinates"][0][0] == pytest.approx(drawn["coordinates"][0][0], abs=1e-7)


def test_an_unknown_coordinate_system_in_a_query_is_a_400(patrol, login):
    zone = zone_make(alliance=patrol.alliance)
    response = login(patrol.volunteer).get(f"/api/v1/patrol-zones/{zone.pk}?coordinate_system=bd09")
    assert response.status_code == 400
    assert "coordinate_system" in response.json()["fields"]


# --- who may ------------------------------------------------------------------------------------------------------


def test_another_alliances_zone_is_not_found_for_its_police_and_members(patrol, login):
    # given a zone of the street
    zone = zone_make(alliance=patrol.alliance)

    # when the other jurisdiction's police admin and the other alliance's volunteer ask for it, or change it
    answers = [
        login(patrol.other_police_admin).get(f"/api/v1/patrol-zones/{zone.pk}").status_code,
        login(patrol.other_police_admin)
        .patch(f"/api/v1/patrol-zones/{zone.pk}", {"name": "x"}, format="json")
        .status_code,
        login(patrol.other_volunteer).get(f"/api/v1/patrol-zones/{zone.pk}").status_code,
        login(patrol.other_volunteer).get(zones_url(patrol.alliance)).status_code,
        login(patrol.other_police_admin).post_json(zones_url(patrol.alliance), zone_body()).status_code,
    ]

    # then every answer is 404, and the zone is unchanged
    assert answers == [404] * 5
    zone.refresh_from_db()
    assert zone.name == "凤鸣金街红区"


def test_a_volunteer_member_cannot_draw_change_or_archive_a_zone(patrol, login):
    # given a zone and a volunteer of the alliance
    zone = zone_make(alliance=patrol.alliance)
    volunteer = login(patrol.volunteer)

    # when they try to draw, rename and archive
    created = volunteer.post_json(zones_url(patrol.alliance), zone_body())
    renamed = volunteer.patch(f"/api/v1/patrol-zones/{zone.pk}", {"name": "我的区"}, format="json")
    archived = volunteer.delete(f"/api/v1/patrol-zones/{zone.pk}")

    # then they may see it but not do it: 403, and nothing changed
    assert (created.status_code, renamed.status_code, archived.status_code) == (403, 403, 403)
    assert created.json()["code"] == "permission_denied"
    zone.refresh_from_db()
    assert (zone.name, zone.is_archived, PatrolZone.objects.count()) == ("凤鸣金街红区", False, 1)


def test_a_police_admin_redraws_and_archives_a_zone(patrol, login):
    # given a zone
    zone = zone_make(alliance=patrol.alliance)
    police = login(patrol.police_admin)

    # when its boundary is redrawn larger, then it is archived
    larger = square_boundary(*FENGMING_CENTRE, half_metres=600)
    changed = police.patch(
        f"/api/v1/patrol-zones/{zone.pk}", {"boundary": larger, "risk_grade": "yellow"}, format="json"
    )
    archived = police.delete(f"/api/v1/patrol-zones/{zone.pk}")

    # then the bounding box follows the boundary, and the archived zone leaves the list
    assert changed.status_code == 200, changed.content
    zone.refresh_from_db()
    assert zone.risk_grade == "yellow"
    assert zone.min_latitude == pytest.approx(larger["coordinates"][0][0][1])
    assert archived.status_code == 204
    assert zone.__class__.objects.get(pk=zone.pk).is_archived
    assert police.get(zones_url(patrol.alliance)).json()["results"] == []


# --- grids --------------------------------------------------------------------------------------------------------


def test_a_grid_must_lie_within_its_zone_with_a_small_tolerance(patrol, login):
    # given a 600 m square zone
    zone = zone_make(alliance=patrol.alliance, half_metres=300)
    police = login(patrol.police_admin)
    url = f"/api/v1/patrol-zones/{zone.pk}/grids"

    # when grids are drawn: inside, along the edge 2 m over it, and half outside
    inside = police.post_json(url, {"name": "一网格", "boundary": square_boundary(*FENGMING_CENTRE, half_metres=100)})
    on_edge = police.post_json(url, {"name": "二网格", "boundary": square_boundary(*FENGMING_CENTRE, half_metres=302)})
    east = offset_position(*FENGMING_CENTRE, east_metres=300)
    outside = police.post_json(
        url, {"name": "三网格", "boundary": square_boundary(*east, half_metres=100)}, HTTP_ACCEPT_LANGUAGE="en"
    )

    # then the first two are the zone's grids and the third is refused
    assert (inside.status_code, on_edge.status_code) == (201, 201), on_edge.content
    assert outside.status_code == 400
    assert outside.json()["code"] == "grid_outside_zone"
    listed = login(patrol.volunteer).get(url).json()["results"]
    assert sorted(row["name"] for row in listed) == ["一网格", "二网格"]

    # and the zone cannot shrink away from its grids
    shrunk = police.patch(
        f"/api/v1/patrol-zones/{zone.pk}",
        {"boundary": square_boundary(*FENGMING_CENTRE, half_metres=150)},
        format="json",
    )
    assert shrunk.status_code == 400
    assert shrunk.json()["code"] == "grid_outside_zone"


# --- routes and checkpoints ---------------------------------------------------------------------------------------


def test_a_route_is_drawn_with_its_checkpoints_in_order_and_reordered(patrol, login):
    # given the police admin and a zone
    zone = zone_make(alliance=patrol.alliance)
    police = login(patrol.police_admin)
    points = [offset_position(*FENGMING_CENTRE, east_metres=100 * step) for step in range(3)]

    # when they draw a route with three checkpoints, the last given in GCJ-02 as Amap shows it
    gcj = wgs84_to_gcj02(*points[2])
    body = {
        "name": "凤鸣金街主线",
        "zone": zone.pk,
        "checkpoints": [
            {"name": "东口", "latitude": points[0][0], "longitude": points[0][1]},
            {"name": "中段", "latitude": points[1][0], "longitude": points[1][1], "radius_metres": 30},
            {"name": "西口", "latitude": gcj[0], "longitude": gcj[1], "coordinate_system": "gcj02"},
        ],
    }
    created = police.post_json(f"/api/v1/alliances/{patrol.alliance.pk}/patrol-routes", body)

    # then the checkpoints are numbered in order, stored in WGS-84
    assert created.status_code == 201, created.content
    checkpoints = created.json()["checkpoints"]
    assert [(c["position"], c["name"]) for c in checkpoints] == [(1, "东口"), (2, "中段"), (3, "西口")]
    assert (checkpoints[2]["latitude"], checkpoints[2]["longitude"]) == pytest.approx(points[2], abs=1e-7)

    # when a checkpoint is added at a taken position, then at the end, and the route is reordered
    route_id = created.json()["id"]
    taken = police.post_json(
        f"/api/v1/patrol-routes/{route_id}/checkpoints",
        {"name": "重复", "latitude": points[0][0], "longitude": points[0][1], "position": 2},
    )
    added = police.post_json(
        f"/api/v1/patrol-routes/{route_id}/checkpoints",
        {"name": "北口", "latitude": points[0][0], "longitude": points[0][1]},
    )
    ids = [c["id"] for c in checkpoints] + [added.json()["id"]]
    partial = police.post_json(f"/api/v1/patrol-routes/{route_id}/checkpoint-order", {"checkpoints": ids[:2]})
    reordered = police.post_json(
        f"/api/v1/patrol-routes/{route_id}/checkpoint-order", {"checkpoints": list(reversed(ids))}
    )

    # then the taken position and the incomplete order are refused, and the route reads in its new order
    assert taken.status_code == 400 and taken.json()["code"] == "checkpoint_position_taken"
    assert added.status_code == 201 and added.json()["position"] == 4
    assert partial.status_code == 400 and partial.json()["code"] == "checkpoint_order_mismatch"
    assert reordered.status_code == 200, reordered.content
    read = login(patrol.volunteer).get(f"/api/v1/patrol-routes/{route_id}").json()
    assert [c["name"] for c in read["checkpoints"]] == ["北口", "西口", "中段", "东口"]
    assert [c["position"] for c in read["checkpoints"]] == [1, 2, 3, 4]


def test_a_checkpoint_is_moved_and_its_code_reissued(patrol, login):
    # given a route of three checkpoints
    route = route_make(alliance=patrol.alliance)
    first = route.checkpoints.order_by("position").first()
    police = login(patrol.police_admin)

    # when it is moved, given only a latitude, and its printed code is reissued
    moved = police.patch(f"/api/v1/checkpoints/{first.pk}", {"latitude": 30.9185, "longitude": 121.4745}, format="json")
    half = police.patch(f"/api/v1/checkpoints/{first.pk}", {"latitude": 30.9}, format="json")
    access = alliance_access_for(user=patrol.police_admin, alliance=patrol.alliance)
    reissued = checkpoint_code_reissue(actor=patrol.police_admin, access=access, checkpoint=first)

    # then the move is stored, half a position is refused, and the code's version went up
    assert moved.status_code == 200
    assert (moved.json()["latitude"], moved.json()["longitude"]) == (30.9185, 121.4745)
    assert half.status_code == 400 and "longitude" in half.json()["fields"]
    assert reissued.qr_version == 2
    assert Checkpoint.objects.get(pk=first.pk).qr_version == 2


def test_a_volunteer_cannot_reissue_a_checkpoint_code_or_add_a_checkpoint(patrol, login):
    # given a route and a volunteer member
    route = route_make(alliance=patrol.alliance)
    checkpoint = route.checkpoints.first()
    access = alliance_access_for(user=patrol.volunteer, alliance=patrol.alliance)

    # when they try
    with pytest.raises(ApplicationError) as refused:
        checkpoint_code_reissue(actor=patrol.volunteer, access=access, checkpoint=checkpoint)
    added = login(patrol.volunteer).post_json(
        f"/api/v1/patrol-routes/{route.pk}/checkpoints", {"name": "x", "latitude": 30.918, "longitude": 121.474}
    )

    # then both are refused
    assert refused.value.status_code == 403
    assert added.status_code == 403
    assert Checkpoint.objects.get(pk=checkpoint.pk).qr_version == 1


# --- support points -----------------------------------------------------------------------------------------------


def test_a_rapid_response_point_gets_its_1_3_5_minute_rings_which_can_be_edited(patrol, login):
    # given the police admin
    police = login(patrol.police_admin)
    url = f"/api/v1/alliances/{patrol.alliance.pk}/support-points"

    # when they add a rapid-response point and a traffic booth without rings
    rapid = police.post_json(
        url, {"kind": "rapid_response", "name": "快反点", "latitude": 30.918, "longitude": 121.474}
    )
    booth = police.post_json(url, {"kind": "traffic_booth", "name": "岗亭", "latitude": 30.919, "longitude": 121.475})

    # then the rapid-response point has the default rings and the booth none
    assert rapid.status_code == 201, rapid.content
    assert rapid.json()["ring_metres"] == RAPID_RESPONSE_RINGS_METRES
    assert booth.json()["ring_metres"] == []

    # when the rings are edited for slower streets, and then sent out of order
    edited = police.patch(
        f"/api/v1/support-points/{rapid.json()['id']}", {"ring_metres": [150, 450, 750]}, format="json"
    )
    wrong = police.patch(f"/api/v1/support-points/{rapid.json()['id']}", {"ring_metres": [450, 150]}, format="json")

    # then the edit is kept and the disorder refused
    assert edited.json()["ring_metres"] == [150, 450, 750]
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_rings"
    assert SupportPoint.objects.get(pk=rapid.json()["id"]).ring_metres == [150, 450, 750]


def test_support_point_positions_are_refused_off_the_earth_or_at_0_0(patrol, login):
    police = login(patrol.police_admin)
    url = f"/api/v1/alliances/{patrol.alliance.pk}/support-points"
    off = police.post_json(url, {"kind": "workstation", "name": "x", "latitude": 91, "longitude": 121})
    zero = police.post_json(url, {"kind": "workstation", "name": "x", "latitude": 0, "longitude": 0})
    assert off.status_code == 400 and "latitude" in off.json()["fields"]
    assert zero.status_code == 400 and zero.json()["code"] == "invalid_coordinates"
    assert not SupportPoint.objects.exists()


# --- where a position is ------------------------------------------------------------------------------------------


def test_zones_containing_finds_the_zones_whose_polygon_holds_the_point(patrol):
    # given an L-shaped zone (its bounding box holds its empty north-east corner), a square zone of the other
    # alliance over the same street, and an archived zone
    lat, lon = FENGMING_CENTRE
    d = 0.004
    l_shape = polygon(
        (lon, lat),
        (lon + d, lat),
        (lon + d, lat + d / 2),
        (lon + d / 2, lat + d / 2),
        (lon + d / 2, lat + d),
        (lon, lat + d),
        (lon, lat),
    )
    ell = zone_make(alliance=patrol.alliance, name="L区", boundary=l_shape)
    theirs = zone_make(alliance=patrol.other_alliance, name="他区", centre=(lat + d / 4, lon + d / 4), half_metres=100)
    archived = zone_make(alliance=patrol.alliance, name="旧区", centre=(lat + d / 4, lon + d / 4), half_metres=100)
    archived.is_archived = True
    archived.save(update_fields=["is_archived"])

    # when positions are looked up: inside both, in the L's empty corner, outside everything, on the L's edge
    both = zones_containing(latitude=lat + d / 4, longitude=lon + d / 4)
    mine_only = zones_containing(alliance_id=patrol.alliance.pk, latitude=lat + d / 4, longitude=lon + d / 4)
    corner = zones_containing(latitude=lat + 3 * d / 4, longitude=lon + 3 * d / 4)
    away = zones_containing(latitude=lat - d, longitude=lon - d)
    edge = zones_containing(latitude=lat, longitude=lon + d / 3)

    # then
    assert {zone.pk for zone in both} == {ell.pk, theirs.pk}
    assert [zone.pk for zone in mine_only] == [ell.pk]
    assert corner == []
    assert away == []
    assert [zone.pk for zone in edge] == [ell.pk]


# --- the map ------------------------------------------------------------------------------------------------------


def test_the_patrol_map_is_one_feature_collection_of_everything_drawn(patrol, login):
    # given a zone, a route of three checkpoints and a rapid-response point
    zone = zone_make(alliance=patrol.alliance)
    route = route_make(alliance=patrol.alliance, zone=zone)
    point = support_point_make(alliance=patrol.alliance)
    url = f"/api/v1/alliances/{patrol.alliance.pk}/patrol-map"

    # when a volunteer opens the map, in WGS-84 and in GCJ-02
    wgs = login(patrol.volunteer).get(url)
    gcj = login(patrol.volunteer).get(url + "?coordinate_system=gcj02").json()

    # then it is a FeatureCollection: the zone with its grade, the route as a line through its checkpoints in
    # order, the checkpoints and the point with its rings
    assert wgs.status_code == 200
    body = wgs.json()
    assert body["type"] == "FeatureCollection"
    layers = {}
    for feature in body["features"]:
        layers.setdefault(feature["properties"]["layer"], []).append(feature)
    assert layers["zone"][0]["properties"]["risk_grade"] == "red"
    assert layers["zone"][0]["geometry"] == zone.boundary
    checkpoints = list(route.checkpoints.order_by("position"))
    line = layers["route"][0]["geometry"]
    assert line["type"] == "LineString"
    assert line["coordinates"] == [[c.longitude, c.latitude] for c in checkpoints]
    assert [f["properties"]["position"] for f in layers["checkpoint"]] == [1, 2, 3]
    assert layers["support_point"][0]["properties"]["ring_metres"] == RAPID_RESPONSE_RINGS_METRES
    assert layers["support_point"][0]["geometry"]["coordinates"] == [point.longitude, point.latitude]
    gcj_point = [f for f in gcj["features"] if f["properties"]["layer"] == "support_point"][0]
    expected = wgs84_to_gcj02(point.latitude, point.longitude)
    assert gcj_point["geometry"]["coordinates"] == pytest.approx([expected[1], expected[0]])
    assert gcj["coordinate_system"] == "gcj02"


def test_the_patrol_map_of_another_alliance_is_not_found(patrol, login):
    response = login(patrol.other_volunteer).get(f"/api/v1/alliances/{patrol.alliance.pk}/patrol-map")
    assert response.status_code == 404


# --- the admin site -----------------------------------------------------------------------------------------------


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_shows_a_police_admin_the_zones_routes_and_points_of_their_jurisdiction_only(patrol):
    # given a zone, a route and a point in each jurisdiction
    mine = [
        zone_make(alliance=patrol.alliance),
        route_make(alliance=patrol.alliance),
        support_point_make(alliance=patrol.alliance),
    ]
    theirs = [
        zone_make(alliance=patrol.other_alliance, name="他区"),
        route_make(alliance=patrol.other_alliance, name="他线"),
        support_point_make(alliance=patrol.other_alliance, name="他点"),
    ]
    client = _admin(patrol.other_police_admin)

    # when the other jurisdiction's police admin opens each changelist and the street's zone by id
    for url, own, foreign in zip(
        ["/admin/groups/patrolzone/", "/admin/groups/patrolroute/", "/admin/groups/supportpoint/"],
        theirs,
        mine,
        strict=True,
    ):
        response = client.get(url)
        # then they see their own only
        assert response.status_code == 200
        assert {obj.pk for obj in response.context["cl"].result_list} == {own.pk}, url
        assert foreign.pk != own.pk or foreign.__class__ is not own.__class__
    opened = client.get(f"/admin/groups/patrolzone/{mine[0].pk}/change/")
    assert opened.status_code == 302  # "does not exist", as for an unknown id


def test_the_admin_refuses_a_crossing_boundary_and_police_cannot_delete(patrol):
    # given the street's police admin in the admin site
    client = _admin(patrol.police_admin)
    zone = zone_make(alliance=patrol.alliance)

    # when they add a zone with a bowtie boundary, and try to delete the street's zone
    response = client.post(
        "/admin/groups/patrolzone/add/",
        {
            "alliance": patrol.alliance.pk,
            "name": "坏区",
            "risk_grade": "blue",
            "boundary": json.dumps(BOWTIE),
            "grids-TOTAL_FORMS": "0",
            "grids-INITIAL_FORMS": "0",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    deleted = client.post(f"/admin/groups/patrolzone/{zone.pk}/delete/", {"post": "yes"})

    # then the form shows the reason and nothing is stored; the delete is forbidden
    assert response.status_code == 200
    assert "crosses itself" in str(response.context["adminform"].form.errors["boundary"])
    assert PatrolZone.objects.count() == 1
    assert deleted.status_code == 403


def test_the_admin_adds_a_zone_with_its_bounding_box(patrol):
    client = _admin(patrol.police_admin)
    response = client.post(
        "/admin/groups/patrolzone/add/",
        {
            "alliance": patrol.alliance.pk,
            "name": "好区",
            "risk_grade": "blue",
            "boundary": json.dumps(square_boundary(*FENGMING_CENTRE)),
            "grids-TOTAL_FORMS": "0",
            "grids-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    zone = PatrolZone.objects.get(name="好区")
    assert zone.min_latitude < FENGMING_CENTRE[0] < zone.max_latitude
    assert zone.created_by == patrol.police_admin


def test_an_archived_route_keeps_its_checkpoints_and_a_route_cannot_take_another_alliances_zone(patrol, login):
    # given a route of the street and a zone of the other alliance
    route = route_make(alliance=patrol.alliance)
    theirs = zone_make(alliance=patrol.other_alliance, name="他区")
    police = login(patrol.police_admin)

    # when a route is made in the other alliance's zone, and the route is archived, then its checkpoint moved
    foreign = police.post_json(
        f"/api/v1/alliances/{patrol.alliance.pk}/patrol-routes", {"name": "越界线", "zone": theirs.pk}
    )
    archived = police.delete(f"/api/v1/patrol-routes/{route.pk}")
    checkpoint = route.checkpoints.first()
    moved = police.patch(f"/api/v1/checkpoints/{checkpoint.pk}", {"name": "改名"}, format="json")

    # then the foreign zone is not found, the archived route leaves the list and its checkpoint stays
    assert foreign.status_code == 404 and "zone" in foreign.json()["fields"]
    assert archived.status_code == 204
    assert police.get(f"/api/v1/alliances/{patrol.alliance.pk}/patrol-routes").json()["results"] == []
    assert moved.status_code == 400 and moved.json()["code"] == "route_archived"
    assert Checkpoint.objects.get(pk=checkpoint.pk).name == checkpoint.name
