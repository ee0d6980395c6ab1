"""The Safe Store score of every store, in one SQL statement: the half-year periods, the weights, and the query that
the live preview, a store's breakdown and the final ranking (``alliance.services.safe_store_rankings``) all run.

A store's score in a period is, over the parts (``StoreScorePart``), the sum of its scored events' values in the
period times the alliance's weight for the part; the security status is the sum over ``SECURITY_PARTS``, the
merchant's contribution the sum over ``CONTRIBUTION_PARTS``. Every store of the alliance is ranked, a store without
events scoring 0. The statement is set-based (a join, two aggregations and two window functions; no loop over stores)
and plain SQL that PostgreSQL and SQLite (3.25 or later: window functions) both run; the only difference is the name
of the JSON functions that build each store's parts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from alliance.models import SafeStoreWeight, StoreScorePart
from alliance.models.safe_stores import SECURITY_PARTS

# --- periods ------------------------------------------------------------------------------------------------------


def safe_store_period(for_date: date) -> tuple[date, date]:
    """The half-year holding ``for_date``: (1 January, 30 June) or (1 July, 31 December), both days included."""
    if for_date.month <= 6:
        return date(for_date.year, 1, 1), date(for_date.year, 6, 30)
    return date(for_date.year, 7, 1), date(for_date.year, 12, 31)


def safe_store_previous_period(for_date: date) -> tuple[date, date]:
    """The half-year before the one holding ``for_date``: the one the final ranking is computed for."""
    start, _end = safe_store_period(for_date)
    return safe_store_period(start - timedelta(days=1))


def safe_store_period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period as aware datetimes: from local (Asia/Shanghai) midnight of ``start`` up to, not including, local
    midnight after ``end``. An event counts in the period when ``bounds[0] <= occurred_at < bounds[1]``."""
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


# --- weights ------------------------------------------------------------------------------------------------------


def safe_store_weights(*, alliance_ids: Iterable[int]) -> dict[int, dict[str, float]]:
    """Each alliance's weight of every part: its own ``SafeStoreWeight`` rows, the default for any part it has not
    set (one query for any number of alliances)."""
    defaults = {part.value: float(settings.SAFE_STORE_DEFAULT_WEIGHTS[part.value]) for part in StoreScorePart}
    weights = {alliance_id: dict(defaults) for alliance_id in alliance_ids}
    rows = SafeStoreWeight.objects.filter(alliance_id__in=list(weights)).values_list("alliance_id", "part", "weight")
    for alliance_id, part, weight in rows:
        if part in defaults:
            weights[alliance_id][part] = weight
    return weights


# --- the statement ------------------------------------------------------------------------------------------------

# {part_rows}: one "(part, weight, is_security)" row per part and alliance; {alliances}: the alliances' ids.
_SCORES_SQL = """
WITH
    -- The weight of every part in each alliance concerned, as read once by the caller (so the final ranking stores
    -- exactly the weights it used), and whether the part is security status (1) or contribution (0).
    weights (alliance_id, part, weight, is_security) AS (
        VALUES {part_rows}
    ),
    -- Every store of those alliances is ranked, with or without events.
    stores AS (
        SELECT id AS store_id, alliance_id, name AS store_name
        FROM alliance_store
        WHERE alliance_id IN ({alliances})
    ),
    -- What each store did in the period, per part. The (alliance, occurred_at) index finds the period's events.
    quantities AS (
        SELECT store_id, part, SUM(value) AS quantity
        FROM alliance_storescoreevent
        WHERE alliance_id IN ({alliances}) AND occurred_at >= %(period_from)s AND occurred_at < %(period_to)s
        GROUP BY store_id, part
    ),
    -- One row per store and part: the quantity (0 without events), the weight and the part's score.
    parts AS (
        SELECT
            s.store_id, s.alliance_id, s.store_name, w.part, w.weight, w.is_security,
            COALESCE(q.quantity, 0) AS quantity,
            ROUND(COALESCE(q.quantity, 0) * w.weight * 10000) / 10000 AS part_score
        FROM stores s
        JOIN weights w ON w.alliance_id = s.alliance_id
        LEFT JOIN quantities q ON q.store_id = s.store_id AND q.part = w.part
    ),
    -- Per store: the score, its two halves and the parts as one JSON object (part: quantity, weight, score).
    -- Scores are rounded to 1/10000 so that equal scores are equal whatever order the floats were added in (0.2 * 3
    -- + 0.6 is not 0.6 + 0.2 * 3 to the last bit), and tie in the rank.
    scores AS (
        SELECT
            store_id, alliance_id, store_name,
            ROUND(SUM(part_score) * 10000) / 10000 AS score,
            ROUND(SUM(CASE WHEN is_security = 1 THEN part_score ELSE 0 END) * 10000) / 10000 AS security_score,
            ROUND(SUM(CASE WHEN is_security = 0 THEN part_score ELSE 0 END) * 10000) / 10000 AS contribution_score,
            {json_object_agg}(
                part, {json_object}('quantity', quantity, 'weight', weight, 'score', part_score)
            ) AS parts
        FROM parts
        GROUP BY store_id, alliance_id, store_name
    )
-- The rank within the alliance (equal scores share a rank: 1, 2, 2, 4) and, for display, a position that breaks
-- ties by the store's id (the earlier registered first), so pages never shuffle.
SELECT
    alliance_id, store_id, store_name, score, security_score, contribution_score, parts,
    RANK() OVER (PARTITION BY alliance_id ORDER BY score DESC) AS rank,
    ROW_NUMBER() OVER (PARTITION BY alliance_id ORDER BY score DESC, store_id) AS position
FROM scores
"""

_JSON_FUNCTIONS = {
    "postgresql": {"json_object_agg": "jsonb_object_agg", "json_object": "jsonb_build_object"},
    "sqlite": {"json_object_agg": "json_group_object", "json_object": "json_object"},
}

# The columns of a row of the statement, in order.
SCORE_COLUMNS = (
    "alliance_id",
    "store_id",
    "store_name",
    "score",
    "security_score",
    "contribution_score",
    "parts",
    "rank",
    "position",
)


def safe_store_scores_sql(
    *, weights: Mapping[int, Mapping[str, float]], period_start: date, period_end: date
) -> tuple[str, dict]:
    """The statement ranking every store of the alliances in ``weights`` ({alliance id: {part: weight}}, from
    :func:`safe_store_weights`) over the period, with its parameters; the caller may wrap it (the final ranking
    inserts its rows)."""
    if not weights:
        raise ValueError("at least one alliance")
    params: dict = {}
    part_rows, alliances = [], []
    security = {part.value for part in SECURITY_PARTS}
    for a, (alliance_id, alliance_weights) in enumerate(weights.items()):
        params[f"a{a}"] = alliance_id
        alliances.append(f"%(a{a})s")
        for p, part in enumerate(StoreScorePart.values):
            params[f"w{a}_{p}"] = float(alliance_weights[part])
            # Casts give the VALUES columns their types on PostgreSQL; SQLite reads them as affinities.
            part_rows.append(
                f"(CAST(%(a{a})s AS BIGINT), CAST(%(p{p})s AS VARCHAR(24)), "
                f"CAST(%(w{a}_{p})s AS DOUBLE PRECISION), {1 if part in security else 0})"
            )
    for p, part in enumerate(StoreScorePart.values):
        params[f"p{p}"] = part
    params["period_from"], params["period_to"] = safe_store_period_bounds(period_start, period_end)
    sql = _SCORES_SQL.format(
        part_rows=",\n        ".join(part_rows), alliances=", ".join(alliances), **_JSON_FUNCTIONS[connection.vendor]
    )
    return sql, params


@dataclass(frozen=True)
class StoreScoreRow:
    alliance_id: int
    store_id: int
    store_name: str
    score: float
    security_score: float
    contribution_score: float
    parts: dict  # {part: {"quantity": q, "weight": w, "score": q * w}}
    rank: int
    position: int


def safe_store_scores(*, alliance_id: int, period_start: date, period_end: date) -> list[StoreScoreRow]:
    """Every store of the alliance with its score in the period, best first (by position): two queries (the
    weights, the statement) whatever the number of stores."""
    sql, params = safe_store_scores_sql(
        weights=safe_store_weights(alliance_ids=[alliance_id]), period_start=period_start, period_end=period_end
    )
    with connection.cursor() as cursor:
        ordered = f"SELECT * FROM ({sql}) ranked ORDER BY position"  # noqa: S608 - our statement; values are parameters
        cursor.execute(ordered, params)
        rows = cursor.fetchall()
    return [_score_row(row) for row in rows]


def _score_row(row) -> StoreScoreRow:
    values = dict(zip(SCORE_COLUMNS, row, strict=True))
    if isinstance(values["parts"], str):
        values["parts"] = json.loads(values["parts"])
    for name in ("score", "security_score", "contribution_score"):
        values[name] = float(values[name])
    return StoreScoreRow(**values)
