"""Checking the GeoJSON Polygon an alliance draws around its streets, without a GIS library.

In ``config`` rather than ``alliance`` because the API's ``BoundaryField`` (``config.serializer_fields``) states its
limit in the schema, and every app may take a polygon (patrol zones are next).

RFC 7946: a Polygon is ``{"type": "Polygon", "coordinates": [ring, ...]}``; the first ring is the outline, the
others are holes; a ring is a closed list of at least four positions ``[longitude, latitude]`` whose first and last
positions are the same. Self-intersection is not checked: the boundary is drawn for people, not for computation.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext as _

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
