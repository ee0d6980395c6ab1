"""Writes on patrol geography: zones and their grids, routes and their checkpoints, support points.

Every write is police work (``groups.permissions.can_manage_patrol_geography``). ``actor`` is the person acting and
``access`` what they have in the alliance (``selectors.alliances.AllianceAccess``, from the selector that found the
object); ``actor=None`` is the platform itself (the admin site, which scoped the page already, and the demo seed),
and then ``access`` is not needed.

Positions arrive in the coordinate system the phone or the map used (``coordinate_system``: "wgs84" or "gcj02") and
are stored in WGS-84 only (``config.coordinates.to_wgs84``); polygons are checked and converted by
``config.geojson.patrol_boundary_clean``.
"""

from __future__ import annotations

import math
from datetime import time

from django.db import transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _

from accounts.models import User
from alliance.models import Alliance
from alliance.selectors.alliances import AllianceAccess
from config.coordinates import COORDINATE_SYSTEMS, WGS84, to_wgs84
from config.errors import ApplicationError
from config.geojson import BoundaryError, patrol_boundary_clean
from groups.error_codes import GroupErrorCode
from groups.models import Checkpoint, CheckpointScan, PatrolGrid, PatrolRoute, PatrolZone, SupportPoint
from groups.patrol_geometry import grid_within_zone
from groups.permissions import can_manage_patrol_geography

MAX_CHECKPOINTS_PER_ROUTE = 100
MAX_CHECKPOINT_POSITION = 32767  # the column is a PositiveSmallIntegerField

# Rapid-response rings (Yangzhou's "1, 3, 5 minute" points): how far a responder gets from the point in 1, 3 and 5
# minutes on a patrol e-bike (巡逻电动车, the usual street patrol vehicle) at about 18 km/h in street traffic, i.e.
# 300 m a minute. On foot at a run it is about half; police edit the rings per point where streets are slower.
RAPID_RESPONSE_RINGS_METRES = [300, 900, 1500]
MAX_RINGS = 3
MAX_RING_METRES = 20_000

_UNCHANGED = object()


def _require_manager(actor: User | None, access: AllianceAccess | None, alliance_id: int) -> None:
    if actor is None:
        return
    if access is None or access.alliance.pk != alliance_id or not can_manage_patrol_geography(actor, access):
        raise ApplicationError.permission_denied(
            _("Only the police admins of the alliance's jurisdiction manage its patrol zones, routes and points.")
        )


def _invalid(code: GroupErrorCode, field: str, message: str) -> ApplicationError:
    return ApplicationError(code, message, fields={field: [message]})


def _boundary(value, coordinate_system: str, field: str = "boundary") -> dict:
    _check_system(coordinate_system)
    try:
        return patrol_boundary_clean(value, coordinate_system=coordinate_system)
    except BoundaryError as exc:
        raise _invalid(GroupErrorCode.INVALID_BOUNDARY, field, str(exc))


def _check_system(coordinate_system: str) -> None:
    if coordinate_system not in COORDINATE_SYSTEMS:
        raise _invalid(
            GroupErrorCode.INVALID_COORDINATES,
            "coordinate_system",
            _("The coordinate system is one of: %(systems)s.") % {"systems": ", ".join(COORDINATE_SYSTEMS)},
        )


def position_to_store(latitude, longitude, coordinate_system: str = WGS84) -> tuple[float, float]:
    """A position as received, checked (finite, on Earth, not the 0, 0 of a phone without a fix) and in WGS-84."""
    _check_system(coordinate_system)
    for field, value, limit in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _invalid(GroupErrorCode.INVALID_COORDINATES, field, _("Enter a number."))
        if not -limit <= value <= limit:
            message = (
                _("Latitude must be between -90 and 90.")
                if limit == 90
                else _("Longitude must be between -180 and 180.")
            )
            raise _invalid(GroupErrorCode.INVALID_COORDINATES, field, message)
    if latitude == 0 and longitude == 0:
        message = _("The position 0, 0 is in the sea: the phone had no location fix. Place the point on the map.")
        raise ApplicationError(
            GroupErrorCode.INVALID_COORDINATES, message, fields={"latitude": [message], "longitude": [message]}
        )
    return to_wgs84(float(latitude), float(longitude), coordinate_system)


def zone_bounding_box_set(zone: PatrolZone) -> list[str]:
    """Set the zone's bounding box columns from its boundary; the names of the fields set."""
    outline = zone.boundary["coordinates"][0]
    longitudes = [position[0] for position in outline]
    latitudes = [position[1] for position in outline]
    zone.min_latitude, zone.max_latitude = min(latitudes), max(latitudes)
    zone.min_longitude, zone.max_longitude = min(longitudes), max(longitudes)
    return ["min_latitude", "max_latitude", "min_longitude", "max_longitude"]


def _focus_hours(starts: time | None, ends: time | None) -> None:
    if (starts is None) != (ends is None):
        field = "focus_ends" if ends is None else "focus_starts"
        raise ApplicationError.invalid(field, _("Give both ends of the focus hours, or neither."))
    if starts is not None and starts == ends:
        raise ApplicationError.invalid("focus_ends", _("The focus hours must end at another time than they start."))


def _zone_in_use(zone: PatrolZone) -> None:
    """An archived zone is the record of past shifts: it and its grids stay as they were."""
    if zone.is_archived:
        raise ApplicationError(GroupErrorCode.ZONE_ARCHIVED, _("The zone is archived; it can no longer be changed."))


# --- zones --------------------------------------------------------------------------------------------------------


def patrol_zone_create(
    *,
    actor: User | None,
    access: AllianceAccess | None,
    alliance: Alliance,
    name: str,
    risk_grade: str,
    boundary,
    coordinate_system: str = WGS84,
    focus_starts: time | None = None,
    focus_ends: time | None = None,
) -> PatrolZone:
    """A zone of the alliance, its boundary checked (``patrol_boundary_clean``) and kept with its bounding box."""
    _require_manager(actor, access, alliance.pk)
    _focus_hours(focus_starts, focus_ends)
    zone = PatrolZone(
        alliance=alliance,
        name=name,
        risk_grade=risk_grade,
        boundary=_boundary(boundary, coordinate_system),
        focus_starts=focus_starts,
        focus_ends=focus_ends,
        created_by=actor,
    )
    zone_bounding_box_set(zone)
    zone.save()
    return zone


def patrol_zone_update(
    *,
    actor: User | None,
    access: AllianceAccess | None,
    zone: PatrolZone,
    coordinate_system: str = WGS84,
    boundary=_UNCHANGED,
    **changes,
) -> PatrolZone:
    """``changes``: any of name, risk_grade, focus_starts, focus_ends. A new ``boundary`` must still hold every
    grid of the zone (they are redrawn first)."""
    _require_manager(actor, access, zone.alliance_id)
    _zone_in_use(zone)
    _focus_hours(changes.get("focus_starts", zone.focus_starts), changes.get("focus_ends", zone.focus_ends))
    fields = [field for field, value in changes.items() if getattr(zone, field) != value]
    for field in fields:
        setattr(zone, field, changes[field])
    if boundary is not _UNCHANGED:
        zone.boundary = _boundary(boundary, coordinate_system)
        outside = [grid.name for grid in zone.grids.all() if not grid_within_zone(grid.boundary, zone.boundary)]
        if outside:
            raise _invalid(
                GroupErrorCode.GRID_OUTSIDE_ZONE,
                "boundary",
                _("These grids would lie outside the new boundary: %(grids)s. Redraw them first.")
                % {"grids": ", ".join(outside)},
            )
        fields += ["boundary", *zone_bounding_box_set(zone)]
    if fields:
        zone.save(update_fields=fields)
    return zone


def patrol_zone_archive(*, actor: User | None, access: AllianceAccess | None, zone: PatrolZone) -> PatrolZone:
    """Archived, not deleted: past shifts, check-ins and statistics still name it. Archiving twice is no error."""
    _require_manager(actor, access, zone.alliance_id)
    if not zone.is_archived:
        zone.is_archived = True
        zone.save(update_fields=["is_archived"])
    return zone


# --- grids --------------------------------------------------------------------------------------------------------


def _grid_boundary(zone: PatrolZone, boundary, coordinate_system: str) -> dict:
    cleaned = _boundary(boundary, coordinate_system)
    if not grid_within_zone(cleaned, zone.boundary):
        raise _invalid(
            GroupErrorCode.GRID_OUTSIDE_ZONE, "boundary", _("A grid must lie within its patrol zone's boundary.")
        )
    return cleaned


def patrol_grid_create(
    *,
    actor: User | None,
    access: AllianceAccess | None,
    zone: PatrolZone,
    name: str,
    boundary,
    coordinate_system: str = WGS84,
) -> PatrolGrid:
    _require_manager(actor, access, zone.alliance_id)
    _zone_in_use(zone)
    return PatrolGrid.objects.create(zone=zone, name=name, boundary=_grid_boundary(zone, boundary, coordinate_system))


def patrol_grid_update(
    *,
    actor: User | None,
    access: AllianceAccess | None,
    grid: PatrolGrid,
    name: str | None = None,
    boundary=_UNCHANGED,
    coordinate_system: str = WGS84,
) -> PatrolGrid:
    _require_manager(actor, access, grid.zone.alliance_id)
    _zone_in_use(grid.zone)
    fields = []
    if name is not None and name != grid.name:
        grid.name = name
        fields.append("name")
    if boundary is not _UNCHANGED:
        grid.boundary = _grid_boundary(grid.zone, boundary, coordinate_system)
        fields.append("boundary")
    if fields:
        grid.save(update_fields=fields)
    return grid


def patrol_grid_delete(*, actor: User | None, access: AllianceAccess | None, grid: PatrolGrid) -> None:
    _require_manager(actor, access, grid.zone.alliance_id)
    _zone_in_use(grid.zone)
    grid.delete()


# --- routes and checkpoints ---------------------------------------------------------------------------------------


def _route_zone(alliance_id: int, zone: PatrolZone | None) -> PatrolZone | None:
    if zone is not None and zone.alliance_id != alliance_id:
        raise ApplicationError.not_found(zone=[_("Not found.")])
    if zone is not None and zone.is_archived:
        raise _invalid(GroupErrorCode.ZONE_ARCHIVED, "zone", _("The zone is archived; choose a zone in use."))
    return zone


@transaction.atomic
def patrol_route_create(
    *,
    actor: User | None,
    access: AllianceAccess | None,
    alliance: Alliance,
    name: str,
    zone: PatrolZone | None = None,
    checkpoints: list[dict] | None = None,
) -> PatrolRoute:
    """A route, and its checkpoints in order when given (each a dict of :func:`checkpoint_create`'s fields)."""
    _require_manager(actor, access, alliance.pk)
    route = PatrolRoute.objects.create(alliance=alliance, zone=_route_zone(alliance.pk, zone), name=name)
    for fields in checkpoints or ():
        checkpoint_create(actor=None, access=None, route=route, **fields)
    return route


def patrol_route_update(
    *, actor: User | None, access: AllianceAccess | None, route: PatrolRoute, zone=_UNCHANGED, **changes
) -> PatrolRoute:
    """``changes``: name. ``zone``: a zone of the same alliance, or None for a route across zones."""
    _require_manager(actor, access, route.alliance_id)
    _route_in_use(route)
    fields = [field for field, value in changes.items() if getattr(route, field) != value]
    for field in fields:
        setattr(route, field, changes[field])
    if zone is not _UNCHANGED and (zone.pk if zone else None) != route.zone_id:
        route.zone = _route_zone(route.alliance_id, zone)
        fields.append("zone")
    if fields:
        route.save(update_fields=fields)
    return route


def patrol_route_archive(*, actor: User | None, access: AllianceAccess | None, route: PatrolRoute) -> PatrolRoute:
    _require_manager(actor, access, route.alliance_id)
    if not route.is_archived:
        route.is_archived = True
        route.save(update_fields=["is_archived"])
    return route


def _route_in_use(route: PatrolRoute) -> None:
    """An archived route is the record of past patrols: its checkpoints stay as they were."""
    if route.is_archived:
        raise ApplicationError(GroupErrorCode.ROUTE_ARCHIVED, _("The route is archived; it can no longer be changed."))


def _position_free(route: PatrolRoute, position: int, *, besides: int | None = None) -> None:
    if not 1 <= position <= MAX_CHECKPOINT_POSITION:
        raise ApplicationError.invalid(
            "position", _("The position is a whole number from 1 to %(max)s.") % {"max": MAX_CHECKPOINT_POSITION}
        )
    if route.checkpoints.filter(position=position).exclude(pk=besides).exists():
        raise _invalid(
            GroupErrorCode.CHECKPOINT_POSITION_TAKEN,
            "position",
            _("Another checkpoint of the route has this position; reorder the route instead."),
        )


def _lock_route(route: PatrolRoute) -> None:
    """Checkpoint writes on one route take turns, so positions are decided on what is really there."""
    PatrolRoute.objects.select_for_update().filter(pk=route.pk).first()


@transaction.atomic
def checkpoint_create(
    *,
    actor: User | None,
    access: AllianceAccess | None,
    route: PatrolRoute,
    name: str,
    latitude: float,
    longitude: float,
    coordinate_system: str = WGS84,
    radius_metres: int = 50,
    position: int | None = None,
) -> Checkpoint:
    """A checkpoint on the route: at ``position``, or after the last one."""
    _require_manager(actor, access, route.alliance_id)
    _route_in_use(route)
    latitude, longitude = position_to_store(latitude, longitude, coordinate_system)
    _lock_route(route)
    if route.checkpoints.count() >= MAX_CHECKPOINTS_PER_ROUTE:
        raise ApplicationError(
            GroupErrorCode.TOO_MANY_CHECKPOINTS,
            _("A route has at most %(max)s checkpoints.") % {"max": MAX_CHECKPOINTS_PER_ROUTE},
        )
    if position is None:
        position = (route.checkpoints.aggregate(last=Max("position"))["last"] or 0) + 1
    _position_free(route, position)
    return Checkpoint.objects.create(
        route=route,
        position=position,
        name=name,
        latitude=latitude,
        longitude=longitude,
        radius_metres=radius_metres,
    )


@transaction.atomic
def checkpoint_update(
    *,
    actor: User | None,
    access: AllianceAccess | None,
    checkpoint: Checkpoint,
    coordinate_system: str = WGS84,
    **changes,
) -> Checkpoint:
    """``changes``: any of name, latitude and longitude (together), radius_metres, position (a free one)."""
    route = checkpoint.route
    _require_manager(actor, access, route.alliance_id)
    _route_in_use(route)
    if ("latitude" in changes) != ("longitude" in changes):
        field = "longitude" if "latitude" in changes else "latitude"
        raise ApplicationError.invalid(field, _("Give the latitude and the longitude together."))
    if "latitude" in changes:
        changes["latitude"], changes["longitude"] = position_to_store(
            changes["latitude"], changes["longitude"], coordinate_system
        )
    if "position" in changes and changes["position"] != checkpoint.position:
        _lock_route(route)
        _position_free(route, changes["position"], besides=checkpoint.pk)
    fields = [field for field, value in changes.items() if getattr(checkpoint, field) != value]
    for field in fields:
        setattr(checkpoint, field, changes[field])
    if fields:
        checkpoint.save(update_fields=fields)
    return checkpoint


def checkpoint_delete(*, actor: User | None, access: AllianceAccess | None, checkpoint: Checkpoint) -> None:
    """Only a checkpoint never scanned: scans are the patrols' record (move the checkpoint, or archive the route)."""
    _require_manager(actor, access, checkpoint.route.alliance_id)
    _route_in_use(checkpoint.route)
    if CheckpointScan.objects.filter(checkpoint=checkpoint).exists():
        raise ApplicationError(
            GroupErrorCode.CHECKPOINT_HAS_SCANS,
            _("Patrols have scanned this checkpoint; it stays on record. Archive the route or move the checkpoint."),
        )
    checkpoint.delete()


@transaction.atomic
def checkpoint_reorder(
    *, actor: User | None, access: AllianceAccess | None, route: PatrolRoute, checkpoint_ids: list[int]
) -> list[Checkpoint]:
    """Put the route's checkpoints in the order given (every checkpoint of the route, once): positions 1, 2, ..."""
    _require_manager(actor, access, route.alliance_id)
    _route_in_use(route)
    _lock_route(route)
    checkpoints = {checkpoint.pk: checkpoint for checkpoint in route.checkpoints.all()}
    if len(checkpoint_ids) != len(set(checkpoint_ids)) or set(checkpoint_ids) != set(checkpoints):
        raise _invalid(
            GroupErrorCode.CHECKPOINT_ORDER_MISMATCH,
            "checkpoints",
            _("List every checkpoint of the route exactly once."),
        )
    # Out of the way first (positions are unique per route at every moment), then in their new places.
    route.checkpoints.update(position=F("position") + MAX_CHECKPOINT_POSITION // 2)
    ordered = []
    for position, checkpoint_id in enumerate(checkpoint_ids, start=1):
        checkpoint = checkpoints[checkpoint_id]
        checkpoint.position = position
        ordered.append(checkpoint)
    Checkpoint.objects.bulk_update(ordered, ["position"])
    return ordered


def checkpoint_code_reissue(*, actor: User | None, access: AllianceAccess | None, checkpoint: Checkpoint) -> Checkpoint:
    """A new printed code for the checkpoint (a sticker lost or copied): the version goes up and payloads signed
    for older versions are refused (``groups.checkpoint_codes`` signs and checks them)."""
    _require_manager(actor, access, checkpoint.route.alliance_id)
    Checkpoint.objects.filter(pk=checkpoint.pk).update(qr_version=F("qr_version") + 1)
    checkpoint.refresh_from_db(fields=["qr_version"])
    return checkpoint


# --- support points -----------------------------------------------------------------------------------------------


def support_point_rings(value, kind: str) -> list[int]:
    """The rings as stored; None: the default for the kind (rapid-response points: 1/3/5 minutes)."""
    if value is None:
        return list(RAPID_RESPONSE_RINGS_METRES) if kind == SupportPoint.Kind.RAPID_RESPONSE else []
    if (
        not isinstance(value, list)
        or len(value) > MAX_RINGS
        or not all(isinstance(ring, int) and not isinstance(ring, bool) for ring in value)
        or not all(1 <= ring <= MAX_RING_METRES for ring in value)
        or any(inner >= outer for inner, outer in zip(value, value[1:], strict=False))
    ):
        raise _invalid(
            GroupErrorCode.INVALID_RINGS,
            "ring_metres",
            _("The rings are up to %(count)s distances in metres (1 to %(max)s), each larger than the one before.")
            % {"count": MAX_RINGS, "max": MAX_RING_METRES},
        )
    return value


def support_point_create(
    *,
    actor: User | None,
    access: AllianceAccess | None,
    alliance: Alliance,
    kind: str,
    name: str,
    latitude: float,
    longitude: float,
    coordinate_system: str = WGS84,
    ring_metres: list[int] | None = None,
) -> SupportPoint:
    """``ring_metres`` None: a rapid-response point gets :data:`RAPID_RESPONSE_RINGS_METRES`, others no rings."""
    _require_manager(actor, access, alliance.pk)
    latitude, longitude = position_to_store(latitude, longitude, coordinate_system)
    return SupportPoint.objects.create(
        alliance=alliance,
        kind=kind,
        name=name,
        latitude=latitude,
        longitude=longitude,
        ring_metres=support_point_rings(ring_metres, kind),
    )


def support_point_update(
    *,
    actor: User | None,
    access: AllianceAccess | None,
    point: SupportPoint,
    coordinate_system: str = WGS84,
    **changes,
) -> SupportPoint:
    """``changes``: any of kind, name, latitude and longitude (together), ring_metres. A point becoming a
    rapid-response point without rings gets the default ones."""
    _require_manager(actor, access, point.alliance_id)
    if ("latitude" in changes) != ("longitude" in changes):
        field = "longitude" if "latitude" in changes else "latitude"
        raise ApplicationError.invalid(field, _("Give the latitude and the longitude together."))
    if "latitude" in changes:
        changes["latitude"], changes["longitude"] = position_to_store(
            changes["latitude"], changes["longitude"], coordinate_system
        )
    kind = changes.get("kind", point.kind)
    if "ring_metres" in changes:
        changes["ring_metres"] = support_point_rings(changes["ring_metres"], kind)
    elif kind != point.kind and kind == SupportPoint.Kind.RAPID_RESPONSE and not point.ring_metres:
        changes["ring_metres"] = support_point_rings(None, kind)
    fields = [field for field, value in changes.items() if getattr(point, field) != value]
    for field in fields:
        setattr(point, field, changes[field])
    if fields:
        point.save(update_fields=fields)
    return point


def support_point_delete(*, actor: User | None, access: AllianceAccess | None, point: SupportPoint) -> None:
    _require_manager(actor, access, point.alliance_id)
    point.delete()
