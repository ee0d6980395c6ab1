"""Small pieces of arithmetic: percentages, medians, percentiles and changes, rounded as the definitions say."""

from __future__ import annotations

import statistics as pystatistics
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal


def half_up(value, places: str) -> float:
    return float(Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def percentage(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, rounded half up to one decimal; None when ``whole`` is 0."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def median(values: Sequence[float]) -> float | None:
    return pystatistics.median(values) if values else None


def percentile_nearest_rank(values: Sequence[float], percent: int) -> float | None:
    """The smallest value that at least ``percent``% of the values do not exceed (an observed value, not an
    interpolation: "90% of flags were answered within this time" is then literally true)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-percent * len(ordered) // 100)  # ceil, in integers
    return ordered[max(rank, 1) - 1]


def durations(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return _duration_figures(len(ordered), median(ordered), percentile_nearest_rank(ordered, 90))


def durations_from_ranks(count: int, low: float | None, high: float | None, p90: float | None) -> dict:
    """:func:`durations` from what the database picked out of the sorted times: the middle value counted from the
    bottom (``low``) and from the top (``high``), the same one when ``count`` is odd, and the nearest-rank p90.
    The median is then the mean of the two middle ones, in the same float operations as ``statistics.median``."""
    middle = None
    if count:
        middle = low if count % 2 else (low + high) / 2
    return _duration_figures(count, middle, p90)


def _duration_figures(count: int, middle: float | None, p90: float | None) -> dict:
    return {
        "count": count,
        "median_seconds": None if middle is None else half_up(middle, "0.1"),
        "p90_seconds": None if p90 is None else half_up(p90, "0.1"),
    }


def seconds_between(pairs: Iterable[tuple[datetime, datetime | None]]) -> list[float]:
    return [(end - start).total_seconds() for start, end in pairs if end is not None]


def change(value, base) -> dict:
    """``value`` against ``base``: the base, the difference and the difference in percent of the base."""
    if value is None or base is None:
        return {"value": base, "change": None, "change_pct": None}
    difference = value - base
    if isinstance(difference, float):
        difference = half_up(difference, "0.1")
    change_pct = None
    if base:
        change_pct = float(
            ((Decimal(str(value)) - Decimal(str(base))) * 100 / Decimal(str(base))).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
        )
    return {"value": base, "change": difference, "change_pct": change_pct}
