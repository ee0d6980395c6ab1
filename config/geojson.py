"""Checking the GeoJSON Polygons people draw: an alliance's streets (:func:`boundary_clean`, structure only) and
patrol zones and grids (:func:`patrol_boundary_clean`, also checked as geometry with shapely).

In ``config`` rather than ``alliance`` because the API's ``BoundaryField`` (``config.serializer_fields``) states its
limit in the schema, and every app may take a polygon (patrol zones are next).

RFC 7946: a Polygon is ``{"type": "Polygon", "coordinates": [ring, ...]}``; the first ring is the outline, the
others are holes; a ring is a closed list of at least four positions ``[longitude, latitude]`` whose first and last
positions are the same. An alliance's self-intersection is not checked: that boundary is drawn for people; a patrol
zone's is computed on ("is this volunteer inside?"), so it must be valid geometry.
"""

from __future__ import annotations

import math

import shapely
from django.utils.translation import gettext as _
from shapely import validation
from shapely.geometry import shape

from config.coordinates import to_wgs84
from config.geo import METRES_PER_DEGREE_LATITUDE

MAX_POINTS = 2000
MAX_RINGS = 20


class BoundaryError(ValueError):
    """The boundary is not a Polygon we accept; the message is for people."""


def _position(value, where: str) -> list[float]:
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise BoundaryError(_("%(where)s: a position is [longitude, latitude].") % {"where": where})
    if not all(isinstance(number, int | float) and not isinstance(number, bool) for number in value):
        raise BoundaryError(_("%(where)s: longitude and latitude must be numbers.") % {"where": where})
    longitude, latitude = float(value[0]), float(value[1])
    if not (math.isfinite(longitude) and math.isfinite(latitude)):
        raise BoundaryError(_("%(where)s: longitude and latitude must be numbers.") % {"where": where})
    if not -180 <= longitude <= 180:
        raise BoundaryError(_("%(where)s: longitude must be between -180 and 180.") % {"where": where})
    if not -90 <= latitude <= 90:
        raise BoundaryError(_("%(where)s: latitude must be between -90 and 90.") % {"where": where})
    return [longitude, latitude]  # an altitude, if sent, means nothing for a street boundary and is dropped


def boundary_clean(value) -> dict | None:
    """The polygon as stored (floats, [longitude, latitude] pairs), or None for "no boundary".

    Raises :class:`BoundaryError` naming the first problem found.
    """
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") != "Polygon":
        raise BoundaryError(_('The boundary must be a GeoJSON object of type "Polygon".'))
    extra = set(value) - {"type", "coordinates", "bbox"}
    if extra:
        raise BoundaryError(_("Unexpected keys in the boundary: %(keys)s.") % {"keys": ", ".join(sorted(extra))})
    rings = value.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise BoundaryError(_("The boundary needs coordinates: a list of rings."))
    if len(rings) > MAX_RINGS:
        raise BoundaryError(_("The boundary may have at most %(max)s rings.") % {"max": MAX_RINGS})
    total = sum(len(ring) for ring in rings if isinstance(ring, list))
    if total > MAX_POINTS:
        raise BoundaryError(_("The boundary may have at most %(max)s points.") % {"max": MAX_POINTS})

    cleaned = []
    for number, ring in enumerate(rings, start=1):
        where = _("ring %(number)s") % {"number": number}
        if not isinstance(ring, list) or len(ring) < 4:
            raise BoundaryError(_("%(where)s: a ring needs at least four positions.") % {"where": where})
        positions = [_position(position, where) for position in ring]
        if positions[0] != positions[-1]:
            raise BoundaryError(
                _("%(where)s: the ring is not closed; the last position must repeat the first.") % {"where": where}
            )
        if len({tuple(position) for position in positions}) < 3:
            raise BoundaryError(_("%(where)s: a ring needs at least three different positions.") % {"where": where})
        cleaned.append(positions)
    return {"type": "Polygon", "coordinates": cleaned}


# --- patrol polygons: zones and grids, computed on, so they must be valid geometry --------------------------------

# A patrol zone is a street, a market or a town's patrol area: Fengxian's town has 4 areas over ~50 km², so no
# single patrol polygon is larger; under 100 m² (a 10 m square) it is a mis-click, not a place people patrol.
PATROL_MAX_POINTS = 500
PATROL_MAX_RINGS = 10
PATROL_MAX_AREA_SQUARE_METRES = 50_000_000
PATROL_MIN_AREA_SQUARE_METRES = 100


def local_plane(geometry, *, latitude: float, longitude: float):
    """``geometry`` (shapely, degrees, x = longitude) on a local plane in metres around the given position
    (x = east, y = north): over a district, far more exact than anything it is compared with."""
    per_degree_longitude = METRES_PER_DEGREE_LATITUDE * math.cos(math.radians(latitude))
    return shapely.transform(
        geometry, lambda xy: (xy - (longitude, latitude)) * (per_degree_longitude, METRES_PER_DEGREE_LATITUDE)
    )


def _validity_message(reason: str) -> str:
    """shapely's ``explain_validity`` ("Self-intersection[121.47 30.91]") said for people, with the place."""
    kind, _bracket, where = reason.partition("[")
    place = where.rstrip("]").split()
    at = ""
    if len(place) >= 2:
        at = _(" (near longitude %(longitude)s, latitude %(latitude)s)") % {
            "longitude": f"{float(place[0]):.6f}",
            "latitude": f"{float(place[1]):.6f}",
        }
    kind = kind.strip().lower()
    if "self-intersection" in kind:
        message = _("The boundary crosses itself%(at)s: draw the outline without crossing lines.")
    elif "hole lies outside shell" in kind:
        message = _("A hole of the boundary lies outside its outline%(at)s.")
    elif "nested holes" in kind:
        message = _("A hole of the boundary lies inside another hole%(at)s.")
    elif "interior is disconnected" in kind:
        message = _("The holes cut the boundary into separate pieces%(at)s: draw one piece per zone.")
    elif "too few points" in kind:
        message = _("A ring of the boundary has too few different points%(at)s.")
    else:
        message = _("The boundary is not a valid polygon%(at)s.")
    return message % {"at": at}


def patrol_boundary_clean(value, *, coordinate_system: str = "wgs84") -> dict:
    """A patrol zone's or grid's polygon as stored: checked as :func:`boundary_clean` does, converted to WGS-84 from
    ``coordinate_system`` (a polygon drawn on Amap is GCJ-02), then checked as geometry: a valid polygon (no ring
    crossing itself or another), at most :data:`PATROL_MAX_POINTS` positions, between
    :data:`PATROL_MIN_AREA_SQUARE_METRES` and :data:`PATROL_MAX_AREA_SQUARE_METRES` in area.

    Raises :class:`BoundaryError` naming the first problem found.
    """
    if value is None:
        raise BoundaryError(_("A patrol zone needs a boundary."))
    if isinstance(value, dict) and isinstance(value.get("coordinates"), list):
        rings = value["coordinates"]
        if len(rings) > PATROL_MAX_RINGS:
            raise BoundaryError(_("The boundary may have at most %(max)s rings.") % {"max": PATROL_MAX_RINGS})
        if sum(len(ring) for ring in rings if isinstance(ring, list)) > PATROL_MAX_POINTS:
            raise BoundaryError(_("The boundary may have at most %(max)s points.") % {"max": PATROL_MAX_POINTS})
    cleaned = boundary_clean(value)
    converted = []
    for ring in cleaned["coordinates"]:
        moved = []
        for longitude, latitude in ring:
            latitude, longitude = to_wgs84(latitude, longitude, coordinate_system)
            moved.append([longitude, latitude])
        converted.append(moved)
    cleaned = {"type": "Polygon", "coordinates": converted}

    polygon = shape(cleaned)
    if not polygon.is_valid:
        raise BoundaryError(_validity_message(validation.explain_validity(polygon)))
    centre = polygon.centroid
    area = local_plane(polygon, latitude=centre.y, longitude=centre.x).area
    if area > PATROL_MAX_AREA_SQUARE_METRES:
        raise BoundaryError(
            _("The boundary covers %(area)s km²; a patrol zone may cover at most %(max)s km².")
            % {"area": f"{area / 1e6:.1f}", "max": PATROL_MAX_AREA_SQUARE_METRES // 1_000_000}
        )
    if area < PATROL_MIN_AREA_SQUARE_METRES:
        raise BoundaryError(
            _("The boundary covers %(area)s m²; a patrol zone covers at least %(min)s m².")
            % {"area": f"{area:.0f}", "min": PATROL_MIN_AREA_SQUARE_METRES}
        )
    return cleaned
