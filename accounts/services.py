"""Writes on accounts: profile, roles (granted, revoked, taken), real-name verification, account deletion."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from allauth.usersessions.models import UserSession
from django import forms
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.adapter import phone_normalise
from accounts.error_codes import AccountErrorCode, field_error
from accounts.models import DeviceRegistration, Role, RoleGrant, User
from accounts.permissions import (
    can_grant_roles,
    can_take_role_self_service,
    can_verify_real_name,
    forget_cached_roles,
)
from accounts.personal_data import personal_data_erase
from config.errors import ApplicationError


def user_profile_update(*, user: User, display_name: str | None = None, email: str | None = None) -> User:
    fields = []
    if display_name is not None:
        user.display_name = display_name
        fields.append("display_name")
    if email is not None:
        user.email = email
        fields.append("email")
    if fields:
        user.save(update_fields=fields)
    return user


def _grant(*, user: User, role: str, granted_by: User | None, reason: str) -> RoleGrant:
    existing = RoleGrant.objects.active().filter(user=user, role=role).first()
    if existing:
        return existing  # granting twice is a no-op, not an error: retries and double taps are common
    try:
        with transaction.atomic():
            grant = RoleGrant.objects.create(user=user, role=role, granted_by=granted_by, reason=reason)
    except IntegrityError:
        # A concurrent grant of the same role won the race; theirs is as good as ours.
        grant = RoleGrant.objects.active().get(user=user, role=role)
    forget_cached_roles(user)
    if role == Role.POLICE_ADMIN:
        _staff_flag_set(user, staff=True)
    return grant


def _staff_flag_set(user: User, *, staff: bool) -> None:
    """``is_staff`` says who may use the admin site: superusers and police admins. The role decides
    (``accounts.permissions.can_use_admin_site``); the flag follows it so that it tells the truth."""
    staff = staff or user.is_superuser
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


def role_take_self_service(*, user: User, role: str) -> RoleGrant:
    """A merchant or volunteer signs up for their role. Police roles can never be taken this way."""
    if role not in Role.values:
        raise field_error(AccountErrorCode.UNKNOWN_ROLE, "role", _("Unknown role."))
    if not can_take_role_self_service(role):
        raise ApplicationError(
            AccountErrorCode.ROLE_NEEDS_GRANT,
            _("This role can only be granted by a police admin."),
            status_code=403,
        )
    return _grant(user=user, role=role, granted_by=user, reason="self-service")


def role_grant(*, actor: User, user: User, role: str, reason: str = "") -> RoleGrant:
    if not can_grant_roles(actor):
        raise ApplicationError.permission_denied(_("Only police admins can grant roles."))
    if role not in Role.values:
        raise field_error(AccountErrorCode.UNKNOWN_ROLE, "role", _("Unknown role."))
    if user.deleted_at:
        raise ApplicationError(AccountErrorCode.ACCOUNT_DELETED, _("This account has been deleted."), status_code=409)
    return _grant(user=user, role=role, granted_by=actor, reason=reason)


def role_revoke(*, actor: User, user: User, role: str, reason: str = "") -> RoleGrant:
    """Police admins revoke any role; a person may drop their own self-service role."""
    is_own_self_service = actor.pk == user.pk and can_take_role_self_service(role)
    if not (can_grant_roles(actor) or is_own_self_service):
        raise ApplicationError.permission_denied(_("Only police admins can revoke roles."))
    if actor.pk == user.pk and role == Role.POLICE_ADMIN:
        # The last admin of a station locking everyone out is unrecoverable from the app.
        raise ApplicationError(
            AccountErrorCode.CANNOT_REVOKE_OWN_ADMIN, _("You cannot revoke your own police admin role.")
        )
    grant = RoleGrant.objects.active().filter(user=user, role=role).first()
    if grant is None:
        raise ApplicationError(AccountErrorCode.ROLE_NOT_HELD, _("This user does not have that role."), status_code=404)
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor
    if reason:
        grant.reason = f"{grant.reason} | revoked: {reason}"[:200]
    grant.save(update_fields=["revoked_at", "revoked_by", "reason"])
    forget_cached_roles(user)
    if role == Role.POLICE_ADMIN:
        _staff_flag_set(user, staff=False)
    return grant


def user_real_name_verify(*, actor: User, user: User, verified: bool = True) -> User:
    if not can_verify_real_name(actor):
        raise ApplicationError.permission_denied(_("Only police admins can confirm a real-name verification."))
    user.is_real_name_verified = verified
    user.real_name_verified_by = actor if verified else None
    user.real_name_verified_at = timezone.now() if verified else None
    user.save(update_fields=["is_real_name_verified", "real_name_verified_by", "real_name_verified_at"])
    return user


@transaction.atomic
def user_account_delete(*, user: User, confirm_phone: str) -> None:
    """Delete an account as PIPL expects: personal data goes, the person's reports stay, anonymised.

    The row is kept (reports point at it) but loses every identifying field; sessions end; roles are revoked.
    """
    try:
        confirmed = phone_normalise(confirm_phone)
    except forms.ValidationError:
        confirmed = None
    if not user.phone or confirmed != str(user.phone):
        raise ApplicationError(
            AccountErrorCode.CONFIRMATION_MISMATCH,
            _("Type your own mobile number to confirm that you want to delete your account."),
            fields={"confirm_phone": [_("This is not the number of this account.")]},
        )
    now = timezone.now()
    RoleGrant.objects.active().filter(user=user).update(revoked_at=now, revoked_by=user)
    personal_data_erase(user=user)  # every app's share: alliances and groups left, posts ended, ...
    user_sessions_end(user=user)
    user.phone = None
    user.phone_verified = False
    user.email = ""
    user.display_name = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.is_real_name_verified = False
    user.deleted_at = now
    user.set_unusable_password()
    user.save()
    forget_cached_roles(user)


def user_sessions_end(*, user: User) -> int:
    """Log the user out everywhere: every session token stops working on REST and WebSocket at once."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user=user).delete()
    return len(keys)


def _attached_to_anything(users: QuerySet[User]) -> QuerySet[User]:
    """Leave out users that any row points at (a grant, a membership, a report, a session, ...), whichever app owns
    the row: every relation to the user model is checked, hidden ones (``related_name="+"``) included, so a new
    model that points at users is covered without a change here."""
    for relation in User._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and relation.is_relation):
            continue
        pointing = relation.related_model._base_manager.filter(**{relation.field.name: OuterRef("pk")})
        users = users.exclude(Exists(pointing))
    return users


# A batch is one short transaction (its rows stay locked only that long); a run stops after this many batches, and
# the next hourly run goes on with what is left.
UNVERIFIED_PURGE_BATCH = 1000
UNVERIFIED_PURGE_MAX_BATCHES = 100


def users_unverified_purge(*, older_than: timedelta | None = None) -> int:
    """Delete sign-ups whose number was never verified within ``UNVERIFIED_SIGNUP_TTL_HOURS`` (a day): never
    logged in, no staff flag, nothing attached. Verified accounts, and anonymised deleted ones (they keep reports),
    are never touched. Idempotent; batch after batch until none is left (bounded per run).

    A login verifying one of these rows at this moment is never broken by it: rows are locked with SKIP LOCKED, so a
    row the login holds (``AccountAdapter.set_phone_verified`` locks it) is left for a later run, and the conditions
    are checked again on the locked rows, so a verification that committed meanwhile keeps its account; a login
    that comes after the delete finds the row gone and answers ``signup_expired``."""
    age = older_than if older_than is not None else timedelta(hours=settings.UNVERIFIED_SIGNUP_TTL_HOURS)
    abandoned = User.objects.filter(
        phone_verified=False,
        date_joined__lt=timezone.now() - age,
        last_login__isnull=True,
        deleted_at__isnull=True,
        is_staff=False,
        is_superuser=False,
    )
    purged = 0
    for _batch in range(UNVERIFIED_PURGE_MAX_BATCHES):
        with transaction.atomic():
            ids = list(
                _attached_to_anything(abandoned)
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:UNVERIFIED_PURGE_BATCH]
            )
            if not ids:
                break
            _total, per_model = abandoned.filter(pk__in=ids).delete()
        purged += per_model.get(User._meta.label, 0)
        if len(ids) < UNVERIFIED_PURGE_BATCH:
            break
    return purged


# --- push devices ------------------------------------------------------------------------------------------------

# A person's phones and tablets, and a few left over from reinstalls: past this many, the oldest registrations go
# (a stolen session cannot make one alert fan out to thousands of tokens).
DEVICES_PER_PERSON = 10


def device_register(*, user: User, platform: str, provider: str, token: str) -> tuple[DeviceRegistration, bool]:
    """Register a push token for ``user``: (the registration, whether it is new). A token already registered moves
    to ``user`` (whoever registered it last holds the phone) with the platform given now."""
    with transaction.atomic():
        device = DeviceRegistration.objects.select_for_update().filter(provider=provider, token=token).first()
        created = device is None
        if created:
            try:
                with transaction.atomic():
                    device = DeviceRegistration.objects.create(
                        user=user, platform=platform, provider=provider, token=token
                    )
            except IntegrityError:
                # A concurrent registration of the same token won the race: it is an existing one now.
                created = False
                device = DeviceRegistration.objects.select_for_update().get(provider=provider, token=token)
        if not created and device.user_id != user.pk:
            # The phone changed hands: a new registration, not the old one renamed. Push batches planned for the
            # previous owner name the old row's id (``AlertPushBatch.device_ids``); they must find nothing, not this
            # person's phone, who may be outside that alert's audience.
            device.delete()
            device = DeviceRegistration.objects.create(user=user, platform=platform, provider=provider, token=token)
        elif not created:
            device.platform = platform
            device.registered_at = timezone.now()
            device.save(update_fields=["platform", "registered_at"])
        keep = DeviceRegistration.objects.filter(user=user).order_by("-registered_at", "-id")[:DEVICES_PER_PERSON]
        DeviceRegistration.objects.filter(user=user).exclude(pk__in=list(keep.values_list("pk", flat=True))).delete()
    return device, created


def device_unregister(*, user: User, device_id: int) -> None:
    """Forget one of the caller's own devices (logging out of the app); anyone else's is not found."""
    deleted, _rows = DeviceRegistration.objects.filter(pk=device_id, user=user).delete()
    if not deleted:
        raise ApplicationError.not_found()


def devices_forget_dead(*, provider: str, tokens: list[str]) -> int:
    """Delete the registrations of tokens their provider called dead; returns how many went."""
    if not tokens:
        return 0
    deleted, _rows = DeviceRegistration.objects.filter(provider=provider, token__in=tokens).delete()
    return deleted
