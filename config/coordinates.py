"""Positions from Chinese map SDKs, converted at the edge: every position we store is WGS-84.

GPS gives WGS-84. Amap (高德) and Tencent map SDKs, which most Chinese apps use, give GCJ-02 ("Mars coordinates"):
WGS-84 moved by a published but deliberately irregular formula, 100-700 m on the ground. The API takes a
coordinate system with every position it receives and calls :func:`to_wgs84` before anything else looks at it.

Hand-written rather than a dependency: the formula is a dozen lines that have not changed since 2008, and the
packages that carry it (eviltransform, coord-convert) have been unmaintained since 2018-2019. GCJ-02 -> WGS-84
has no closed form; a few fixed-point steps of the forward formula bring it under a millimetre.
Outside mainland China GCJ-02 is WGS-84 itself (the SDKs do not shift there), as in every implementation.
"""

from __future__ import annotations

import math

WGS84 = "wgs84"
GCJ02 = "gcj02"
COORDINATE_SYSTEMS = (WGS84, GCJ02)

# The Krasovsky 1940 ellipsoid the GCJ-02 formula is written on.
_A = 6378245.0
_EE = 0.00669342162296594323


def _outside_china(latitude: float, longitude: float) -> bool:
    return not (73.66 < longitude < 135.05 and 3.86 < latitude < 53.55)


def _shift(latitude: float, longitude: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 position, in degrees (latitude, longitude)."""
    x, y = longitude - 105.0, latitude - 35.0
    common = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + common
    d_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    d_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + common
    d_lon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    d_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad_lat = latitude / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * math.sqrt(magic)) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / math.sqrt(magic) * math.cos(rad_lat) * math.pi)
    return d_lat, d_lon


def wgs84_to_gcj02(latitude: float, longitude: float) -> tuple[float, float]:
    if _outside_china(latitude, longitude):
        return latitude, longitude
    d_lat, d_lon = _shift(latitude, longitude)
    return latitude + d_lat, longitude + d_lon


def gcj02_to_wgs84(latitude: float, longitude: float) -> tuple[float, float]:
    """The WGS-84 position whose GCJ-02 is the one given (to well under a millimetre)."""
    if _outside_china(latitude, longitude):
        return latitude, longitude
    wgs_lat, wgs_lon = latitude, longitude
    for _ in range(10):
        gcj_lat, gcj_lon = wgs84_to_gcj02(wgs_lat, wgs_lon)
        error_lat, error_lon = gcj_lat - latitude, gcj_lon - longitude
        wgs_lat, wgs_lon = wgs_lat - error_lat, wgs_lon - error_lon
        if abs(error_lat) < 1e-10 and abs(error_lon) < 1e-10:
            break
    return wgs_lat, wgs_lon


def to_wgs84(latitude: float, longitude: float, coordinate_system: str) -> tuple[float, float]:
    """The position as we store it. ``coordinate_system`` is one of :data:`COORDINATE_SYSTEMS`, already checked."""
    if coordinate_system == GCJ02:
        return gcj02_to_wgs84(latitude, longitude)
    return latitude, longitude
