"""Reads on incident reports: who may see them and what they have to do with one, and possible duplicates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from accounts.permissions import is_police
from alliance.models import AllianceMembership
from alliance.selectors.alliances import AllianceAccess, alliance_access_for
from config.geo import METRES_PER_DEGREE_LATITUDE, distance_metres
from groups.models import GroupMembership
from reports.models import CaseEvent, CasePhoto, Incident, IncidentComment
from reports.selectors.police import RESPONDING_MEMBER_ROLES, police_posted_to_alliance, posted_units

DUPLICATE_RADIUS_METRES = 50
DUPLICATE_WINDOW = timedelta(hours=2)
# The bounding box's margin over the radius: more than the error of config.geo's metres per degree anywhere, so
# the box always holds the circle (the exact distance decides after).
BOX_MARGIN = 1.01


@dataclass(frozen=True)
class IncidentStanding:
    """What one person has to do with one incident; ``reports.permissions`` decides from it what they may do."""

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
    """:func:`reports.permissions.can_view_incident` as a query: the user's own reports; every incident of the
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
        units = posted_units(user)
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
    ``window`` of ``occurred_at`` and ``radius_metres`` of the point, nearest first; each carries ``distance_m``
    and only the fields a suggestion shows (the others are deferred: reading one is a query).

    A bounding box in SQL narrows the rows (the index on alliance, category and time does the rest), then the exact
    great-circle distance is computed here: the box's corners are farther than the radius."""
    lat, lon = float(latitude), float(longitude)
    d_lat = radius_metres / METRES_PER_DEGREE_LATITUDE * BOX_MARGIN
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
        d_lon = radius_metres / (METRES_PER_DEGREE_LATITUDE * cos_lat) * BOX_MARGIN
        qs = qs.filter(
            longitude__gte=Decimal(str(round(lon - d_lon, 6))), longitude__lte=Decimal(str(round(lon + d_lon, 6)))
        )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    found = []
    # A street sees a handful of reports of one kind in one spot in four hours; 200 bounds a pathological case.
    # Only the columns a suggestion shows (IncidentDuplicateOutput) and its position: a third of the search's
    # work in Python was compiling and loading the other twenty-odd (docs/performance.md).
    shown = ("id", "category", "status", "occurred_at", "created_at", "latitude", "longitude")
    for candidate in qs.only(*shown).order_by("occurred_at", "id")[:200]:
        distance = distance_metres(lat, lon, float(candidate.latitude), float(candidate.longitude))
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
