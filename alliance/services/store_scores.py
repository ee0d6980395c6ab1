"""Recording what a store is scored on in the Safe Store ranking (``alliance.models.safe_stores``).

The apps that own the evidence (reports: incidents, hidden dangers, flags; groups: patrol hours, group activity)
call :func:`store_score_events_record` (or :func:`store_scores_record_for_person`, for the stores a person owns or
staffs) inside their own transaction when it happens; each event names its unique key, so recording the same
evidence again (a retried request, a re-run sweep) adds nothing. Evidence that is taken back (a report rejected after
acceptance) removes its events by key (:func:`store_score_events_remove`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q

from alliance.models import Store, StoreScoreEvent, StoreStaff


@dataclass(frozen=True)
class StoreScore:
    store_id: int
    alliance_id: int
    part: str  # a StoreScorePart
    value: float
    occurred_at: datetime
    unique_key: str  # e.g. "incident_nearby:incident:7:store:3"


def store_score_events_record(*, scores: Iterable[StoreScore]) -> None:
    """Record each score once (``INSERT ... ON CONFLICT DO NOTHING`` on the unique key)."""
    StoreScoreEvent.objects.bulk_create(
        [
            StoreScoreEvent(
                store_id=s.store_id,
                alliance_id=s.alliance_id,
                part=s.part,
                value=s.value,
                occurred_at=s.occurred_at,
                unique_key=s.unique_key,
            )
            for s in scores
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


def store_scores_record_for_person(
    *,
    user_id: int,
    alliance_id: int,
    part: str,
    value: float,
    occurred_at: datetime,
    key_head: str,
    key_tail: str = "",
    store_id: int | None = None,
) -> None:
    """Score every store of the alliance that the person owns or staffs (only ``store_id``, when given), keyed
    ``key_head + <store id> + key_tail``: one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, so a path that runs
    often (a message sent, a check-out) pays one statement whether or not the person has a store, and a repeat adds
    nothing. Call inside the transaction that writes the evidence."""
    event, store, staff = (model._meta.db_table for model in (StoreScoreEvent, Store, StoreStaff))
    quote = connection.ops.quote_name
    only_store = " AND s.id = %s" if store_id is not None else ""
    sql = (
        f"INSERT INTO {quote(event)} (store_id, alliance_id, part, value, occurred_at, unique_key)"  # noqa: S608 - our own tables
        f" SELECT s.id, s.alliance_id, %s, %s, %s, CAST(%s AS TEXT) || CAST(s.id AS TEXT) || CAST(%s AS TEXT)"
        f" FROM {quote(store)} s WHERE s.alliance_id = %s{only_store}"
        f" AND (s.owner_id = %s OR EXISTS (SELECT 1 FROM {quote(staff)} t WHERE t.store_id = s.id AND t.user_id = %s))"
        " ON CONFLICT (unique_key) DO NOTHING"
    )
    params = [part, value, connection.ops.adapt_datetimefield_value(occurred_at), key_head, key_tail, alliance_id]
    params += [store_id] if store_id is not None else []
    params += [user_id, user_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def store_score_events_remove(*, key_prefixes: Iterable[str]) -> int:
    """Take back the scores whose evidence is gone (a report rejected after acceptance, a duplicate merged away, a
    hidden danger reopened): every event whose key starts with one of ``key_prefixes``. End each prefix with ``:``
    so ``incident:1:`` never matches ``incident:12:``. Returns how many were removed."""
    prefixes = list(key_prefixes)
    if not prefixes:
        return 0
    match = Q()
    for prefix in prefixes:
        match |= Q(unique_key__startswith=prefix)
    deleted, _by_model = StoreScoreEvent.objects.filter(match).delete()
    return deleted
