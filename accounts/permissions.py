"""Who may do what. The one place permission rules live; REST views and the WebSocket consumer both call it."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from accounts.models import SELF_SERVICE_ROLES, Role, RoleGrant


def user_roles(user) -> frozenset[str]:
    """The user's live roles, cached on the instance for the length of one request or socket session."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_pingan_roles", None)
    if cached is None:
        cached = frozenset(RoleGrant.objects.active().filter(user=user).values_list("role", flat=True))
        user._pingan_roles = cached
    return cached


def forget_cached_roles(user) -> None:
    user.__dict__.pop("_pingan_roles", None)


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def is_police(user) -> bool:
    return has_role(user, Role.OFFICER, Role.POLICE_ADMIN)


def is_police_admin(user) -> bool:
    return has_role(user, Role.POLICE_ADMIN)


def can_grant_roles(actor) -> bool:
    """Only police admins grant roles to others: police roles and mall managers come from nobody else.

    Self-service roles (merchant, volunteer) are the only ones a person takes for themselves
    (:func:`can_take_role_self_service`)."""
    return is_police_admin(actor)


def can_take_role_self_service(role: str) -> bool:
    return role in SELF_SERVICE_ROLES


def can_verify_real_name(actor) -> bool:
    return is_police_admin(actor)


class IsPoliceAdmin(BasePermission):
    def has_permission(self, request, view) -> bool:
        return is_police_admin(request.user)


class IsPolice(BasePermission):
    def has_permission(self, request, view) -> bool:
        return is_police(request.user)


# --- contact groups (groups app) ----------------------------------------------------------------------------------
# ``membership`` is the user's GroupMembership in the group, or None when they are not a member: non-members can do
# nothing, and the APIs answer 404 for them so a group's existence does not leak.


def can_read_group(user, membership) -> bool:
    return membership is not None and membership.user_id == user.pk


def can_post_in_group(user, membership) -> bool:
    if not can_read_group(user, membership):
        return False
    if membership.group.posting_policy == "everyone":
        return True
    return membership.role == "admin" or is_police(user)


def can_post_notice(user, membership) -> bool:
    """Pinned notices come from the police (and group admins, e.g. the mall management running a team group)."""
    return can_read_group(user, membership) and (is_police(user) or membership.role == "admin")


def can_delete_message(user, membership, message) -> bool:
    if not can_read_group(user, membership):
        return False
    return message.sender_id == user.pk or membership.role == "admin" or is_police(user)
