"""Joining an alliance: redeeming an invite code, and the join requests its admins approve or reject."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from alliance.error_codes import AllianceErrorCode, field_error
from alliance.models import Alliance, AllianceInvite, AllianceJoinRequest, AllianceMembership
from alliance.permissions import ALLIANCE_INVITE_ROLES, can_hold_alliance_role, can_manage_alliance
from alliance.selectors.alliances import AllianceAccess
from alliance.services.alliances import alliance_require_active
from alliance.services.members import MemberRole, alliance_member_add
from config.errors import ApplicationError

# The order in which a role is chosen for someone who joins by an open invite without naming one.
JOIN_ROLE_PREFERENCE = (MemberRole.POLICE_LIAISON, MemberRole.MALL_MANAGER, MemberRole.MERCHANT, MemberRole.VOLUNTEER)


@dataclass(frozen=True)
class JoinOutcome:
    alliance: Alliance
    role: str
    membership: AllianceMembership | None  # set when the person joined at once
    join_request: AllianceJoinRequest | None  # set when an admin has to approve
    created: bool  # False: an earlier pending request was found and nothing new was made

    @property
    def status(self) -> str:
        return "joined" if self.membership is not None else "pending"


def _invite_refusal(invite: AllianceInvite | None, now) -> ApplicationError | None:
    if invite is None:
        return ApplicationError(
            AllianceErrorCode.INVITE_NOT_FOUND,
            _("There is no invite with this code. Check it and try again."),
            status_code=404,
        )
    if invite.revoked_at is not None:
        return ApplicationError(AllianceErrorCode.INVITE_REVOKED, _("This invite has been withdrawn."))
    if invite.expires_at <= now:
        return ApplicationError(AllianceErrorCode.INVITE_EXPIRED, _("This invite has expired. Ask for a new one."))
    if invite.use_count >= invite.max_uses:
        return ApplicationError(AllianceErrorCode.INVITE_USED_UP, _("This invite has been used as often as it allows."))
    return None


def _join_role(*, user: User, invite: AllianceInvite, requested: str) -> str:
    if invite.role:
        if requested and requested != invite.role:
            raise field_error(
                AllianceErrorCode.INVITE_ROLE_MISMATCH,
                "role",
                _("This invite is for the role %(role)s.") % {"role": MemberRole(invite.role).label},
            )
        role = invite.role
    elif requested:
        role = requested
    else:
        role = next((r for r in JOIN_ROLE_PREFERENCE if can_hold_alliance_role(user, r)), "")
    if role and role not in ALLIANCE_INVITE_ROLES:
        raise field_error(AllianceErrorCode.INVALID_ROLE, "role", _("Nobody joins an alliance as its admin."))
    if not role or not can_hold_alliance_role(user, role):
        raise ApplicationError(
            AllianceErrorCode.ROLE_NOT_ELIGIBLE,
            _(
                "Your account cannot take this role in an alliance. Merchants and volunteers register their role "
                "first; police and mall managers get theirs from a police admin."
            ),
            status_code=403,
            fields={"role": [_("Not available to your account.")]},
        )
    return role


@transaction.atomic
def alliance_join(*, user: User, code: str, role: str = "") -> JoinOutcome:
    """Redeem an invite code: join at once if the invite says so, otherwise ask the alliance's admins.

    Each redemption counts one use, taken by a conditional UPDATE so that concurrent redemptions of the last use
    cannot both succeed. Asking again while a request is pending returns that request and uses nothing.
    """
    now = timezone.now()
    invite = AllianceInvite.objects.select_related("alliance").filter(code=code.strip().upper()).first()
    refusal = _invite_refusal(invite, now)
    if refusal:
        raise refusal
    alliance = invite.alliance
    alliance_require_active(alliance)
    role = _join_role(user=user, invite=invite, requested=role)
    if AllianceMembership.objects.filter(alliance=alliance, user=user).exists():
        raise ApplicationError(
            AllianceErrorCode.ALREADY_MEMBER, _("You are already a member of this alliance."), status_code=409
        )
    pending = AllianceJoinRequest.objects.filter(
        alliance=alliance, user=user, status=AllianceJoinRequest.Status.PENDING
    ).first()
    if pending is not None and not invite.auto_approve:
        return JoinOutcome(alliance=alliance, role=pending.role, membership=None, join_request=pending, created=False)

    redeemed = AllianceInvite.objects.filter(
        pk=invite.pk, revoked_at__isnull=True, expires_at__gt=now, use_count__lt=F("max_uses")
    ).update(use_count=F("use_count") + 1)
    if not redeemed:
        invite.refresh_from_db()
        raise _invite_refusal(invite, now) or ApplicationError(
            AllianceErrorCode.INVITE_USED_UP, _("This invite has been used as often as it allows.")
        )

    if invite.auto_approve:
        membership, created = alliance_member_add(alliance=alliance, user=user, role=role)
        if not created:  # the same person's second tap raced the first: give this use back
            AllianceInvite.objects.filter(pk=invite.pk).update(use_count=F("use_count") - 1)
            return JoinOutcome(
                alliance=alliance, role=membership.role, membership=membership, join_request=None, created=False
            )
        if pending is not None:  # the open invite answered what the admins had not yet
            pending.status = AllianceJoinRequest.Status.APPROVED
            pending.decided_at = now
            pending.save(update_fields=["status", "decided_at"])
        return JoinOutcome(alliance=alliance, role=role, membership=membership, join_request=None, created=True)

    try:
        with transaction.atomic():
            join_request = AllianceJoinRequest.objects.create(alliance=alliance, user=user, role=role, invite=invite)
    except IntegrityError:
        # The same person's second tap raced the first; theirs is the request, and this use is given back.
        AllianceInvite.objects.filter(pk=invite.pk).update(use_count=F("use_count") - 1)
        join_request = AllianceJoinRequest.objects.get(
            alliance=alliance, user=user, status=AllianceJoinRequest.Status.PENDING
        )
        return JoinOutcome(
            alliance=alliance, role=join_request.role, membership=None, join_request=join_request, created=False
        )
    return JoinOutcome(alliance=alliance, role=role, membership=None, join_request=join_request, created=True)


def _locked_pending(join_request: AllianceJoinRequest) -> AllianceJoinRequest:
    """The request again, locked: two admins deciding at once are served one after the other."""
    return AllianceJoinRequest.objects.select_for_update().select_related("alliance", "user").get(pk=join_request.pk)


@transaction.atomic
def join_request_approve(
    *, actor: User, access: AllianceAccess, join_request: AllianceJoinRequest
) -> AllianceJoinRequest:
    if not can_manage_alliance(actor, access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins decide on join requests."))
    join_request = _locked_pending(join_request)
    if join_request.status == AllianceJoinRequest.Status.APPROVED:
        return join_request  # a second tap on "approve"
    if join_request.status != AllianceJoinRequest.Status.PENDING:
        raise ApplicationError(AllianceErrorCode.JOIN_REQUEST_DECIDED, _("This join request has already been decided."))
    alliance_require_active(join_request.alliance)
    if not can_hold_alliance_role(join_request.user, join_request.role):
        raise ApplicationError(
            AllianceErrorCode.ROLE_NOT_ELIGIBLE,
            _("This person no longer holds the role they asked to join with; they have to ask again."),
        )
    alliance_member_add(alliance=join_request.alliance, user=join_request.user, role=join_request.role, added_by=actor)
    join_request.status = AllianceJoinRequest.Status.APPROVED
    join_request.decided_by = actor
    join_request.decided_at = timezone.now()
    join_request.save(update_fields=["status", "decided_by", "decided_at"])
    return join_request


@transaction.atomic
def join_request_reject(
    *, actor: User, access: AllianceAccess, join_request: AllianceJoinRequest
) -> AllianceJoinRequest:
    if not can_manage_alliance(actor, access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins decide on join requests."))
    join_request = _locked_pending(join_request)
    if join_request.status == AllianceJoinRequest.Status.REJECTED:
        return join_request
    if join_request.status != AllianceJoinRequest.Status.PENDING:
        raise ApplicationError(AllianceErrorCode.JOIN_REQUEST_DECIDED, _("This join request has already been decided."))
    join_request.status = AllianceJoinRequest.Status.REJECTED
    join_request.decided_by = actor
    join_request.decided_at = timezone.now()
    join_request.save(update_fields=["status", "decided_by", "decided_at"])
    return join_request
