"""Reads on incidents and dispute flags."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.permissions import ALLIANCE_RESPONDER_ROLES, is_police
from alliance.models import AllianceMembership, Station, StationStaff
from reports.models import CaseEvent, Dispute, DisputeResponder, EscalationPolicy


def escalation_policy_of(*, alliance) -> EscalationPolicy:
    """The alliance's escalation times; the defaults (unsaved) while nobody has set them, so reading writes nothing."""
    policy = EscalationPolicy.objects.select_related("updated_by").filter(alliance=alliance).first()
    return policy if policy is not None else EscalationPolicy(alliance=alliance)


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


RESPONDING_MEMBER_ROLES = ALLIANCE_RESPONDER_ROLES | {"admin"}


def _posted_units(user) -> QuerySet[Station]:
    """The police units an officer or admin is posted to, with the offices and workstations under them."""
    posts = StationStaff.objects.filter(user=user).values("station_id")
    return Station.objects.filter(Q(pk__in=posts) | Q(parent_id__in=posts) | Q(parent__parent_id__in=posts)).values(
        "pk"
    )


def police_posted_to_alliance(*, user, alliance) -> bool:
    if not is_police(user):
        return False
    return (
        Station.objects.filter(pk__in=_posted_units(user))
        .filter(pk__in=[alliance.station_id, alliance.office_id])
        .exists()
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
        units = _posted_units(user)
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


# --- incidents ------------------------------------------------------------------------------------------------------
# Imported here rather than at the top so this section can be appended without touching the dispute code above.

import math  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

from alliance.selectors import AllianceAccess, alliance_access_for  # noqa: E402
from groups.models import GroupMembership  # noqa: E402
from reports.models import CasePhoto, Incident, IncidentComment  # noqa: E402

DUPLICATE_RADIUS_METRES = 50
DUPLICATE_WINDOW = timedelta(hours=2)
EARTH_RADIUS_METRES = 6_371_008.8
# Metres per degree of latitude is at least this anywhere on Earth; using the smallest keeps the box a superset.
METRES_PER_DEGREE_LATITUDE = 110_574


@dataclass(frozen=True)
class IncidentStanding:
    """What one person has to do with one incident; ``accounts.permissions`` decides from it what they may do."""

    access: AllianceAccess | None
    posted: bool
    in_team: bool


def incident_standing(*, user, incident: Incident) -> IncidentStanding:
    in_team = (
        incident.assigned_team_id is not None
        and GroupMembership.objects.filter(group_id=incident.assigned_team_id, user=user).exists()
    )
    return IncidentStanding(
        access=alliance_access_for(user=user, alliance=incident.alliance),
        posted=police_posted_to_alliance(user=user, alliance=incident.alliance),
        in_team=in_team,
    )


def incidents_visible_to(*, user) -> QuerySet[Incident]:
    """:func:`accounts.permissions.can_view_incident` as a query: the user's own reports; every incident of the
    alliances where they are a responder or admin; what is assigned to them or to a team group they are in; and,
    for police, every incident of the alliances under the units they are posted to (a police admin's jurisdiction
    is those same units)."""
    visible = (
        Q(reporter=user)
        | Q(assignee=user)
        | Q(assigned_team_id__in=GroupMembership.objects.filter(user=user).values("group_id"))
        | Q(
            alliance_id__in=AllianceMembership.objects.filter(user=user, role__in=RESPONDING_MEMBER_ROLES).values(
                "alliance_id"
            )
        )
    )
    if is_police(user):
        units = _posted_units(user)
        visible |= Q(alliance__station_id__in=units) | Q(alliance__office_id__in=units)
    return Incident.objects.filter(visible).select_related(
        "reporter", "assignee", "assigned_team", "card_message", "source_message"
    )


def incident_for_viewer(*, user, incident_id: int) -> Incident | None:
    """One incident with everything its detail screen shows; None when ``user`` may not see it (``user=None``: no
    check, for re-reading after a write the caller already authorised)."""
    qs = Incident.objects.all() if user is None else incidents_visible_to(user=user)
    return (
        qs.select_related(
            "reporter", "assignee", "assigned_team", "card_message", "source_message", "alliance__station"
        )
        .prefetch_related(
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor").order_by("at", "id")),
            Prefetch(
                "comments", queryset=IncidentComment.objects.select_related("author").order_by("created_at", "id")
            ),
            Prefetch("photos", queryset=CasePhoto.objects.order_by("id")),
        )
        .filter(pk=incident_id)
        .first()
    )


def incident_comments(*, incident: Incident) -> QuerySet[IncidentComment]:
    return IncidentComment.objects.filter(incident=incident).select_related("author", "incident")


def _haversine_metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(min(1.0, math.sqrt(a)))


def incidents_near(
    *,
    alliance_id: int,
    category: str,
    latitude: Decimal,
    longitude: Decimal,
    occurred_at,
    exclude_id: int | None = None,
    radius_metres: float = DUPLICATE_RADIUS_METRES,
    window: timedelta = DUPLICATE_WINDOW,
) -> list[Incident]:
    """Possible duplicates: the alliance's incidents of the same category, not merged away, that happened within
    ``window`` of ``occurred_at`` and ``radius_metres`` of the point, nearest first; each carries ``distance_m``.

    A bounding box in SQL narrows the rows (the index on alliance, category and time does the rest), then the exact
    great-circle distance is computed here: the box's corners are farther than the radius."""
    lat, lon = float(latitude), float(longitude)
    d_lat = radius_metres / METRES_PER_DEGREE_LATITUDE
    cos_lat = math.cos(math.radians(min(abs(lat) + d_lat, 90.0)))
    qs = Incident.objects.filter(
        alliance_id=alliance_id,
        category=category,
        merged_into__isnull=True,
        occurred_at__gte=occurred_at - window,
        occurred_at__lte=occurred_at + window,
        latitude__gte=Decimal(str(round(lat - d_lat, 6))),
        latitude__lte=Decimal(str(round(lat + d_lat, 6))),
    )
    if cos_lat > 1e-6:  # near a pole every longitude is close; no box there
        d_lon = radius_metres / (111_320 * cos_lat) * 1.01
        qs = qs.filter(
            longitude__gte=Decimal(str(round(lon - d_lon, 6))), longitude__lte=Decimal(str(round(lon + d_lon, 6)))
        )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    found = []
    # A street sees a handful of reports of one kind in one spot in four hours; 200 bounds a pathological case.
    for candidate in qs.order_by("occurred_at", "id")[:200]:
        distance = _haversine_metres(lat, lon, float(candidate.latitude), float(candidate.longitude))
        if distance <= radius_metres:
            candidate.distance_m = round(distance, 1)
            found.append(candidate)
    return sorted(found, key=lambda incident: (incident.distance_m, incident.pk))


def incident_duplicates(*, incident: Incident) -> list[Incident]:
    return incidents_near(
        alliance_id=incident.alliance_id,
        category=incident.category,
        latitude=incident.latitude,
        longitude=incident.longitude,
        occurred_at=incident.occurred_at,
        exclude_id=incident.pk,
    )


def incident_team_member_ids(*, incident: Incident) -> list[int]:
    if incident.assigned_team_id is None:
        return []
    return list(
        GroupMembership.objects.filter(group_id=incident.assigned_team_id, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
