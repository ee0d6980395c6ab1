"""Reads on rewards and redemptions, scoped to what the viewer may see.

- the catalogue: members see the rewards on offer; those who manage the alliance (its admins, the police admins of
  its jurisdiction) see withdrawn ones too;
- requests: each person their own; the managers every request of the alliance (the queue).
Anything else is "not found".
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from alliance.models import Redemption, Reward
from alliance.permissions import can_manage_rewards
from alliance.selectors.alliances import AllianceAccess
from config.errors import ApplicationError
from config.queries import unique_row

# The requests that count against a reward's per-person limit: all but the ones that came to nothing.
REDEMPTION_COUNTED = (Redemption.Status.REQUESTED, Redemption.Status.APPROVED, Redemption.Status.FULFILLED)


def rewards_for_access(*, user, access: AllianceAccess) -> QuerySet[Reward]:
    rewards = Reward.objects.filter(alliance=access.alliance)
    if not can_manage_rewards(user, access):
        rewards = rewards.filter(is_active=True)
    return rewards


def reward_for_access_or_404(*, user, access: AllianceAccess, reward_id: int) -> Reward:
    reward = unique_row(rewards_for_access(user=user, access=access).filter(pk=reward_id))
    if reward is None:
        raise ApplicationError.not_found()
    return reward


def _with_relations(redemptions: QuerySet[Redemption]) -> QuerySet[Redemption]:
    return redemptions.select_related("reward", "alliance", "user")


def redemptions_of_user(*, user) -> QuerySet[Redemption]:
    return _with_relations(Redemption.objects.filter(user=user))


def alliance_redemptions(*, alliance) -> QuerySet[Redemption]:
    return _with_relations(Redemption.objects.filter(alliance=alliance))


def redemption_for_access_or_404(*, user, access: AllianceAccess, redemption_id: int) -> Redemption:
    """A request of the alliance as ``user`` may act on it: any of them for its managers, one's own for the others."""
    redemptions = alliance_redemptions(alliance=access.alliance)
    if not can_manage_rewards(user, access):
        redemptions = redemptions.filter(user=user)
    redemption = unique_row(redemptions.filter(pk=redemption_id))
    if redemption is None:
        raise ApplicationError.not_found()
    return redemption


def redemptions_due_ids(*, now: datetime) -> QuerySet:
    """Ids of the requests whose decision deadline has passed, oldest deadline first (the expiry sweep's list)."""
    return (
        Redemption.objects.filter(status=Redemption.Status.REQUESTED, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)
    )
