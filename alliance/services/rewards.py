"""Rewards and their redemption. (Skeleton: the rewards helper fills in the catalogue and the requests.)"""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User
from alliance.models import Redemption, Reward


def reward_grant(*, reward: Reward, user: User, granted_for: str) -> Redemption:
    """Give ``user`` one ``reward`` without points, already approved (the Safe Store winners' property-fee
    reduction). Once per reward, person and cause: granting again returns the first grant."""
    redemption, _created = Redemption.objects.get_or_create(
        reward=reward,
        user=user,
        granted_for=granted_for,
        defaults={
            "alliance_id": reward.alliance_id,
            "points": 0,
            "status": Redemption.Status.APPROVED,
            "decided_at": timezone.now(),
        },
    )
    return redemption
