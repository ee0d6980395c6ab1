"""Reads on patrol geography: an alliance's zones, grids, routes with their checkpoints, support points; the zones
holding a position (check-in and dispatch ask it on every request).

Visibility follows the alliance (``groups.permissions.can_read_patrol_geography``): its members and the police
admins of its jurisdiction; anyone else gets 404 from the ``*_or_404`` functions, never 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Model, Prefetch, QuerySet
from django.http import Http404

from alliance.models import Alliance
from alliance.selectors.alliances import AllianceAccess, alliance_access_for
from config.queries import unique_row
from groups.models import Checkpoint, PatrolGrid, PatrolRoute, PatrolZone, SupportPoint
from groups.patrol_geometry import zone_covers
from groups.permissions import can_read_patrol_geography

Found = TypeVar("Found", bound=Model)


@dataclass(frozen=True)
class PatrolAccess(Generic[Found]):
    """A patrol object and what the viewer has in its alliance (what the services check writes against)."""

    found: Found
    access: AllianceAccess


def _access_or_404(*, user, queryset: QuerySet, alliance_of) -> PatrolAccess:
    found = unique_row(queryset)
    if found is None:
        raise Http404
    access = alliance_access_for(user=user, alliance=alliance_of(found))
    if not can_read_patrol_geography(user, access):
        raise Http404
    return PatrolAccess(found=found, access=access)


def patrol_zone_access_or_404(*, user, zone_id: int) -> PatrolAccess[PatrolZone]:
    queryset = PatrolZone.objects.select_related("alliance__station", "alliance__office").filter(pk=zone_id)
    return _access_or_404(user=user, queryset=queryset, alliance_of=lambda zone: zone.alliance)


def patrol_grid_access_or_404(*, user, grid_id: int) -> PatrolAccess[PatrolGrid]:
    queryset = PatrolGrid.objects.select_related("zone__alliance__station", "zone__alliance__office").filter(pk=grid_id)
    return _access_or_404(user=user, queryset=queryset, alliance_of=lambda grid: grid.zone.alliance)


def patrol_route_access_or_404(*, user, route_id: int) -> PatrolAccess[PatrolRoute]:
    queryset = (
        PatrolRoute.objects.select_related("alliance__station", "alliance__office")
        .prefetch_related(_checkpoints_in_order())
        .filter(pk=route_id)
    )
    return _access_or_404(user=user, queryset=queryset, alliance_of=lambda route: route.alliance)


def checkpoint_access_or_404(*, user, checkpoint_id: int) -> PatrolAccess[Checkpoint]:
    queryset = Checkpoint.objects.select_related("route__alliance__station", "route__alliance__office").filter(
        pk=checkpoint_id
    )
    return _access_or_404(user=user, queryset=queryset, alliance_of=lambda checkpoint: checkpoint.route.alliance)


def support_point_access_or_404(*, user, point_id: int) -> PatrolAccess[SupportPoint]:
    queryset = SupportPoint.objects.select_related("alliance__station", "alliance__office").filter(pk=point_id)
    return _access_or_404(user=user, queryset=queryset, alliance_of=lambda point: point.alliance)


# --- lists --------------------------------------------------------------------------------------------------------


def patrol_zones_of_alliance(*, alliance: Alliance, archived: bool = False) -> QuerySet[PatrolZone]:
    return PatrolZone.objects.filter(alliance=alliance, is_archived=archived)


def patrol_grids_of_zone(*, zone: PatrolZone) -> QuerySet[PatrolGrid]:
    return PatrolGrid.objects.filter(zone=zone)


def _checkpoints_in_order() -> Prefetch:
    return Prefetch("checkpoints", queryset=Checkpoint.objects.order_by("position"))


def patrol_routes_of_alliance(*, alliance: Alliance, archived: bool = False) -> QuerySet[PatrolRoute]:
    """Routes with their checkpoints in order (one query more, whatever the number of routes)."""
    return PatrolRoute.objects.filter(alliance=alliance, is_archived=archived).prefetch_related(_checkpoints_in_order())


def support_points_of_alliance(*, alliance: Alliance, kind: str | None = None) -> QuerySet[SupportPoint]:
    points = SupportPoint.objects.filter(alliance=alliance)
    return points.filter(kind=kind) if kind else points


# --- where a position is ------------------------------------------------------------------------------------------


def zones_containing(*, alliance_id: int | None = None, latitude: float, longitude: float) -> list[PatrolZone]:
    """The zones in use (not archived) whose boundary holds the WGS-84 position, edge included: the indexed bounding
    box columns narrow the rows in the database, then shapely decides on the polygon. ``alliance_id`` None: every
    alliance's zones (dispatch across a city)."""
    candidates = PatrolZone.objects.filter(
        is_archived=False,
        min_latitude__lte=latitude,
        max_latitude__gte=latitude,
        min_longitude__lte=longitude,
        max_longitude__gte=longitude,
    )
    if alliance_id is not None:
        candidates = candidates.filter(alliance_id=alliance_id)
    return [zone for zone in candidates if zone_covers(zone.boundary, latitude=latitude, longitude=longitude)]


# --- the map ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatrolMap:
    zones: list[PatrolZone]
    routes: list[PatrolRoute]
    support_points: list[SupportPoint]


def patrol_map_of_alliance(*, alliance: Alliance) -> PatrolMap:
    """Everything a map screen draws for the alliance, in four queries: zones in use, routes in use with their
    checkpoints, support points."""
    return PatrolMap(
        zones=list(patrol_zones_of_alliance(alliance=alliance).order_by("name", "pk")),
        routes=list(patrol_routes_of_alliance(alliance=alliance).order_by("name", "pk")),
        support_points=list(support_points_of_alliance(alliance=alliance).order_by("kind", "name", "pk")),
    )
