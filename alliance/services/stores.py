"""Writes on stores: registering, editing, verifying, the photo, and who works there."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.adapter import phone_normalise
from accounts.models import User
from alliance.error_codes import AllianceErrorCode, field_error
from alliance.models import AllianceMembership, Store, StoreStaff
from alliance.permissions import can_edit_store, can_manage_store_staff, can_register_store, can_verify_store
from alliance.selectors.alliances import AllianceAccess, StoreAccess
from alliance.services.alliances import alliance_require_active
from config.errors import ApplicationError
from config.images import image_prepare

STORE_PHOTO_MAX_BYTES = 5 * 1024 * 1024
STORE_PHOTO_MAX_SIDE = 1600
# Editing what the alliance checked (who the store is, where, under which licence) needs checking again.
STORE_FIELDS_NEEDING_VERIFICATION = frozenset({"name", "address", "business_licence_number"})

_SIX_PLACES = Decimal("0.000001")


def _coordinates(latitude: float, longitude: float) -> tuple[Decimal, Decimal]:
    """Six decimal places (about 10 cm); 0,0 is where a phone without a GPS fix puts everything, never a store."""
    lat = Decimal(str(latitude)).quantize(_SIX_PLACES, rounding=ROUND_HALF_UP)
    lon = Decimal(str(longitude)).quantize(_SIX_PLACES, rounding=ROUND_HALF_UP)
    if not Decimal(-90) <= lat <= Decimal(90):
        raise field_error(AllianceErrorCode.INVALID_COORDINATES, "latitude", _("Latitude must be between -90 and 90."))
    if not Decimal(-180) <= lon <= Decimal(180):
        raise field_error(
            AllianceErrorCode.INVALID_COORDINATES, "longitude", _("Longitude must be between -180 and 180.")
        )
    if lat == 0 and lon == 0:
        message = _("The position 0, 0 is in the sea: the phone had no location fix. Place the store on the map.")
        raise ApplicationError(
            AllianceErrorCode.INVALID_COORDINATES, message, fields={"latitude": [message], "longitude": [message]}
        )
    return lat, lon


def store_register(
    *,
    actor: User,
    access: AllianceAccess,
    name: str,
    address: str,
    latitude: float,
    longitude: float,
    category: str = Store.Category.OTHER,
    business_licence_number: str = "",
    opening_hours: str = "",
) -> Store:
    """A merchant member registers their store; it waits for the alliance's admins to verify it."""
    if not can_register_store(actor, access):
        raise ApplicationError.permission_denied(
            _("Only merchants who are members of the alliance register stores in it.")
        )
    alliance_require_active(access.alliance)
    lat, lon = _coordinates(latitude, longitude)
    return Store.objects.create(
        alliance=access.alliance,
        owner=actor,
        name=name,
        category=category,
        address=address,
        latitude=lat,
        longitude=lon,
        business_licence_number=business_licence_number,
        opening_hours=opening_hours,
    )


def store_update(*, actor: User, store_access: StoreAccess, **changes) -> Store:
    """The owner or staff edit the store. Changing its name, address or licence number withdraws the
    verification until the alliance checks again. ``changes``: any of the fields :func:`store_register` takes."""
    store = store_access.store
    if not can_edit_store(actor, store, is_store_staff=store_access.is_store_staff):
        raise ApplicationError.permission_denied(_("Only the store's owner and staff can edit it."))
    if "latitude" in changes or "longitude" in changes:
        changes["latitude"], changes["longitude"] = _coordinates(
            changes.get("latitude", store.latitude), changes.get("longitude", store.longitude)
        )
    fields = [field for field, value in changes.items() if getattr(store, field) != value]
    for field in fields:
        setattr(store, field, changes[field])
    if store.is_verified and STORE_FIELDS_NEEDING_VERIFICATION.intersection(fields):
        store.is_verified, store.verified_by, store.verified_at = False, None, None
        fields += ["is_verified", "verified_by", "verified_at"]
    if fields:
        store.save(update_fields=fields)
    return store


def store_verify(*, actor: User, access: AllianceAccess, store: Store, verified: bool) -> Store:
    if not can_verify_store(actor, access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins verify stores."))
    store.is_verified = verified
    store.verified_by = actor if verified else None
    store.verified_at = timezone.now() if verified else None
    store.save(update_fields=["is_verified", "verified_by", "verified_at"])
    return store


def store_photo_set(*, actor: User, store_access: StoreAccess, upload) -> Store:
    """Replace the store's photo with the upload, checked and re-encoded (no EXIF, so no GPS of the photographer;
    at most 1600 px a side) by ``config.images``. The previous file is deleted once the new one is committed."""
    store = store_access.store
    if not can_edit_store(actor, store, is_store_staff=store_access.is_store_staff):
        raise ApplicationError.permission_denied(_("Only the store's owner and staff can change its photo."))
    try:
        prepared = image_prepare(upload, max_bytes=STORE_PHOTO_MAX_BYTES, max_side=STORE_PHOTO_MAX_SIDE)
    except ApplicationError as exc:
        if "image" in exc.fields:  # the shared checker names its field "image"; here the form field is "photo"
            exc.fields = {"photo": exc.fields.pop("image"), **exc.fields}
        raise
    previous = store.photo.name
    storage = store.photo.storage
    store.photo.save(prepared.image.name, prepared.image, save=False)
    store.save(update_fields=["photo"])
    if previous:
        transaction.on_commit(lambda: storage.delete(previous))
    return store


def store_staff_add(*, actor: User, store_access: StoreAccess, phone: str) -> StoreStaff:
    """Add someone who works in the store, by their mobile number. They must already be in the alliance, so the
    answer tells nothing about numbers outside it."""
    store = store_access.store
    if not can_manage_store_staff(actor, store, store_access.access):
        raise ApplicationError.permission_denied(_("Only the store's owner can manage its staff."))
    try:
        phone = phone_normalise(phone)
    except forms.ValidationError as exc:
        raise field_error(AllianceErrorCode.INVALID_PHONE, "phone", exc.messages[0])
    member = (
        AllianceMembership.objects.select_related("user")
        .filter(alliance_id=store.alliance_id, user__phone=phone, user__is_active=True)
        .first()
    )
    if member is None:
        raise field_error(
            AllianceErrorCode.NOT_ALLIANCE_MEMBER, "phone", _("No member of this alliance has this number.")
        )
    if member.user_id == store.owner_id:
        raise field_error(AllianceErrorCode.OWNER_NOT_STAFF, "phone", _("The owner runs the store already."))
    try:
        with transaction.atomic():
            post, _created = StoreStaff.objects.get_or_create(
                store=store, user=member.user, defaults={"added_by": actor}
            )
    except IntegrityError:
        post = StoreStaff.objects.get(store=store, user=member.user)
    post.user = member.user
    return post


def store_staff_remove(*, actor: User, store_access: StoreAccess, user_id: int) -> None:
    """The owner (or an alliance admin) removes a staff member; staff may also take themselves off."""
    store = store_access.store
    if user_id != actor.pk and not can_manage_store_staff(actor, store, store_access.access):
        raise ApplicationError.permission_denied(_("Only the store's owner can manage its staff."))
    deleted, _by_model = StoreStaff.objects.filter(store=store, user_id=user_id).delete()
    if not deleted:
        raise ApplicationError.not_found()
