"""Figures and the report's heading."""

from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest rank: with 50 values, p99 is the largest. NaN when there are none."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def stamped(title: str) -> str:
    return f"{title} - {datetime.datetime.now().isoformat(timespec='seconds')}"


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def versions(*names: str) -> str:
    return ", ".join(f"{name} {metadata.version(name)}" for name in names)


def print_header(header: str) -> None:
    """A table's column names, underlined to their width."""
    print(header)
    print("-" * len(header))
