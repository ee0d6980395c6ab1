"""Who may do what, as far as the account decides it: roles, the police, the admin site, full phone numbers. Each
app keeps its own rules beside it (``alliance.permissions``, ``groups.permissions``, ``reports.permissions``), built
on these; REST views and the WebSocket consumer both call them."""

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


def can_use_admin_site(user) -> bool:
    """The admin site is where police admins run their jurisdiction (every page there is scoped to it), and where
    superusers run everything. The role decides, not ``is_staff``: a revoked police admin is out even if the staff
    flag was left set, and staff without the role see nothing (``is_staff`` merely follows the role)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or is_police_admin(user)


def can_see_full_phone_numbers(user) -> bool:
    """Member lists show ``138****1234`` to everyone but the police (accounts.presentation.mask_phone)."""
    return is_police(user)


class IsPoliceAdmin(BasePermission):
    def has_permission(self, request, view) -> bool:
        return is_police_admin(request.user)


class IsPolice(BasePermission):
    def has_permission(self, request, view) -> bool:
        return is_police(request.user)
