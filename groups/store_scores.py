"""The patrol's and the groups' share of the Safe Store score (alliance.models.safe_stores): a merchant's
contribution, recorded for every store of the alliance the person owns or staffs, in the transaction of the evidence.

- ``patrol_hours``: the verified hours of a place checked out (by the person, the offline batch or the automatic
  close), keyed per store and place.
- ``group_participation``: a message sent in one of the alliance's contact groups; one event per store and local
  (Asia/Shanghai) day, however many messages.
"""

from __future__ import annotations

from django.utils import timezone

from alliance.models import StoreScorePart
from alliance.services.store_scores import store_scores_record_for_person
from groups.models import Message, ShiftSignup
from groups.points_evidence import verified_hours


def patrol_hours_store_scores_record(*, signup: ShiftSignup, alliance_id: int) -> None:
    """Call once the place is checked out (``verified_seconds`` and ``checked_out_at`` set)."""
    hours = verified_hours(signup.verified_seconds)
    if hours <= 0:
        return
    store_scores_record_for_person(
        user_id=signup.user_id,
        alliance_id=alliance_id,
        part=StoreScorePart.PATROL_HOURS.value,
        value=hours,
        occurred_at=signup.checked_out_at,
        key_head=f"{StoreScorePart.PATROL_HOURS.value}:store:",
        key_tail=f":place:{signup.pk}",
    )


def group_participation_record(*, message: Message, alliance_id: int) -> None:
    """One statement per message sent; the unique key keeps it to one event per store and day."""
    day = timezone.localdate(message.created_at)
    store_scores_record_for_person(
        user_id=message.sender_id,
        alliance_id=alliance_id,
        part=StoreScorePart.GROUP_PARTICIPATION.value,
        value=1,
        occurred_at=message.created_at,
        key_head=f"{StoreScorePart.GROUP_PARTICIPATION.value}:store:",
        key_tail=f":{day.isoformat()}",
    )
