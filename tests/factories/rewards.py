"""Rewards, points to spend on them, and requests: made through ``alliance``'s services, as the app makes them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from alliance.models import Alliance, PointsAccount, PointsReason, Redemption, Reward
from alliance.selectors.alliances import alliance_access_for
from alliance.services.points import points_account_lock, points_entry_write
from alliance.services.rewards import (
    redemption_approve,
    redemption_cancel,
    redemption_fulfil,
    redemption_reject,
    redemption_request,
    redemptions_expire_due,
    reward_create,
    reward_update,
)
from tests.factories.alliance import MemberRole, member_add
from tests.fixtures.street import Street, build_street

_gifts = itertools.count(1)


def points_give(*, user: User, alliance: Alliance, amount: int) -> PointsAccount:
    """Put ``amount`` points on the person's account in the alliance, as a police admin's correction would: one
    entry through the ledger's one writer, under the account's lock."""
    with transaction.atomic():
        account = points_account_lock(user_id=user.pk, alliance_id=alliance.pk)
        points_entry_write(
            account=account,
            amount=amount,
            reason=PointsReason.CORRECTION,
            unique_key=f"test-gift:{user.pk}:{alliance.pk}:{next(_gifts)}",
            earned_on=timezone.localdate(),
            note="test",
        )
    return PointsAccount.objects.get(pk=account.pk)


def points_account(*, user: User, alliance: Alliance) -> PointsAccount:
    return PointsAccount.objects.get(user=user, alliance=alliance)


def reward_make(
    *,
    alliance: Alliance,
    by: User,
    name: str = "物业费减免券",
    kind: str = Reward.Kind.FEE_REDUCTION,
    price: int = 30,
    **fields,
) -> Reward:
    """A reward added by ``by`` (an alliance admin or a police admin of its jurisdiction) through the service."""
    access = alliance_access_for(user=by, alliance=alliance)
    return reward_create(actor=by, access=access, kind=kind, name=name, price=price, **fields)


def reward_change(*, reward: Reward, by: User, **changes) -> Reward:
    access = alliance_access_for(user=by, alliance=reward.alliance)
    return reward_update(actor=by, access=access, reward=reward, **changes)


def redemption_make(*, reward: Reward, user: User) -> Redemption:
    """A member's request for one unit of ``reward`` (they need the points: see :func:`points_give`)."""
    access = alliance_access_for(user=user, alliance=reward.alliance)
    return redemption_request(user=user, access=access, reward_id=reward.pk)


def redemption_decide(*, redemption: Redemption, by: User, decision: str, note: str = "") -> Redemption:
    """``decision``: approve, reject or fulfil, by an admin of the alliance; cancel, by the requester."""
    if decision == "cancel":
        return redemption_cancel(user=by, redemption=redemption)
    access = alliance_access_for(user=by, alliance=redemption.alliance)
    if decision == "fulfil":
        return redemption_fulfil(actor=by, access=access, redemption=redemption)
    decide = {"approve": redemption_approve, "reject": redemption_reject}[decision]
    return decide(actor=by, access=access, redemption=redemption, note=note)


__all__ = [
    "RewardStreet",
    "points_account",
    "points_give",
    "redemption_decide",
    "redemption_make",
    "redemptions_expire_due",
    "reward_change",
    "reward_make",
    "reward_street_build",
]


@dataclass
class RewardStreet:
    """The shared street founded by its police admin (the alliance's first admin), a volunteer and a merchant with
    100 points each, a reward of 30 points with 5 in stock, and another jurisdiction's street for the forbidden path."""

    street: Street
    police_admin: User
    volunteer: User
    merchant: User
    reward: Reward
    other: Street


def reward_street_build(user_factory) -> RewardStreet:
    police_admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="王所长")
    street = build_street(user_factory, name="青平果联盟", slug="qingpingguo", police_admin=police_admin)
    other_admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="李所长")
    other = build_street(user_factory, name="凤鸣金街联盟", slug="fengming", police_admin=other_admin, people=False)
    other.police_admin = other_admin
    volunteer = user_factory(roles=[Role.VOLUNTEER], display_name="张志愿")
    member_add(street.alliance, volunteer, MemberRole.VOLUNTEER)
    for person in (volunteer, street.merchant):
        points_give(user=person, alliance=street.alliance, amount=100)
    reward = reward_make(alliance=street.alliance, by=police_admin, price=30, stock=5)
    return RewardStreet(street, police_admin, volunteer, street.merchant, reward, other)
