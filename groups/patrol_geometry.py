"""Is a person inside a patrol zone, and how far outside: shapely on the stored GeoJSON, the same on SQLite and
PostgreSQL (no PostGIS needed, so the embedded default does exactly what production does).

Distances are taken on a local plane around the person (x = east metres, y = north metres): over a street or a
district, far more exact than a phone's fix, and shapely's planar distance is then metres directly.
"""

from __future__ import annotations

import math
from functools import lru_cache

import shapely
from shapely.geometry import Point, Polygon, shape

from config.geo import METRES_PER_DEGREE_LATITUDE
from config.geojson import local_plane


@lru_cache(maxsize=4096)
def _polygon(rings: tuple) -> Polygon:
    polygon = shape({"type": "Polygon", "coordinates": rings})
    shapely.prepare(polygon)
    return polygon


def polygon_from_geojson(boundary: dict) -> Polygon:
    """The shapely polygon (degrees, x = longitude) of a stored GeoJSON Polygon, cached by its coordinates."""
    return _polygon(tuple(tuple(tuple(position) for position in ring) for ring in boundary["coordinates"]))


def metres_outside(boundary: dict, *, latitude: float, longitude: float) -> float:
    """0 when the point is inside the polygon (or on its edge), else its distance to the polygon in metres."""
    polygon = polygon_from_geojson(boundary)
    point = Point(longitude, latitude)
    if polygon.covers(point):
        return 0.0
    metres_per_degree_longitude = METRES_PER_DEGREE_LATITUDE * math.cos(math.radians(latitude))
    local = shapely.transform(
        polygon,
        lambda xy: (xy - (longitude, latitude)) * (metres_per_degree_longitude, METRES_PER_DEGREE_LATITUDE),
    )
    return float(local.distance(Point(0.0, 0.0)))


# A grid drawn along its zone's edge on a phone lands a few metres either side of it; that is the same line.
GRID_EDGE_TOLERANCE_METRES = 5.0


def zone_covers(boundary: dict, *, latitude: float, longitude: float) -> bool:
    """The point lies inside the polygon or on its edge."""
    return polygon_from_geojson(boundary).covers(Point(longitude, latitude))


def grid_within_zone(grid_boundary: dict, zone_boundary: dict) -> bool:
    """The grid lies inside its zone, allowing :data:`GRID_EDGE_TOLERANCE_METRES` over the zone's edge."""
    zone = polygon_from_geojson(zone_boundary)
    grid = polygon_from_geojson(grid_boundary)
    if zone.covers(grid):
        return True
    centre = zone.centroid
    zone_local = local_plane(zone, latitude=centre.y, longitude=centre.x)
    grid_local = local_plane(grid, latitude=centre.y, longitude=centre.x)
    return zone_local.buffer(GRID_EDGE_TOLERANCE_METRES).covers(grid_local)
