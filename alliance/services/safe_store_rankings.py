"""The final Safe Store ranking of a half-year, and the weights it is computed with.

The ranking of an alliance and period is written exactly once, whatever runs it (two beat processes, a retried or
redelivered task, an admin's run beside the beat): the ranking rows go in with ``INSERT ... ON CONFLICT DO NOTHING``
on the unique (alliance, period_start) key, and the entries only for the rows that this insert returned, in the
same transaction. A concurrent run waits on the key until the first commits, then finds it taken and writes nothing.
The entries are one ``INSERT ... SELECT`` of the score statement (``alliance.selectors.safe_store_scores``) for all
those alliances at once: the number of statements does not depend on the number of stores or alliances.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from alliance.models import Alliance, SafeStoreRanking, SafeStoreWeight, StoreScorePart
from alliance.permissions import can_set_safe_store_weights
from alliance.selectors.alliances import AllianceAccess
from alliance.selectors.safe_store_scores import (
    safe_store_period,
    safe_store_period_bounds,
    safe_store_previous_period,
    safe_store_scores_sql,
    safe_store_weights,
)
from config.errors import ApplicationError

logger = logging.getLogger(__name__)

SAFE_STORE_WEIGHT_LIMIT = 100.0


WEIGHTS_REFUSAL = gettext_lazy("Only the police admins of the alliance's jurisdiction set the weights.")


@dataclass(frozen=True)
class RankingsComputed:
    rankings: int  # ranking rows this run wrote (0 when every one was already there)
    entries: int


def safe_store_ranking_compute(*, period_start: date, alliance_id: int | None = None) -> RankingsComputed:
    """Compute and store the final ranking of the period starting ``period_start`` (a 1 January or 1 July) for
    ``alliance_id``, or for every alliance that has none yet and existed before the period ended. Idempotent: an
    alliance whose ranking of the period exists (by this run or any other) is left as it is."""
    start, end = safe_store_period(period_start)
    if start != period_start:
        raise ValueError(f"{period_start} does not start a half-year")
    _from, period_to = safe_store_period_bounds(start, end)
    if period_to > timezone.now():
        raise ValueError(f"the half-year from {start} has not ended: its live preview shows it")
    due = Alliance.objects.filter(created_at__lt=period_to).exclude(
        safe_store_rankings__period_start=start
    )  # a stale read is harmless: the insert below decides
    if alliance_id is not None:
        due = due.filter(pk=alliance_id)
    due_ids = list(due.order_by("pk").values_list("pk", flat=True))
    if not due_ids:
        return RankingsComputed(rankings=0, entries=0)
    weights = safe_store_weights(alliance_ids=due_ids)
    with transaction.atomic():
        inserted = _rankings_insert(weights=weights, start=start, end=end)
        entries = _entries_insert(weights={a: weights[a] for a in inserted}, ranking_ids=inserted, start=start, end=end)
    logger.info("Safe Store rankings of %s: %s written, %s entries", start, len(inserted), entries)
    return RankingsComputed(rankings=len(inserted), entries=entries)


def _rankings_insert(*, weights: dict[int, dict[str, float]], start: date, end: date) -> dict[int, int]:
    """One ranking row per alliance unless its (alliance, period_start) key is taken; {alliance id: ranking id} of
    the rows this statement inserted (``RETURNING`` names only those, on PostgreSQL and SQLite alike). The rows go
    in alliance id order, so two concurrent runs wait on the keys in the same order and cannot deadlock."""
    rows, params = [], []
    computed_at = timezone.now()
    for alliance_id, alliance_weights in weights.items():
        rows.append("(%s, %s, %s, %s, %s, %s)")
        params += [alliance_id, start, end, SafeStoreRanking.Status.COMPUTED, json.dumps(alliance_weights), computed_at]
    columns = "alliance_id, period_start, period_end, status, weights, computed_at"
    sql = f"INSERT INTO alliance_safestoreranking ({columns}) VALUES {', '.join(rows)}"  # noqa: S608 - parameters
    sql += " ON CONFLICT (alliance_id, period_start) DO NOTHING RETURNING alliance_id, id"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


# The entries of the rankings just inserted: the score statement joined to those ranking rows.
_ENTRIES_SQL = """
INSERT INTO alliance_safestorerankingentry (
    ranking_id, store_id, rank, score, security_score, contribution_score, parts, held_back, held_back_reason
)
SELECT r.id, s.store_id, s.rank, s.score, s.security_score, s.contribution_score, s.parts, {false}, ''
FROM ({scores}) s
JOIN alliance_safestoreranking r ON r.alliance_id = s.alliance_id AND r.period_start = %(period_start)s
WHERE r.id IN ({ranking_ids})
"""


def _entries_insert(*, weights: dict[int, dict[str, float]], ranking_ids: dict[int, int], start: date, end: date):
    if not ranking_ids:
        return 0
    scores, params = safe_store_scores_sql(weights=weights, period_start=start, period_end=end)
    params["period_start"] = start
    ids = []
    for number, ranking_id in enumerate(ranking_ids.values()):
        params[f"r{number}"] = ranking_id
        ids.append(f"%(r{number})s")
    false = "false" if connection.vendor == "postgresql" else "0"
    sql = _ENTRIES_SQL.format(scores=scores, ranking_ids=", ".join(ids), false=false)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def safe_store_rankings_compute_due(*, today: date | None = None) -> RankingsComputed:
    """The scheduled job: the previous half-year's ranking for every alliance that has none."""
    start, _end = safe_store_previous_period(today or timezone.localdate())
    return safe_store_ranking_compute(period_start=start)


# --- weights ------------------------------------------------------------------------------------------------------


def safe_store_weights_set(*, actor: User, access: AllianceAccess, weights: dict[str, float]) -> dict[str, float]:
    """Set some of the alliance's weights (police admins of its jurisdiction); parts not named keep theirs. Answers
    every part's weight now. A ranking already computed keeps the weights it was computed with."""
    if not can_set_safe_store_weights(actor, access):
        raise ApplicationError.permission_denied(str(WEIGHTS_REFUSAL))
    for part, weight in weights.items():
        if part not in StoreScorePart.values:
            raise ApplicationError.invalid(part, _("Not a part of the Safe Store score."))
        if not -SAFE_STORE_WEIGHT_LIMIT <= weight <= SAFE_STORE_WEIGHT_LIMIT:
            raise ApplicationError.invalid(
                part, _("Enter a weight from %(low)s to %(high)s.") % {"low": -100, "high": 100}
            )
    now = timezone.now()
    with transaction.atomic():
        SafeStoreWeight.objects.bulk_create(
            [
                SafeStoreWeight(alliance=access.alliance, part=part, weight=weight, updated_by=actor, updated_at=now)
                for part, weight in weights.items()
            ],
            update_conflicts=True,
            unique_fields=["alliance", "part"],
            update_fields=["weight", "updated_by", "updated_at"],
        )
    return safe_store_weights(alliance_ids=[access.alliance.pk])[access.alliance.pk]
