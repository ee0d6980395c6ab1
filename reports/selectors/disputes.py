"""Reads on dispute flags: who may see them, who the ladder reaches, which are due to climb."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.permissions import is_police
from alliance.models import AllianceMembership, StationStaff
from alliance.permissions import ALLIANCE_RESPONDER_ROLES
from reports.models import CaseEvent, Dispute, DisputeResponder
from reports.selectors.police import RESPONDING_MEMBER_ROLES, posted_units


def dispute_responders_at_level(*, dispute: Dispute, level: int) -> list[int]:
    """Who a flag goes to at each rung of the ladder, as user ids.

    1 mall management: the alliance's responders on duty now (mall managers, police liaisons, volunteers), the
      longest on duty first (nearest first once patrol check-ins give positions);
    2 community police office: the officers posted to the alliance's office;
    3 police station: the officers posted to the alliance's station.
    """
    alliance = dispute.alliance
    if level == Dispute.Level.MALL:
        return list(
            AllianceMembership.objects.filter(alliance=alliance, on_duty=True, role__in=ALLIANCE_RESPONDER_ROLES)
            .exclude(user_id=dispute.reporter_id)
            .order_by("on_duty_since", "id")
            .values_list("user_id", flat=True)
        )
    station_id = alliance.office_id if level == Dispute.Level.OFFICE else alliance.station_id
    if station_id is None:
        return []
    return list(
        StationStaff.objects.filter(station_id=station_id, user__is_active=True)
        .order_by("id")
        .values_list("user_id", flat=True)
    )


def disputes_due(*, now, limit: int = 100) -> list[int]:
    return list(
        Dispute.objects.filter(escalate_at__lte=now, status__in=Dispute.OPEN_STATUSES)
        .order_by("escalate_at")
        .values_list("id", flat=True)[:limit]
    )


def disputes_visible_to(*, user) -> QuerySet[Dispute]:
    """The reporter's own flags; every flag of the alliances where the user is a responder or admin; flags they
    answered; and, for police, every flag of the alliances under the units they are posted to."""
    visible = (
        Q(reporter=user)
        | Q(
            alliance_id__in=AllianceMembership.objects.filter(user=user, role__in=RESPONDING_MEMBER_ROLES).values(
                "alliance_id"
            )
        )
        | Q(Exists(DisputeResponder.objects.filter(dispute=OuterRef("pk"), responder=user)))
    )
    if is_police(user):
        units = posted_units(user)
        visible |= Q(alliance__station_id__in=units) | Q(alliance__office_id__in=units)
    return Dispute.objects.filter(visible).select_related("store", "reporter", "card_message")


def dispute_for_viewer(*, user, dispute_id: int) -> Dispute | None:
    """One flag with everything its detail screen shows; None when ``user`` may not see it (``user=None``: no check,
    for re-reading after a write the caller already authorised)."""
    qs = Dispute.objects.all() if user is None else disputes_visible_to(user=user)
    return (
        qs.select_related("store", "reporter", "card_message", "alliance")
        .prefetch_related(
            Prefetch("responders", queryset=DisputeResponder.objects.select_related("responder").order_by("id")),
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor").order_by("at", "id")),
            "photos",
        )
        .filter(pk=dispute_id)
        .first()
    )
