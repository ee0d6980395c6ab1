"""Reads on dispute flags: who may see them, who the ladder reaches, which are due to climb."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.permissions import is_police
from alliance.models import AllianceMembership, StationStaff
from groups.selectors.patrol_on_duty import responders_on_duty
from reports.models import CaseEvent, Dispute, DisputeResponder
from reports.selectors.police import RESPONDING_MEMBER_ROLES, posted_units


@dataclass(frozen=True, slots=True)
class LadderRecipient:
    """Someone a rung of the ladder tells; ``distance_metres`` from the flag where known (level 1 only)."""

    user_id: int
    distance_metres: float | None = None


def dispute_responders_at_level(*, dispute: Dispute, level: int) -> list[LadderRecipient]:
    """Who a flag goes to at each rung of the ladder.

    1 mall management: the alliance's responders on duty now (``groups.selectors.patrol_on_duty``: volunteers
      checked in to a shift, police and mall managers on duty), nearest to the flag first, those without a known
      position after them, longest on duty first; never the reporter. Two queries;
    2 community police office: the officers posted to the alliance's office;
    3 police station: the officers posted to the alliance's station.
    """
    alliance = dispute.alliance
    if level == Dispute.Level.MALL:
        return [
            LadderRecipient(user_id=responder.user_id, distance_metres=responder.distance_metres)
            for responder in responders_on_duty(
                alliance_id=alliance.pk,
                near=(float(dispute.latitude), float(dispute.longitude)),
                exclude_user_ids=[dispute.reporter_id] if dispute.reporter_id else [],
            )
        ]
    station_id = alliance.office_id if level == Dispute.Level.OFFICE else alliance.station_id
    if station_id is None:
        return []
    return [
        LadderRecipient(user_id=user_id)
        for user_id in StationStaff.objects.filter(station_id=station_id, user__is_active=True)
        .order_by("id")
        .values_list("user_id", flat=True)
    ]


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
