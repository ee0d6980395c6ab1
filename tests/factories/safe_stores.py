"""The Safe Store ranking's data: scored events, inspections, weights and computed rankings, made through
``alliance``'s services as the app makes them (h5 adds the publishing side: badges, certificates, holding back)."""

from __future__ import annotations

import itertools
from datetime import date, datetime

from django.utils import timezone

from accounts.models import Role, User
from alliance.models import Alliance, SafeStoreRanking, Store, StoreInspection, StoreScoreEvent
from alliance.selectors.alliances import alliance_access_for, store_access
from alliance.services.safe_store_rankings import safe_store_ranking_compute, safe_store_weights_set
from alliance.services.store_inspections import store_inspection_record
from alliance.services.store_scores import StoreScore, store_score_events_record
from tests.factories.alliance import MemberRole, member_add, store_make

_keys = itertools.count(1)


def score_event_make(
    *, store: Store, part: str, value: float = 1.0, occurred_at: datetime | None = None, unique_key: str = ""
) -> StoreScoreEvent:
    """One piece of evidence about ``store`` (a ``StoreScorePart``), recorded as the evidence's owner records it."""
    key = unique_key or f"test:{part}:{next(_keys)}"
    store_score_events_record(
        scores=[
            StoreScore(
                store_id=store.pk,
                alliance_id=store.alliance_id,
                part=part,
                value=value,
                occurred_at=occurred_at or timezone.now(),
                unique_key=key,
            )
        ]
    )
    return StoreScoreEvent.objects.get(unique_key=key)


def inspection_make(
    *, store: Store, by: User, result: str = "passed", kind: str = "fire_safety", inspected_at: datetime | None = None
) -> StoreInspection:
    """An inspection recorded by ``by`` (police of the store's alliance) through ``store_inspection_record``."""
    return store_inspection_record(
        actor=by,
        store_access=store_access(user=by, store_id=store.pk),
        kind=kind,
        result=result,
        inspected_at=inspected_at,
    )


def weights_set(*, alliance: Alliance, by: User, **weights: float) -> dict[str, float]:
    """Some of the alliance's weights set by ``by`` (a police admin of its jurisdiction)."""
    return safe_store_weights_set(actor=by, access=alliance_access_for(user=by, alliance=alliance), weights=weights)


def ranking_make(*, alliance: Alliance, period_start: date) -> SafeStoreRanking:
    """The final ranking of ``alliance`` for the half-year starting ``period_start``, computed by the job's service
    (or the one already computed)."""
    safe_store_ranking_compute(period_start=period_start, alliance_id=alliance.pk)
    return SafeStoreRanking.objects.get(alliance=alliance, period_start=period_start)


def stores_make(*, alliance: Alliance, user_factory, count: int, first: int = 1) -> list[Store]:
    """``count`` stores of as many new merchant members of ``alliance``, named 店1, 店2 ..."""
    stores = []
    for number in range(first, first + count):
        owner = user_factory(roles=[Role.MERCHANT])
        member_add(alliance, owner, MemberRole.MERCHANT)
        stores.append(store_make(owner=owner, alliance=alliance, name=f"店{number}"))
    return stores
