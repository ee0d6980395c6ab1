"""Writes on police units: who is posted where (a police admin's jurisdiction)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from alliance.error_codes import AllianceErrorCode, field_error
from alliance.models import Station, StationStaff
from alliance.permissions import can_be_posted_to_station, can_post_station_staff
from alliance.selectors.alliances import forget_cached_jurisdiction, jurisdiction_station_ids
from config.errors import ApplicationError


def station_staff_add(*, actor: User, station: Station, user: User) -> StationStaff:
    """Post an officer (or another police admin) to a unit of the actor's jurisdiction. Posting twice is a no-op."""
    if not can_post_station_staff(actor, station_in_jurisdiction=station.pk in jurisdiction_station_ids(user=actor)):
        raise ApplicationError.permission_denied(
            _("You can post officers only to police units of your own jurisdiction.")
        )
    if not can_be_posted_to_station(user):
        raise field_error(
            AllianceErrorCode.NOT_POLICE,
            "user",
            _("Only police officers and police admins can be posted to a police unit."),
        )
    try:
        with transaction.atomic():
            post, _created = StationStaff.objects.get_or_create(
                user=user, station=station, defaults={"granted_by": actor}
            )
    except IntegrityError:
        post = StationStaff.objects.get(user=user, station=station)  # a concurrent identical posting won
    forget_cached_jurisdiction(user)
    return post


def station_staff_remove(*, actor: User, station: Station, user: User) -> None:
    if not can_post_station_staff(actor, station_in_jurisdiction=station.pk in jurisdiction_station_ids(user=actor)):
        raise ApplicationError.permission_denied(
            _("You can post officers only to police units of your own jurisdiction.")
        )
    if user.pk == actor.pk:
        # A police admin who removes their own last post locks themselves out of their jurisdiction.
        raise ApplicationError(
            AllianceErrorCode.CANNOT_REMOVE_OWN_POST, _("You cannot remove yourself from a police unit.")
        )
    deleted, _by_model = StationStaff.objects.filter(user=user, station=station).delete()
    if not deleted:
        raise ApplicationError.not_found()
    forget_cached_jurisdiction(user)
