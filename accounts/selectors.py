"""Reads on accounts."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import RoleGrant, User


def users_for_police_admin() -> QuerySet[User]:
    """People a police admin can look up, with their live roles prefetched (one query for the page's roles).

    Filters (number, role) are the API's FilterSet's job. Issue 3 narrows this to the admin's jurisdiction.
    """
    return User.objects.filter(deleted_at__isnull=True).prefetch_related(
        Prefetch("role_grants", queryset=RoleGrant.objects.active(), to_attr="active_grants")
    )


def role_grants_audit() -> QuerySet[RoleGrant]:
    return RoleGrant.objects.select_related("user", "granted_by", "revoked_by")


def user_personal_data(*, user: User) -> dict:
    """Everything the service holds about the person, as PIPL's right of access expects.

    Later apps add their sections here (reports, memberships, shifts, points) so the export stays complete.
    """
    from allauth.usersessions.models import UserSession

    grants = RoleGrant.objects.filter(user=user).order_by("granted_at")
    sessions = UserSession.objects.filter(user=user).order_by("created_at")
    return {
        "profile": {
            "id": user.pk,
            "phone": str(user.phone) if user.phone else None,
            "phone_verified": user.phone_verified,
            "email": user.email,
            "display_name": user.display_name,
            "is_real_name_verified": user.is_real_name_verified,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "role_grants": [
            {
                "role": grant.role,
                "granted_at": grant.granted_at.isoformat(),
                "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
                "reason": grant.reason,
            }
            for grant in grants
        ],
        "sessions": [
            {
                "created_at": session.created_at.isoformat(),
                "last_seen_at": session.last_seen_at.isoformat(),
                "ip": session.ip,
                "user_agent": session.user_agent,
            }
            for session in sessions
        ],
    }
