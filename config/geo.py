"""Distances on the ground, for everything that compares positions: possible duplicate reports, repeat cases and
hotspots, and next the patrol's checkpoints and check-ins. One Earth for the whole project.

Positions are WGS 84 degrees as phones send them. Over the tens of metres these features compare, a sphere and,
for speed, the local plane are both far more exact than a phone's fix (5-10 m).
"""

from __future__ import annotations

import math

# The mean Earth radius (IUGG): great-circle distances.
EARTH_RADIUS_METRES = 6_371_008.8

# Metres per degree of latitude (of longitude: times the cosine of the latitude), for the local plane and for
# bounding boxes. The true figure runs from 110,574 at the equator to 111,694 at the poles, so this is within 0.7 %
# anywhere: a box drawn with it and a 1 % margin always holds the circle it stands for.
METRES_PER_DEGREE_LATITUDE = 111_320.0


def distance_metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle (haversine) distance between two points in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(min(1.0, math.sqrt(a)))
