"""Reads on accounts."""

from __future__ import annotations

from django import forms
from django.db.models import Prefetch, Q, QuerySet

from accounts.adapter import phone_normalise
from accounts.jurisdiction import people_in_any_jurisdiction, people_in_jurisdiction
from accounts.models import DeviceRegistration, RoleGrant, User
from accounts.personal_data import personal_data_export


def _with_active_grants(users: QuerySet[User]) -> QuerySet[User]:
    return users.prefetch_related(Prefetch("role_grants", queryset=RoleGrant.objects.active(), to_attr="active_grants"))


def users_for_police_admin(*, admin: User, phone: str = "") -> QuerySet[User]:
    """People a police admin can look up: those of their jurisdiction (posted to its police units, or members of
    its alliances), with their live roles prefetched (one query for the page's roles).

    A complete mobile number in ``phone`` also finds whoever active holds it, wherever they are: that is how an admin
    finds a fresh sign-up to recruit. Filters (part of a number, role) are the API's FilterSet's job.
    """
    people = people_in_jurisdiction(admin=admin)
    if phone:
        try:
            people |= Q(phone=phone_normalise(phone), is_active=True)
        except forms.ValidationError:
            pass  # part of a number: it only narrows the jurisdiction's people (UserFilter)
    return _with_active_grants(User.objects.filter(people, deleted_at__isnull=True))


def users_police_admin_may_act_on(*, admin: User) -> QuerySet[User]:
    """People a police admin may open and act on by id (roles, real-name check, posting to a unit): those of their
    jurisdiction, and people not yet attached to any jurisdiction (no post, no alliance), so that a fresh sign-up
    found by number can be recruited. People of another jurisdiction answer 404.
    """
    unattached = ~people_in_any_jurisdiction()
    people = people_in_jurisdiction(admin=admin) | unattached
    return _with_active_grants(User.objects.filter(people, deleted_at__isnull=True))


def role_grants_audit(*, admin: User) -> QuerySet[RoleGrant]:
    """The grants a police admin may audit: those of the people of their jurisdiction (as :func:`users_for_police_admin`
    sees them), and those the admin granted or revoked themselves (a fresh sign-up they recruited, before the
    recruit is posted anywhere). Other jurisdictions' people, roles and reasons stay out."""
    visible = (
        Q(user__in=User.objects.filter(people_in_jurisdiction(admin=admin)).values("pk"))
        | Q(granted_by=admin)
        | Q(revoked_by=admin)
    )
    return RoleGrant.objects.filter(visible).select_related("user", "granted_by", "revoked_by")


def user_personal_data(*, user: User) -> dict:
    """Everything the service holds about the person, as PIPL's right of access expects: every app's registered
    part (accounts/personal_data.py)."""
    return personal_data_export(user=user)


def devices_for_user(*, user: User) -> QuerySet[DeviceRegistration]:
    """The person's own registered devices (the pagination orders them)."""
    return DeviceRegistration.objects.filter(user=user)


def devices_for_police_admin(*, admin: User) -> QuerySet[DeviceRegistration]:
    """Devices of the people a police admin can look up (their jurisdiction's: ``users_for_police_admin``)."""
    return DeviceRegistration.objects.filter(user__in=users_for_police_admin(admin=admin).values("pk"))
