"""Points ledger data, written the one way the app writes it (``alliance.services.points``)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from alliance.models import PointsEntry, Redemption, Reward
from alliance.services.points import points_account_lock, points_entry_write, points_settle
from alliance.services.points_corrections import points_correct, points_merchant_contribution_award, points_rule_set

__all__ = [
    "points_correct",
    "points_entry_make",
    "points_merchant_contribution_award",
    "points_rule_set",
    "points_settle",
    "redemption_requested_make",
]

_made = 0


def points_entry_make(
    *, user, alliance, amount: int, reason: str = "patrol_hour", earned_on: date | None = None, key: str = ""
) -> PointsEntry:
    """An entry written through ``points_entry_write`` under the account's lock, as an award would be."""
    global _made
    _made += 1
    with transaction.atomic():
        account = points_account_lock(user_id=user.pk, alliance_id=alliance.pk)
        return points_entry_write(
            account=account,
            amount=amount,
            reason=reason,
            unique_key=key or f"factory:{_made}:{user.pk}:{alliance.pk}",
            earned_on=earned_on or timezone.localdate(),
        )


def redemption_requested_make(*, user, alliance, points: int) -> Redemption:
    """A pending reward request holding ``points`` (the rewards' services are another helper's; this writes the
    rows as a request leaves them: the redemption REQUESTED and the account's hold)."""
    reward = Reward.objects.create(alliance=alliance, kind="goods", name="保温杯", price=points)
    with transaction.atomic():
        account = points_account_lock(user_id=user.pk, alliance_id=alliance.pk)
        account.held += points
        account.save(update_fields=["held"])
        return Redemption.objects.create(reward=reward, alliance=alliance, user=user, points=points)
