"""GCJ-02 conversion (config/coordinates.py) against published points: what Amap and Tencent maps show for a GPS
position, from the reference implementation's test vectors (eviltransform) and the widely quoted Tiananmen point."""

from __future__ import annotations

import pytest

from config.coordinates import GCJ02, WGS84, gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02

# (WGS-84 latitude, longitude, GCJ-02 latitude, longitude)
KNOWN_POINTS = [
    (39.915, 116.404, 39.91640428150164, 116.41024449916938),  # Tiananmen, Beijing
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai (eviltransform)
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen (eviltransform)
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing (eviltransform)
]


@pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), KNOWN_POINTS)
def test_wgs84_to_gcj02_matches_the_published_points(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    # when a GPS position is converted
    latitude, longitude = wgs84_to_gcj02(wgs_lat, wgs_lon)

    # then it is the published map position to a nanodegree (well under a millimetre)
    assert latitude == pytest.approx(gcj_lat, abs=1e-9)
    assert longitude == pytest.approx(gcj_lon, abs=1e-9)


@pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), KNOWN_POINTS)
def test_gcj02_back_to_wgs84_finds_the_gps_position(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    # when a map position is converted back, directly or as the API's edge does
    direct = gcj02_to_wgs84(gcj_lat, gcj_lon)
    at_the_edge = to_wgs84(gcj_lat, gcj_lon, GCJ02)

    # then it is the GPS position within 1e-7 degrees (about 1 cm)
    assert direct == pytest.approx((wgs_lat, wgs_lon), abs=1e-7)
    assert at_the_edge == direct


@pytest.mark.parametrize(("latitude", "longitude"), [(51.5007, -0.1246), (35.6586, 139.7454), (-33.8568, 151.2153)])
def test_positions_outside_china_are_unchanged_both_ways(latitude, longitude):
    assert wgs84_to_gcj02(latitude, longitude) == (latitude, longitude)
    assert gcj02_to_wgs84(latitude, longitude) == (latitude, longitude)


def test_wgs84_positions_are_stored_as_sent():
    assert to_wgs84(30.918, 121.474, WGS84) == (30.918, 121.474)
