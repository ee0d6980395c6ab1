"""The police's own entries in the points ledger: corrections (an amount either way, or the reversal of one award)
and merchant contributions, and the alliance's points rules. Each entry is written through
:func:`alliance.services.points.points_entry_write` under the account's lock."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from alliance.error_codes import AllianceErrorCode
from alliance.models import Alliance, AllianceMembership, PointsAccount, PointsEntry, PointsReason, PointsRule
from alliance.models.points import RULED_REASONS
from alliance.permissions import can_award_merchant_contribution, can_correct_points
from alliance.selectors.alliances import AllianceAccess
from alliance.services.points import points_account_lock, points_entry_write, points_rules_for
from config.errors import ApplicationError

# The bounds of a points rule, in the API and the admin site alike: an amount near the integer limit overflows an
# entry (and fails the settle of the whole batch it is in, every retry).
POINTS_RULE_MAX_AMOUNT = 100_000
POINTS_RULE_MAX_DAILY_CAP = 1_000_000


def _person_in_alliance_or_invalid(*, alliance: Alliance, user_id: int, field: str = "user") -> User:
    person = User.objects.filter(pk=user_id, alliance_memberships__alliance=alliance).first()
    if person is None and not PointsAccount.objects.filter(alliance=alliance, user_id=user_id).exists():
        raise ApplicationError.invalid(field, _("This person has no points in the alliance."))
    return person or User.objects.get(pk=user_id)


def points_correct(
    *,
    actor: User,
    access: AllianceAccess,
    user_id: int,
    note: str,
    amount: int | None = None,
    reverses_id: int | None = None,
) -> PointsEntry:
    """A police admin of the alliance's jurisdiction corrects a person's points with a reason: an amount either way,
    or the reversal of one award (``reverses_id``: its opposite amount). Nothing is edited: the correction is a new
    entry, keyed by a fresh uuid (a retried request is answered by the Idempotency-Key record, not by a second
    entry). It never takes the balance below what pending reward requests hold."""
    if not can_correct_points(actor, access):
        raise ApplicationError.permission_denied(_("Only police admins of the alliance's jurisdiction correct points."))
    if user_id == actor.pk:
        # A police admin is often a member too (the founder is the first admin): their own points, spendable on
        # rewards they may approve themselves, are corrected by a colleague.
        raise ApplicationError.permission_denied(_("Nobody corrects their own points: ask another police admin."))
    note = note.strip()
    if not note:
        raise ApplicationError.invalid("note", _("Say why the points are corrected."))
    _person_in_alliance_or_invalid(alliance=access.alliance, user_id=user_id)
    with transaction.atomic():
        account = points_account_lock(user_id=user_id, alliance_id=access.alliance.pk)
        reverses = None
        if reverses_id is not None:
            reverses = _reversible_or_invalid(account=account, entry_id=reverses_id)
            if amount is not None and amount != -reverses.amount:
                raise ApplicationError.invalid("amount", _("A reversal takes the opposite of the entry's points."))
            amount = -reverses.amount
        if not amount:
            raise ApplicationError.invalid("amount", _("Give a number of points other than zero."))
        if account.balance + amount < account.held:
            raise ApplicationError(
                AllianceErrorCode.POINTS_BELOW_HELD,
                _("The correction would leave less than the points held for pending reward requests."),
                status_code=400,
                fields={"amount": [_("At most %(points)s points can be taken.") % {"points": account.available}]},
            )
        return points_entry_write(
            account=account,
            amount=amount,
            reason=PointsReason.CORRECTION,
            unique_key=f"correction:{uuid.uuid4()}",
            earned_on=reverses.earned_on if reverses else timezone.localdate(),
            note=note,
            reverses=reverses,
            created_by=actor,
        )


def _reversible_or_invalid(*, account: PointsAccount, entry_id: int) -> PointsEntry:
    """An award of this person in this alliance that nothing reversed yet (checked under the account's lock)."""
    entry = (
        PointsEntry.objects.filter(
            pk=entry_id, user_id=account.user_id, alliance_id=account.alliance_id, reason__in=RULED_REASONS
        )
        .annotate(is_reversed=Exists(PointsEntry.objects.filter(reverses_id=OuterRef("pk"))))
        .first()
    )
    if entry is None:
        raise ApplicationError.invalid("reverses", _("No award of this person in the alliance has this id."))
    if entry.is_reversed:
        raise ApplicationError(
            AllianceErrorCode.POINTS_ALREADY_REVERSED,
            _("This entry was already reversed."),
            status_code=400,
            fields={"reverses": [_("This entry was already reversed.")]},
        )
    return entry


def points_merchant_contribution_award(*, actor: User, access: AllianceAccess, user_id: int, note: str) -> PointsEntry:
    """A police admin of the jurisdiction, or an alliance admin, awards a merchant of the alliance for a
    contribution (the alliance's rule: amount and daily cap). Refused when the day's cap is full."""
    if not can_award_merchant_contribution(actor, access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins and police admins award points."))
    note = note.strip()
    if not note:
        raise ApplicationError.invalid("note", _("Say what the merchant contributed."))
    is_merchant = AllianceMembership.objects.filter(
        alliance=access.alliance, user_id=user_id, role=AllianceMembership.Role.MERCHANT
    ).exists()
    if not is_merchant:
        raise ApplicationError.invalid("user", _("This person is not a merchant of the alliance."))
    reason = PointsReason.MERCHANT_CONTRIBUTION
    rule = points_rules_for(alliance_ids={access.alliance.pk})[(access.alliance.pk, reason)]
    today = timezone.localdate()
    with transaction.atomic():
        account = points_account_lock(user_id=user_id, alliance_id=access.alliance.pk)
        amount = rule.amount
        if rule.daily_cap is not None:
            used = (
                PointsEntry.objects.filter(user_id=user_id, alliance=access.alliance, reason=reason, earned_on=today)
                .filter(~Exists(PointsEntry.objects.filter(reverses_id=OuterRef("pk"))))
                .aggregate(used=Sum("amount"))["used"]
                or 0
            )
            amount = min(amount, rule.daily_cap - used)
        if amount <= 0:
            raise ApplicationError(
                AllianceErrorCode.POINTS_DAILY_CAP_REACHED,
                _("The merchant has reached today's cap for contributions."),
                status_code=400,
            )
        return points_entry_write(
            account=account,
            amount=amount,
            reason=reason,
            unique_key=f"merchant_contribution:{uuid.uuid4()}",
            earned_on=today,
            note=note,
            created_by=actor,
        )


def points_rule_set(*, actor: User, access: AllianceAccess, reason: str, amount: int, daily_cap: int | None):
    """Police admins of the jurisdiction set an alliance's rule for one reason."""
    if not can_correct_points(actor, access):
        raise ApplicationError.permission_denied(_("Only police admins of the alliance's jurisdiction set the rules."))
    rule, _created = PointsRule.objects.update_or_create(
        alliance=access.alliance,
        reason=reason,
        defaults={"amount": amount, "daily_cap": daily_cap, "updated_by": actor, "updated_at": timezone.now()},
    )
    return rule
