"""The Safe Store ranking's data: scored events, inspections, weights and computed rankings, made through
``alliance``'s services as the app makes them (h5 adds the publishing side: badges, certificates, holding back)."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.utils import timezone

from alliance.models import Store, StoreScoreEvent
from alliance.services.store_scores import StoreScore, store_score_events_record

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
