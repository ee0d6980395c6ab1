"""Writes on invite codes: making and withdrawing them (redeeming one is ``alliance.services.joining``)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from alliance.error_codes import AllianceErrorCode, field_error
from alliance.models import AllianceInvite
from alliance.permissions import ALLIANCE_INVITE_ROLES, can_manage_alliance
from alliance.selectors.alliances import AllianceAccess
from alliance.services.alliances import alliance_require_active
from config.errors import ApplicationError

# No 0/O or 1/I: codes are read out over the phone and typed. 32 ** 12 = 2 ** 60 possible codes.
INVITE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INVITE_CODE_LENGTH = 12
INVITE_DEFAULT_HOURS = 7 * 24
INVITE_MAX_HOURS = 90 * 24
INVITE_DEFAULT_USES = 100
INVITE_MAX_USES = 10_000


def _invite_code() -> str:
    return "".join(secrets.choice(INVITE_CODE_ALPHABET) for _position in range(INVITE_CODE_LENGTH))


def alliance_invite_create(
    *,
    actor: User,
    access: AllianceAccess,
    role: str = "",
    auto_approve: bool = False,
    valid_hours: int = INVITE_DEFAULT_HOURS,
    max_uses: int = INVITE_DEFAULT_USES,
) -> AllianceInvite:
    if not can_manage_alliance(actor, access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins can invite people."))
    alliance_require_active(access.alliance)
    if role and role not in ALLIANCE_INVITE_ROLES:
        raise field_error(AllianceErrorCode.INVALID_ROLE, "role", _("Invites cannot make people alliance admins."))
    if not 1 <= valid_hours <= INVITE_MAX_HOURS:
        raise field_error(
            AllianceErrorCode.INVALID,
            "valid_hours",
            _("Enter a whole number from 1 to %(max)s.") % {"max": INVITE_MAX_HOURS},
        )
    if not 1 <= max_uses <= INVITE_MAX_USES:
        raise field_error(
            AllianceErrorCode.INVALID,
            "max_uses",
            _("Enter a whole number from 1 to %(max)s.") % {"max": INVITE_MAX_USES},
        )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return AllianceInvite.objects.create(
                    alliance=access.alliance,
                    code=_invite_code(),
                    role=role,
                    auto_approve=auto_approve,
                    max_uses=max_uses,
                    expires_at=timezone.now() + timedelta(hours=valid_hours),
                    created_by=actor,
                )
        except IntegrityError:
            continue  # a code collision (one in 2**60): draw again
    raise RuntimeError("could not draw a free invite code")


def alliance_invite_revoke(*, actor: User, access: AllianceAccess, invite: AllianceInvite) -> AllianceInvite:
    if not can_manage_alliance(actor, access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins can revoke invites."))
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.revoked_by = actor
        invite.save(update_fields=["revoked_at", "revoked_by"])
    return invite
