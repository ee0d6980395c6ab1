"""Reads on accounts."""

from __future__ import annotations

from django import forms
from django.db.models import Prefetch, Q, QuerySet

from accounts.adapter import phone_normalise
from accounts.models import RoleGrant, User


def _in_jurisdiction_q(admin: User) -> Q:
    """People posted to the admin's police units or members of the alliances there (alliance app)."""
    from alliance.models import AllianceMembership, StationStaff
    from alliance.selectors import jurisdiction_stations

    station_ids = jurisdiction_stations(user=admin).values("pk")  # a subquery: no extra round trip
    posted = StationStaff.objects.filter(station_id__in=station_ids).values("user_id")
    members = AllianceMembership.objects.filter(
        Q(alliance__station_id__in=station_ids) | Q(alliance__office_id__in=station_ids)
    ).values("user_id")
    return Q(pk__in=posted) | Q(pk__in=members)


def _with_active_grants(users: QuerySet[User]) -> QuerySet[User]:
    return users.prefetch_related(Prefetch("role_grants", queryset=RoleGrant.objects.active(), to_attr="active_grants"))


def users_for_police_admin(*, admin: User, phone: str = "") -> QuerySet[User]:
    """People a police admin can look up: those of their jurisdiction (posted to its police units, or members of
    its alliances), with their live roles prefetched (one query for the page's roles).

    A complete mobile number in ``phone`` also finds whoever active holds it, wherever they are: that is how an admin
    finds a fresh sign-up to recruit. Filters (part of a number, role) are the API's FilterSet's job.
    """
    people = _in_jurisdiction_q(admin)
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
    from alliance.models import AllianceMembership, StationStaff

    unattached = ~Q(pk__in=StationStaff.objects.values("user_id")) & ~Q(
        pk__in=AllianceMembership.objects.values("user_id")
    )
    return _with_active_grants(User.objects.filter(_in_jurisdiction_q(admin) | unattached, deleted_at__isnull=True))


def role_grants_audit(*, admin: User) -> QuerySet[RoleGrant]:
    """The grants a police admin may audit: those of the people of their jurisdiction (as :func:`users_for_police_admin`
    sees them), and those the admin granted or revoked themselves (a fresh sign-up they recruited, before the
    recruit is posted anywhere). Other jurisdictions' people, roles and reasons stay out."""
    visible = (
        Q(user__in=User.objects.filter(_in_jurisdiction_q(admin)).values("pk"))
        | Q(granted_by=admin)
        | Q(revoked_by=admin)
    )
    return RoleGrant.objects.filter(visible).select_related("user", "granted_by", "revoked_by")


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
        **_personal_data_elsewhere(user),
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


def _personal_data_elsewhere(user: User) -> dict:
    """What the other apps hold about the person. Imported here: those apps build on accounts."""
    from alliance.models import AllianceMembership, StationStaff, Store, StoreStaff
    from groups.models import Message
    from reports.models import Dispute, Incident

    return {
        "alliance_memberships": [
            {"alliance": m.alliance.name, "role": m.role, "joined_at": m.joined_at.isoformat(), "on_duty": m.on_duty}
            for m in AllianceMembership.objects.filter(user=user).select_related("alliance")
        ],
        "stores_owned": [
            {"name": s.name, "address": s.address, "business_licence_number": s.business_licence_number}
            for s in Store.objects.filter(owner=user)
        ],
        "store_posts": [p.store.name for p in StoreStaff.objects.filter(user=user).select_related("store")],
        "station_posts": [p.station.name for p in StationStaff.objects.filter(user=user).select_related("station")],
        "messages": [
            {"group": m.group.name, "seq": m.seq, "kind": m.kind, "body": m.body, "sent_at": m.created_at.isoformat()}
            for m in Message.objects.filter(sender=user, deleted_at__isnull=True).select_related("group").order_by("id")
        ],
        "dispute_flags": [
            {
                "id": d.pk,
                "category": d.category,
                "note": d.note,
                "flagged_at": d.flagged_at.isoformat(),
                "status": d.status,
            }
            for d in Dispute.objects.filter(reporter=user).order_by("id")
        ],
        "incident_reports": [
            {"id": i.pk, "category": i.category, "description": i.description, "reported_at": i.created_at.isoformat()}
            for i in Incident.objects.filter(reporter=user).order_by("id")
        ],
    }
