"""Reads for recording the Safe Store scores: which stores a place on the street is at or near. (Which stores a
person owns or staffs is read inside the one statement that scores them: alliance/services/store_scores.py.)"""

from __future__ import annotations

import math

from alliance.models import Store
from config.geo import METRES_PER_DEGREE_LATITUDE, distance_metres


def stores_near(*, alliance_id: int, latitude: float, longitude: float, metres: float) -> list[int]:
    """The ids of the alliance's stores within ``metres`` of the point: a bounding box in the database (1 % wider
    than the circle, see config/geo.py), then the exact distance."""
    latitude, longitude = float(latitude), float(longitude)
    d_lat = metres * 1.01 / METRES_PER_DEGREE_LATITUDE
    d_lon = d_lat / max(math.cos(math.radians(latitude)), 0.01)
    candidates = Store.objects.filter(
        alliance_id=alliance_id,
        latitude__range=(latitude - d_lat, latitude + d_lat),
        longitude__range=(longitude - d_lon, longitude + d_lon),
    ).values_list("pk", "latitude", "longitude")
    return sorted(
        pk for pk, lat, lon in candidates if distance_metres(latitude, longitude, float(lat), float(lon)) <= metres
    )
