"""Writes on an alliance's members: adding one (the one way anybody becomes a member), roles, leaving, duty, and
the end of every tie when an account is deleted.

Whoever becomes or stops being a member joins or leaves what the apps above keep for the alliance (its contact
groups) through ``alliance.hooks``, in the same transaction.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from alliance.error_codes import AllianceErrorCode, field_error
from alliance.hooks import alliance_duty_hooks, alliance_membership_hooks
from alliance.models import Alliance, AllianceMembership, StationStaff, StoreStaff
from alliance.permissions import (
    can_go_on_duty,
    can_go_on_duty_by_switch,
    can_hold_alliance_role,
    can_manage_alliance,
)
from alliance.selectors.alliances import AllianceAccess
from config.errors import ApplicationError

MemberRole = AllianceMembership.Role


def alliance_member_add(
    *, alliance: Alliance, user: User, role: str, added_by: User | None = None
) -> tuple[AllianceMembership, bool]:
    """Make ``user`` a member (or find their membership) and put them in the alliance's contact groups.

    No permission check: the callers (joining, approval, founding an alliance, the demo seed) decide who may join.
    The groups are joined on every call (adding a group member twice changes nothing), so a membership made before
    its alliance had groups catches up the next time it is added.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                membership, created = AllianceMembership.objects.get_or_create(
                    alliance=alliance, user=user, defaults={"role": role, "added_by": added_by}
                )
        except IntegrityError:
            membership, created = AllianceMembership.objects.get(alliance=alliance, user=user), False
        alliance_membership_hooks.member_joined(alliance=alliance, user=user, role=membership.role)
    return membership, created


def _ensure_another_admin_remains(*, membership: AllianceMembership) -> None:
    """Caller holds a transaction: the admin rows are locked so two admins leaving at once cannot both succeed."""
    if membership.role != MemberRole.ADMIN:
        return
    admins = list(
        AllianceMembership.objects.select_for_update()
        .filter(alliance_id=membership.alliance_id, role=MemberRole.ADMIN)
        .values_list("pk", flat=True)
    )
    if [pk for pk in admins if pk != membership.pk]:
        return
    raise ApplicationError(AllianceErrorCode.LAST_ADMIN, _("The alliance needs an admin: appoint another admin first."))


def _member_delete(*, alliance: Alliance, membership: AllianceMembership) -> None:
    user = membership.user
    _ensure_another_admin_remains(membership=membership)
    # Store staff are alliance members; whoever leaves the alliance stops working for its stores in the app.
    StoreStaff.objects.filter(store__alliance=alliance, user=user).delete()
    membership.delete()
    alliance_membership_hooks.member_left(alliance=alliance, user=user)


@transaction.atomic
def alliance_leave(*, user: User, access: AllianceAccess) -> None:
    if access.membership is None:
        raise ApplicationError.not_found()
    _member_delete(alliance=access.alliance, membership=access.membership)


@transaction.atomic
def alliance_member_remove(*, actor: User, access: AllianceAccess, membership: AllianceMembership) -> None:
    """An admin removes a member; a member removing themselves is leaving."""
    if membership.alliance_id != access.alliance.pk:
        raise ApplicationError.not_found()
    if membership.user_id != actor.pk and not can_manage_alliance(actor, access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins can remove members."))
    _member_delete(alliance=access.alliance, membership=membership)


@transaction.atomic
def alliance_member_role_set(
    *, actor: User, access: AllianceAccess, membership: AllianceMembership, role: str
) -> AllianceMembership:
    if membership.alliance_id != access.alliance.pk:
        raise ApplicationError.not_found()
    if not can_manage_alliance(actor, access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins can change members' roles."))
    if membership.role == role:
        return membership
    if not can_hold_alliance_role(membership.user, role):
        raise field_error(
            AllianceErrorCode.ROLE_NOT_ELIGIBLE,
            "role",
            _("This person's account cannot take that role in an alliance."),
        )
    if role != MemberRole.ADMIN:
        _ensure_another_admin_remains(membership=membership)
    membership.role = role
    membership.save(update_fields=["role"])
    alliance_membership_hooks.member_role_changed(alliance=access.alliance, user=membership.user, role=role)
    return membership


@transaction.atomic
def alliance_duty_set(
    *, user: User, access: AllianceAccess, on_duty: bool, position: tuple[float, float] | None = None
) -> AllianceMembership:
    """A responder says they can (or no longer can) be dispatched, and where they are (WGS-84: the API converts
    GCJ-02 first), so that a flag reaches the nearest first. Going on duty twice keeps the first time and takes the
    new position ("moved"); going off duty forgets the position.

    Volunteers are on duty by checking in to a patrol shift (groups' check-in), not by this switch: it refuses to
    put them on duty (police who hold the volunteer role excepted), and still lets them off it."""
    membership = access.membership
    if membership is None:
        raise ApplicationError.permission_denied(_("Only members of the alliance go on duty in it."))
    if not can_go_on_duty(user, membership):
        raise ApplicationError(
            AllianceErrorCode.NOT_A_RESPONDER,
            _("Only police, mall managers and volunteers go on duty."),
            status_code=403,
        )
    if on_duty and not can_go_on_duty_by_switch(user, membership):
        raise ApplicationError(
            AllianceErrorCode.VOLUNTEER_DUTY_BY_CHECK_IN,
            _("Volunteers go on duty by checking in to their patrol shift."),
            status_code=403,
        )
    if position is not None and not on_duty:
        raise field_error(
            AllianceErrorCode.POSITION_WHEN_ON_DUTY, "position", _("Send a position only when going on duty.")
        )
    change = None
    fields: list[str] = []
    now = timezone.now()
    if membership.on_duty != on_duty:
        change = "on" if on_duty else "off"
        membership.on_duty = on_duty
        membership.on_duty_since = now if on_duty else None
        fields += ["on_duty", "on_duty_since"]
        if not on_duty:
            membership.duty_latitude = membership.duty_longitude = membership.duty_position_at = None
            fields += ["duty_latitude", "duty_longitude", "duty_position_at"]
    if position is not None:
        change = change or "moved"
        membership.duty_latitude, membership.duty_longitude = position
        membership.duty_position_at = now
        fields += ["duty_latitude", "duty_longitude", "duty_position_at"]
    if fields:
        membership.save(update_fields=fields)
    membership.user = user  # ``access.membership`` is the user's own
    if change is not None:
        alliance_duty_hooks.duty_changed(membership=membership, change=change)
    return membership


def alliance_ties_end_for_deleted_account(*, user: User) -> None:
    """Account deletion (accounts.services.user_account_delete): the person leaves every alliance, its groups and
    every store and station post. Unlike leaving by hand this never refuses: the right to delete comes first, and
    an alliance left without an admin gets one from its police admins."""
    for membership in AllianceMembership.objects.filter(user=user).select_related("alliance"):
        StoreStaff.objects.filter(store__alliance=membership.alliance, user=user).delete()
        membership.delete()
        alliance_membership_hooks.member_left(alliance=membership.alliance, user=user)
    StoreStaff.objects.filter(user=user).delete()
    StationStaff.objects.filter(user=user).delete()
