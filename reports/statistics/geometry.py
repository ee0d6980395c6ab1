"""Where cases fall: repeat cases (the same place within 30 days) and hotspots (the grid cells with most cases)."""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from config.geo import METRES_PER_DEGREE_LATITUDE
from reports.statistics.definitions import HOTSPOT_COUNT, HOTSPOT_GRID, REPEAT_DISTANCE_METRES, REPEAT_WINDOW


@dataclass(frozen=True)
class CasePlace:
    """A case as repeat detection and hotspots see it: where, when, and which alliance."""

    alliance_id: int
    at: datetime
    latitude: Decimal
    longitude: Decimal
    kind: str  # "dispute" or "incident"


def _neighbour_offsets(lat_reach: int, lon_reach: int) -> list[tuple[int, int]]:
    """The grid cells to search around a case's own, nearest first: a repeat is most often in the same cell."""
    offsets = [(r, c) for r in range(-lat_reach, lat_reach + 1) for c in range(-lon_reach, lon_reach + 1)]
    return sorted(offsets, key=lambda offset: (abs(offset[0]) + abs(offset[1]), offset))


def repeat_count(places: list[CasePlace], *, since: datetime) -> int:
    """How many cases raised at or after ``since`` lie within 50 m of an earlier case of the same alliance raised
    at most 30 days before. ``places`` must reach back 30 days before ``since``.

    Cases go into a 0.001-degree grid and each is compared only with the neighbouring cells' cases of the last 30
    days, so the work grows with the cases, not with their square. Distances are measured on the local plane at
    111,320 m per degree (``config.geo.METRES_PER_DEGREE_LATITUDE``; of longitude times its cosine): within 0.2 m
    of the true distance at 50 m."""
    cell = float(HOTSPOT_GRID)
    lat_reach = math.ceil(REPEAT_DISTANCE_METRES / (METRES_PER_DEGREE_LATITUDE * cell))
    within_squared = REPEAT_DISTANCE_METRES**2
    offsets_by_reach: dict[int, list[tuple[int, int]]] = {}
    repeats = 0
    by_alliance: dict[int, list[CasePlace]] = defaultdict(list)
    for place in places:
        by_alliance[place.alliance_id].append(place)
    for cases in by_alliance.values():
        cases.sort(key=lambda p: p.at)
        recent: dict[tuple[int, int], deque[tuple[datetime, float, float]]] = defaultdict(deque)
        for case in cases:
            lat, lon = float(case.latitude), float(case.longitude)
            row, col = math.floor(lat / cell), math.floor(lon / cell)
            if case.at >= since:
                metres_east = METRES_PER_DEGREE_LATITUDE * max(math.cos(math.radians(lat)), 0.01)
                lon_reach = math.ceil(REPEAT_DISTANCE_METRES / (metres_east * cell))
                if lon_reach not in offsets_by_reach:
                    offsets_by_reach[lon_reach] = _neighbour_offsets(lat_reach, lon_reach)
                oldest = case.at - REPEAT_WINDOW
                if _near_an_earlier_case(
                    case.at,
                    lat,
                    lon,
                    metres_east,
                    within_squared,
                    oldest,
                    row,
                    col,
                    recent,
                    offsets_by_reach[lon_reach],
                ):
                    repeats += 1
            recent[(row, col)].append((case.at, lat, lon))
    return repeats


def _near_an_earlier_case(at, lat, lon, metres_east, within_squared, oldest, row, col, recent, offsets) -> bool:
    for d_row, d_col in offsets:
        earlier = recent.get((row + d_row, col + d_col))
        if not earlier:
            continue
        while earlier and earlier[0][0] < oldest:
            earlier.popleft()  # cases come in time order: too old now, too old for every later one
        for e_at, e_lat, e_lon in earlier:
            if e_at < at:
                north = (lat - e_lat) * METRES_PER_DEGREE_LATITUDE
                east = (lon - e_lon) * metres_east
                if north * north + east * east <= within_squared:
                    return True
    return False


def hotspots(places: Iterable[CasePlace], *, limit: int = HOTSPOT_COUNT) -> list[dict]:
    cells: dict[tuple[Decimal, Decimal], dict[str, int]] = defaultdict(lambda: {"dispute": 0, "incident": 0})
    for place in places:
        key = (
            place.latitude.quantize(HOTSPOT_GRID, rounding=ROUND_HALF_UP),
            place.longitude.quantize(HOTSPOT_GRID, rounding=ROUND_HALF_UP),
        )
        cells[key][place.kind] += 1
    ranked = sorted(cells.items(), key=lambda item: (-sum(item[1].values()), item[0]))[:limit]
    return [
        {
            "latitude": float(lat),
            "longitude": float(lon),
            "cases": counts["dispute"] + counts["incident"],
            "disputes": counts["dispute"],
            "incidents": counts["incident"],
        }
        for (lat, lon), counts in ranked
    ]
