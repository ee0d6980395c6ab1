"""Recording what a store is scored on in the Safe Store ranking (``alliance.models.safe_stores``).

The apps that own the evidence (reports: incidents, hidden dangers, flags; groups: patrol hours, group activity)
call :func:`store_score_events_record` inside their own transaction when it happens; each event names its unique
key, so recording the same evidence again (a retried request, a re-run sweep) adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from alliance.models import StoreScoreEvent


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
