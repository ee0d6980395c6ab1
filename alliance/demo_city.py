"""Where the apps above ``alliance`` add their part of the demo city (``manage.py seed_demo``), without ``alliance``
importing them (the dependency order is ``config`` <- ``accounts`` <- ``alliance`` <- ``groups`` <- ``reports``).

The seed makes the police units, alliances, people and stores, then calls every registered part, in registration
order, inside its own transaction; an upper app registers its part from its ``AppConfig.ready()`` (``groups``: the
patrol of Fengming Golden Street, ``groups/demo_patrol.py``). A part must be idempotent, as the seed is: it finds
its rows by stable keys and creates only what is missing, counting what it made in ``created``. It answers the
logins it wants printed, which the seed shows as a table of their own after the alliances' logins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from alliance.models import Alliance


class DemoLogin(NamedTuple):
    role: str  # as the table prints it: "team leader", "volunteer"
    name: str
    phone: str
    where: str  # what the login is for in the demo: a team, tonight's place


DemoCityPart = Callable[..., list[DemoLogin]]  # (*, alliances: dict[slug, Alliance], created: Counter[str])

_parts: dict[str, DemoCityPart] = {}


def demo_city_part_register(title: str, part: DemoCityPart) -> None:
    """Called from an ``AppConfig.ready()``; ``title`` heads the part's logins in the output. Registering the same
    title again replaces the part, never doubles it."""
    _parts[title] = part


def demo_city_parts_seed(*, alliances: dict[str, Alliance], created: Counter[str]) -> list[tuple[str, list[DemoLogin]]]:
    """Every registered part, in order: ``(title, the logins it wants printed)``. Expects the seed's transaction."""
    return [(title, part(alliances=alliances, created=created)) for title, part in _parts.items()]
