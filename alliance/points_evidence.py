"""Where the apps above ``alliance`` tell the points ledger what evidence earns points, without ``alliance``
importing them (the dependency order is ``config`` <- ``accounts`` <- ``alliance`` <- ``groups`` <- ``reports``).

An evidence owner registers, from its ``AppConfig.ready()``, one function per *source* (``"patrol_hours"``,
``"incident_accepted"``...) that turns ids of its rows into the claims they earn *now*, reading the rows' current
state: a place whose check-in was verified earns its hours, an incident currently accepted earns its reporter's
points, an incident rejected earns nothing. When evidence happens or changes, the owner calls
:func:`points_settle_on_commit` with the ids; after commit a Celery task (``alliance.tasks.settle_points_task``)
makes the ledger match the claims: it writes the entries that are missing and reverses those whose evidence is gone.
So the same call serves an award and the reversal of evidence, and a task run twice changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PointsClaim:
    """What one piece of evidence earns one person: ``units`` of the rule for ``reason`` (hours for a patrol,
    1 for a report), never more than the person's daily cap for it on the local day of ``happened_at``."""

    user_id: int
    alliance_id: int
    reason: str  # a PointsReason governed by a rule
    units: float
    unique_key: str  # e.g. "patrol_hours:place:42"; one entry per key, ever
    source_type: str  # "<app>.<model>"
    source_id: int
    happened_at: datetime


ClaimsFor = Callable[[list[int]], list[PointsClaim]]
RecentIds = Callable[[datetime], list[int]]

_sources: dict[str, ClaimsFor] = {}
_recent: dict[str, RecentIds] = {}


def points_evidence_register(source: str, claims_for: ClaimsFor, *, recent_ids: RecentIds) -> None:
    """Called from an ``AppConfig.ready()``. ``claims_for(ids)`` returns the claims those rows earn now (none for a
    row that earns nothing, or no longer exists); ``unique_key`` of a claim must start with ``source + ":"``.
    ``recent_ids(since)`` names the rows whose evidence happened or changed since then, for the nightly catch-up
    (an award whose task never reached the broker)."""
    _sources[source] = claims_for
    _recent[source] = recent_ids


def points_recent_ids(source: str, since: datetime) -> list[int]:
    return _recent[source](since)


def points_claims_for(source: str, ids: list[int]) -> list[PointsClaim]:
    try:
        claims_for = _sources[source]
    except KeyError:
        raise LookupError(f"no points evidence registered as {source!r}") from None
    return claims_for(ids)


def points_sources() -> list[str]:
    return sorted(_sources)


def points_settle_on_commit(*, source: str, ids: Iterable[int]) -> None:
    """After the current transaction commits, queue the settling of these rows' points. A broker that is down
    loses nothing that matters: the error is logged and the nightly catch-up settles the day's evidence again."""
    ids = sorted(set(ids))
    if not ids:
        return
    if source not in _sources:
        raise LookupError(f"no points evidence registered as {source!r}")

    def queue() -> None:
        from alliance.tasks import settle_points_task  # the task module imports the services, which import this

        try:
            settle_points_task.delay(source, ids)
        except Exception:  # the broker is down: the nightly catch-up settles it
            logger.exception("could not queue the points of %s %s; the nightly catch-up will", source, ids)

    transaction.on_commit(queue)
