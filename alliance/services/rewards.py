"""Rewards and their redemption: the alliance's catalogue, and the requests that hold points until decided.

A request holds its points (``PointsAccount.held``) and reserves one unit of a limited stock. Approving it spends
the points (a ``redemption`` entry in the ledger, keyed ``redemption:<id>``, so it is written once); rejecting,
cancelling or expiring it returns both. Every decision is told live to the requester
(``alliance.hooks.person_notice_hooks``, event ``redemption``).

Lock order, everywhere: the points account (``points_account_lock``), then the redemption, then the reward row.
A request and a decision on the same person, or on the same reward, queue on those locks in the same order, so they
never deadlock, a balance is never held twice over and a stock never goes below zero. The expiry sweep takes the
account with ``SKIP LOCKED`` (a request someone is deciding right now is left for the next sweep) and checks the
deadline again under the lock, so a request expires exactly once and never after it was decided.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from alliance.error_codes import AllianceErrorCode
from alliance.hooks import person_notice_hooks
from alliance.models import PointsAccount, PointsReason, Redemption, Reward
from alliance.permissions import can_manage_rewards, can_redeem_reward
from alliance.selectors.alliances import AllianceAccess
from alliance.selectors.rewards import REDEMPTION_COUNTED, redemptions_due_ids
from alliance.services.points import points_account_lock, points_entry_write
from config.errors import ApplicationError

REWARD_FIELDS = ("kind", "name", "description", "price", "stock", "per_person_limit", "is_active")
SWEEP_BATCH = 500
REWARD_FOR_NOTHING = gettext_lazy("A reward on offer costs at least 1 point.")


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


# --- the catalogue ------------------------------------------------------------------------------------------------


def _require_manager(actor: User, access: AllianceAccess) -> None:
    if not can_manage_rewards(actor, access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins and its police manage its rewards."))


def reward_create(
    *,
    actor: User,
    access: AllianceAccess,
    kind: str,
    name: str,
    price: int,
    description: str = "",
    stock: int | None = None,
    per_person_limit: int | None = None,
    is_active: bool = True,
) -> Reward:
    _require_manager(actor, access)
    return Reward.objects.create(
        alliance=access.alliance,
        kind=kind,
        name=name,
        description=description,
        price=price,
        stock=stock,
        per_person_limit=per_person_limit,
        is_active=is_active,
        created_by=actor,
    )


@transaction.atomic
def reward_update(*, actor: User, access: AllianceAccess, reward: Reward, **changes) -> Reward:
    """Change the reward's fields (any of ``REWARD_FIELDS``). The row is locked, so a new stock figure replaces the
    stock as it stands after the requests being made this moment, not a figure read before them. Withdrawing a
    reward (``is_active`` False) keeps the requests already made; they are decided as usual."""
    _require_manager(actor, access)
    unknown = set(changes) - set(REWARD_FIELDS)
    if unknown:
        raise TypeError(f"reward_update: unknown fields {sorted(unknown)}")
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    for name, value in changes.items():
        setattr(reward, name, value)
    if reward.is_active and reward.price < 1:
        # The Safe Store winners' voucher is priced 0 because it is only ever granted: offered, anybody takes it.
        raise ApplicationError.invalid("price", str(REWARD_FOR_NOTHING))
    reward.save(update_fields=list(changes) or None)
    return reward


@transaction.atomic
def reward_delete(*, actor: User, access: AllianceAccess, reward: Reward) -> None:
    """Only a reward nobody asked for yet goes away; one with requests is withdrawn instead (``is_active``), since
    the requests and the ledger's entries name it."""
    _require_manager(actor, access)
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    if reward.redemptions.exists():
        raise ApplicationError(
            AllianceErrorCode.REWARD_REDEEMED,
            _("This reward has been asked for, so it stays on record: withdraw it instead."),
            status_code=409,
        )
    reward.delete()


# --- requests -----------------------------------------------------------------------------------------------------


def _not_enough_points(*, available: int, price: int) -> ApplicationError:
    figures = {"available": available, "price": price}
    return ApplicationError(
        AllianceErrorCode.NOT_ENOUGH_POINTS,
        _("You have %(available)s points to spend; this reward costs %(price)s.") % figures,
        extra={"figures": figures},
    )


def _notify(redemption: Redemption) -> None:
    person_notice_hooks.notify(
        user_ids=[redemption.user_id],
        event={
            "type": "redemption",
            "redemption": redemption.pk,
            "alliance": redemption.alliance_id,
            "reward": redemption.reward_id,
            "reward_name": redemption.reward.name,
            "status": redemption.status,
            "points": redemption.points,
            "note": redemption.decision_note,
            "decided_at": redemption.decided_at,
        },
    )


@transaction.atomic
def redemption_request(*, user: User, access: AllianceAccess, reward_id: int) -> Redemption:
    """A member asks for one unit of a reward: its price is held on their account, one unit of a limited stock is
    reserved, and the request waits ``settings.REDEMPTION_REQUEST_DAYS`` for a decision."""
    if not can_redeem_reward(user, access):
        raise ApplicationError.permission_denied(_("Only members of the alliance redeem its rewards."))
    account = points_account_lock(user_id=user.pk, alliance_id=access.alliance.pk)
    reward = Reward.objects.select_for_update().filter(pk=reward_id, alliance=access.alliance).first()
    if reward is None:
        raise ApplicationError.not_found()
    if not reward.is_active:
        raise ApplicationError(AllianceErrorCode.REWARD_NOT_OFFERED, _("This reward is not offered any more."))
    if reward.per_person_limit is not None:
        # Counted under the account's lock: the person's other requests for it queue behind this one.
        taken = Redemption.objects.filter(reward=reward, user=user, status__in=REDEMPTION_COUNTED).count()
        if taken >= reward.per_person_limit:
            raise ApplicationError(
                AllianceErrorCode.REDEMPTION_LIMIT_REACHED,
                _("This reward is limited to %(limit)s per person, and you have reached that.")
                % {"limit": reward.per_person_limit},
            )
    if reward.stock is not None and reward.stock < 1:
        raise ApplicationError(AllianceErrorCode.OUT_OF_STOCK, _("This reward is out of stock."))
    if account.available < reward.price:
        raise _not_enough_points(available=max(account.available, 0), price=reward.price)

    now = timezone.now()
    redemption = Redemption.objects.create(
        reward=reward,
        alliance=access.alliance,
        user=user,
        points=reward.price,
        status=Redemption.Status.REQUESTED,
        requested_at=now,
        expires_at=now + timedelta(days=settings.REDEMPTION_REQUEST_DAYS),
    )
    PointsAccount.objects.filter(pk=account.pk).update(held=F("held") + reward.price, updated_at=now)
    if reward.stock is not None:
        Reward.objects.filter(pk=reward.pk).update(stock=F("stock") - 1)
    return redemption


def _locked_requested(redemption: Redemption) -> tuple[PointsAccount, Redemption]:
    """The requester's account, then the request, locked in that order. Raises unless it is still requested."""
    account = points_account_lock(user_id=redemption.user_id, alliance_id=redemption.alliance_id)
    locked = Redemption.objects.select_for_update().select_related("reward").get(pk=redemption.pk)
    if locked.status != Redemption.Status.REQUESTED:
        raise ApplicationError(
            AllianceErrorCode.REDEMPTION_DECIDED,
            _("This request has been decided already (%(status)s).") % {"status": locked.get_status_display()},
            status_code=409,
        )
    return account, locked


def _close(
    *, account: PointsAccount, redemption: Redemption, status: str, by: User | None, note: str, now: datetime
) -> Redemption:
    """Undo a request's hold and reservation (rejected, cancelled, expired). The reward row is locked last, by the
    update itself (an unlimited reward has no stock to return)."""
    PointsAccount.objects.filter(pk=account.pk).update(held=F("held") - redemption.points, updated_at=now)
    Reward.objects.filter(pk=redemption.reward_id, stock__isnull=False).update(stock=F("stock") + 1)
    redemption.status = status
    redemption.decided_by = by
    redemption.decided_at = now
    redemption.decision_note = note
    redemption.expires_at = None
    redemption.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "expires_at"])
    return redemption


@transaction.atomic
def redemption_approve(*, actor: User, access: AllianceAccess, redemption: Redemption, note: str = "") -> Redemption:
    """The points are spent: the ledger's entry is written and the hold released, in one transaction."""
    _require_manager(actor, access)
    account, redemption = _locked_requested(redemption)
    if account.balance < redemption.points:
        # A reversed award since the request may have left less than was held: never spend into the negative.
        raise _not_enough_points(available=max(account.balance, 0), price=redemption.points)
    now = timezone.now()
    if redemption.points:
        points_entry_write(
            account=account,
            amount=-redemption.points,
            reason=PointsReason.REDEMPTION,
            unique_key=f"redemption:{redemption.pk}",
            earned_on=timezone.localdate(now),
            source_type="alliance.redemption",
            source_id=redemption.pk,
            note=redemption.reward.name[:500],
        )
        PointsAccount.objects.filter(pk=account.pk).update(held=F("held") - redemption.points)
    redemption.status = Redemption.Status.APPROVED
    redemption.decided_by = actor
    redemption.decided_at = now
    redemption.decision_note = note
    redemption.expires_at = None
    redemption.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "expires_at"])
    _notify(redemption)
    return redemption


@transaction.atomic
def redemption_reject(*, actor: User, access: AllianceAccess, redemption: Redemption, note: str = "") -> Redemption:
    _require_manager(actor, access)
    account, redemption = _locked_requested(redemption)
    redemption = _close(
        account=account,
        redemption=redemption,
        status=Redemption.Status.REJECTED,
        by=actor,
        note=note,
        now=timezone.now(),
    )
    _notify(redemption)
    return redemption


@transaction.atomic
def redemption_cancel(*, user: User, redemption: Redemption, notify: bool = True) -> Redemption:
    """The requester takes back a request nobody decided yet: points and stock return as on a rejection."""
    if redemption.user_id != user.pk:
        raise ApplicationError.permission_denied(_("Only the person who asked may cancel the request."))
    account, redemption = _locked_requested(redemption)
    redemption = _close(
        account=account, redemption=redemption, status=Redemption.Status.CANCELLED, by=None, note="", now=timezone.now()
    )
    if notify:  # the person's other phones follow
        _notify(redemption)
    return redemption


@transaction.atomic
def redemption_fulfil(*, actor: User, access: AllianceAccess, redemption: Redemption) -> Redemption:
    """The reward was handed over (an approved request, or a granted one)."""
    _require_manager(actor, access)
    redemption = Redemption.objects.select_for_update().select_related("reward").get(pk=redemption.pk)
    if redemption.status != Redemption.Status.APPROVED:
        raise ApplicationError(
            AllianceErrorCode.REDEMPTION_NOT_APPROVED,
            _("Only an approved request is handed over."),
            status_code=409,
        )
    redemption.status = Redemption.Status.FULFILLED
    redemption.fulfilled_at = timezone.now()
    redemption.save(update_fields=["status", "fulfilled_at"])
    _notify(redemption)
    return redemption


def redemption_expire_if_due(*, redemption_id: int, now: datetime) -> bool:
    """Expire one request whose deadline has passed: True when this call expired it. Nobody waits: a request being
    decided right now (its account or row locked) is skipped and found again by the next sweep if still due."""
    with transaction.atomic():
        owner = Redemption.objects.filter(pk=redemption_id).values("user_id", "alliance_id").first()
        if owner is None:
            return False
        account = PointsAccount.objects.select_for_update(skip_locked=True).filter(**owner).first()
        if account is None:
            return False
        redemption = (
            Redemption.objects.select_for_update(skip_locked=True)
            .select_related("reward")
            .filter(pk=redemption_id, status=Redemption.Status.REQUESTED, expires_at__lte=now)
            .first()
        )
        if redemption is None:
            return False  # decided meanwhile, or no longer due
        _close(account=account, redemption=redemption, status=Redemption.Status.EXPIRED, by=None, note="", now=now)
        _notify(redemption)
    return True


def redemptions_expire_due(*, now: datetime | None = None) -> int:
    """The sweep (``alliance.tasks.expire_redemptions_task``): every request past its deadline, one at a time."""
    now = now or timezone.now()
    return sum(redemption_expire_if_due(redemption_id=pk, now=now) for pk in redemptions_due_ids(now=now)[:SWEEP_BATCH])


def redemptions_cancel_for_deleted_account(*, user: User) -> int:
    """Account deletion: the person's undecided requests are cancelled, so their holds end and the units they
    reserved go back to the others (nobody could hand a reward to a deleted account). Decided ones stay, with the
    anonymised person: an approval is a ledger entry and a handing-over the alliance's record."""
    pending = Redemption.objects.filter(user=user, status=Redemption.Status.REQUESTED).order_by("pk")
    cancelled = 0
    for redemption in pending:
        try:
            redemption_cancel(user=user, redemption=redemption, notify=False)
        except ApplicationError:
            continue  # decided while we were here: nothing to return
        cancelled += 1
    return cancelled
