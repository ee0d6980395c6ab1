"""Writes on alliances: founding one (with its first admin) and editing it."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from alliance.error_codes import AllianceErrorCode, field_error
from alliance.hooks import alliance_membership_hooks
from alliance.models import Alliance, Station
from alliance.permissions import can_create_alliance, can_manage_alliance
from alliance.selectors.alliances import AllianceAccess, jurisdiction_station_ids, unit_and_units_above
from alliance.services.members import MemberRole, alliance_member_add
from config.errors import ApplicationError
from config.geojson import BoundaryError, boundary_clean

_UNCHANGED = object()


def _boundary(value) -> dict | None:
    try:
        return boundary_clean(value)
    except BoundaryError as exc:
        raise field_error(AllianceErrorCode.INVALID_BOUNDARY, "boundary", str(exc))


def office_fits_station(*, office: Station, station: Station) -> bool:
    """An alliance's office is a community police office or workstation under its police station."""
    return office.kind != Station.Kind.STATION and station.pk in unit_and_units_above(office)[1:]


def _check_office(*, office: Station, station: Station) -> None:
    if not office_fits_station(office=office, station=station):
        raise field_error(
            AllianceErrorCode.INVALID_OFFICE,
            "office",
            _("Choose a community police office or workstation of the alliance's police station."),
        )


def _free_slug(name: str) -> str:
    base = slugify(name)[:40].strip("-") or "alliance"
    if base != "alliance" and not Alliance.objects.filter(slug=base).exists():
        return base
    return f"{base}-{secrets.token_hex(4)}"


def alliance_create(
    *,
    actor: User,
    name: str,
    station: Station,
    office: Station | None = None,
    area_description: str = "",
    boundary: dict | None = None,
    slug: str = "",
) -> Alliance:
    """A police admin founds an alliance in their jurisdiction and becomes its first admin."""
    station_ids = jurisdiction_station_ids(user=actor)
    if not can_create_alliance(actor, station_in_jurisdiction=station.pk in station_ids):
        raise ApplicationError.permission_denied(_("You can create alliances only in your own jurisdiction."))
    if station.kind != Station.Kind.STATION:
        raise field_error(
            AllianceErrorCode.INVALID_STATION,
            "station",
            _("Choose a police station; offices and workstations are given as the alliance's office."),
        )
    if office is not None:
        _check_office(office=office, station=station)
    boundary = _boundary(boundary)
    slug = slug or _free_slug(name)
    try:
        with transaction.atomic():
            alliance = Alliance.objects.create(
                name=name,
                slug=slug,
                station=station,
                office=office,
                area_description=area_description,
                boundary=boundary,
                created_by=actor,
            )
            alliance_membership_hooks.alliance_created(alliance=alliance)
            alliance_member_add(alliance=alliance, user=actor, role=MemberRole.ADMIN, added_by=actor)
    except IntegrityError:
        if Alliance.objects.filter(slug=slug).exists():
            raise field_error(AllianceErrorCode.SLUG_TAKEN, "slug", _("Another alliance already has this short name."))
        raise
    return alliance


@transaction.atomic
def alliance_update(
    *,
    actor: User,
    access: AllianceAccess,
    name: str | None = None,
    area_description: str | None = None,
    status: str | None = None,
    boundary=_UNCHANGED,
    office=_UNCHANGED,
) -> Alliance:
    """Its admins (and the police admins of its jurisdiction) edit an alliance. ``boundary=None`` or
    ``office=None`` clear them; leaving them out keeps them."""
    if not can_manage_alliance(actor, access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins can change it."))
    alliance = access.alliance
    fields = []
    if name is not None:
        alliance.name = name
        fields.append("name")
    if area_description is not None:
        alliance.area_description = area_description
        fields.append("area_description")
    if status is not None:
        alliance.status = status
        fields.append("status")
    if boundary is not _UNCHANGED:
        alliance.boundary = _boundary(boundary)
        fields.append("boundary")
    if office is not _UNCHANGED:
        if office is not None:
            _check_office(office=office, station=alliance.station)
        alliance.office = office
        fields.append("office")
    if fields:
        alliance.save(update_fields=fields)
    return alliance


def alliance_require_active(alliance: Alliance) -> None:
    if alliance.status != Alliance.Status.ACTIVE:
        raise ApplicationError(AllianceErrorCode.ALLIANCE_INACTIVE, _("This alliance is not active."))
