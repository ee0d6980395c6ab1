"""An alliance's boundary: a GeoJSON Polygon checked without a GIS library."""

from __future__ import annotations

import pytest

from alliance.models import Alliance
from config.geojson import MAX_POINTS, BoundaryError, boundary_clean

QINGGUO_LANE = [[119.950, 31.776], [119.962, 31.776], [119.962, 31.779], [119.950, 31.779], [119.950, 31.776]]


def polygon(*rings) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


def test_a_closed_ring_is_accepted_and_stored_as_floats():
    cleaned = boundary_clean(polygon([[119, 31], [120, 31], [120, 32], [119, 31]]))

    assert cleaned == {"type": "Polygon", "coordinates": [[[119.0, 31.0], [120.0, 31.0], [120.0, 32.0], [119.0, 31.0]]]}


def test_a_hole_is_a_second_ring_and_altitudes_are_dropped():
    hole = [[119.955, 31.777, 5], [119.956, 31.777, 5], [119.956, 31.778, 5], [119.955, 31.777, 5]]

    cleaned = boundary_clean(polygon(QINGGUO_LANE, hole))

    assert len(cleaned["coordinates"]) == 2
    assert all(len(position) == 2 for position in cleaned["coordinates"][1])


def test_no_boundary_is_allowed():
    assert boundary_clean(None) is None


@pytest.mark.parametrize(
    "value",
    [
        {"type": "Point", "coordinates": [119.9, 31.7]},
        {"type": "MultiPolygon", "coordinates": [[QINGGUO_LANE]]},
        {"type": "Feature", "geometry": polygon(QINGGUO_LANE)},
        {"type": "Polygon"},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": "119,31"},
        {"type": "Polygon", "coordinates": [QINGGUO_LANE], "properties": {}},
        polygon(QINGGUO_LANE[:-1]),  # not closed
        polygon([[119, 31], [120, 31], [119, 31]]),  # three positions
        polygon([[119, 31], [119, 31], [120, 31], [119, 31]]),  # only two different positions
        polygon([[119, 31], [181, 31], [120, 32], [119, 31]]),  # longitude out of range
        polygon([[119, 31], [120, 91], [120, 32], [119, 31]]),  # latitude out of range
        polygon([[31, 119], [31, 120], [32, 120], [31, 119]]),  # latitude first: 119 is no latitude
        polygon([[119, 31], ["120", 31], [120, 32], [119, 31]]),
        polygon([[119, 31], [True, 31], [120, 32], [119, 31]]),
        polygon([[119, 31], [120], [120, 32], [119, 31]]),
        polygon([[119, 31], [120, 31, 0, 0], [120, 32], [119, 31]]),
        polygon([[119, 31], [float("nan"), 31], [120, 32], [119, 31]]),
        [QINGGUO_LANE],
        "POLYGON((119 31, 120 31, 120 32, 119 31))",
    ],
)
def test_what_is_not_a_valid_polygon_is_refused(value):
    with pytest.raises(BoundaryError):
        boundary_clean(value)


def test_too_many_points_are_refused():
    ring = [[119 + i * 1e-5, 31 + (i % 2) * 1e-5] for i in range(MAX_POINTS)]
    ring.append(ring[0])

    with pytest.raises(BoundaryError, match=str(MAX_POINTS)):
        boundary_clean(polygon(ring))


@pytest.mark.django_db
def test_an_alliance_admin_draws_and_clears_the_boundary(city, login):
    client = login(city.admin_x)
    url = f"/api/v1/alliances/{city.alliance_a.pk}"

    drawn = client.patch(url, {"boundary": polygon(QINGGUO_LANE)}, format="json")
    refused = client.patch(url, {"boundary": polygon(QINGGUO_LANE[:-1])}, format="json")
    after_refusal = Alliance.objects.get(pk=city.alliance_a.pk).boundary
    cleared = client.patch(url, {"boundary": None}, format="json")

    assert drawn.status_code == 200 and drawn.json()["boundary"]["coordinates"][0][0] == [119.95, 31.776]
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_boundary"
    assert "boundary" in refused.json()["fields"]
    assert after_refusal == polygon([[float(x) for x in p] for p in QINGGUO_LANE])
    assert cleared.status_code == 200 and cleared.json()["boundary"] is None


@pytest.mark.django_db
def test_a_new_alliance_with_a_bad_boundary_is_not_created(city, login):
    response = login(city.admin_x).post_json(
        "/api/v1/alliances",
        {"name": "越界联盟", "station": city.station_x.pk, "boundary": polygon([[0, 0], [200, 0], [0, 1], [0, 0]])},
    )

    assert response.status_code == 400 and "boundary" in response.json()["fields"]
    assert not Alliance.objects.filter(name="越界联盟").exists()


@pytest.mark.django_db
def test_only_managers_edit_an_alliance(city, login, member_of):
    from accounts.models import Role
    from tests.factories.alliance import MemberRole

    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)

    response = login(merchant).patch(f"/api/v1/alliances/{city.alliance_a.pk}", {"name": "改名"}, format="json")

    assert response.status_code == 403
    assert Alliance.objects.get(pk=city.alliance_a.pk).name == "青平果联盟"
