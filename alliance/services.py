"""Writes on police units, alliances, members, invites, join requests and stores.

Permission checks live in ``accounts.permissions``; callers pass what the viewer has in the alliance
(``alliance.selectors.AllianceAccess``), found by a selector that already answered 404 for outsiders.
Whoever becomes or stops being a member is added to or removed from the alliance's contact groups here, through
``groups.services``, in the same transaction (groups publish their live events after commit).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.adapter import phone_normalise
from accounts.models import User
from accounts.permissions import (
    ALLIANCE_GROUP_ADMIN_ROLES,
    ALLIANCE_INVITE_ROLES,
    can_be_posted_to_station,
    can_create_alliance,
    can_edit_store,
    can_go_on_duty,
    can_hold_alliance_role,
    can_manage_alliance,
    can_manage_store_staff,
    can_post_station_staff,
    can_register_store,
    can_verify_store,
)
from alliance.geojson import BoundaryError, boundary_clean
from alliance.models import (
    Alliance,
    AllianceInvite,
    AllianceJoinRequest,
    AllianceMembership,
    Station,
    StationStaff,
    Store,
    StoreStaff,
)
from alliance.selectors import AllianceAccess, StoreAccess, forget_cached_jurisdiction, jurisdiction_station_ids
from config.errors import ApplicationError
from config.images import image_prepare
from groups.services import contact_groups_create_defaults, contact_groups_member_joined, contact_groups_member_left

MemberRole = AllianceMembership.Role

# No 0/O or 1/I: codes are read out over the phone and typed. 32 ** 12 = 2 ** 60 possible codes.
INVITE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INVITE_CODE_LENGTH = 12
INVITE_DEFAULT_HOURS = 7 * 24
INVITE_MAX_HOURS = 90 * 24
INVITE_DEFAULT_USES = 100
INVITE_MAX_USES = 10_000
# The order in which a role is chosen for someone who joins by an open invite without naming one.
JOIN_ROLE_PREFERENCE = (MemberRole.POLICE_LIAISON, MemberRole.MALL_MANAGER, MemberRole.MERCHANT, MemberRole.VOLUNTEER)

STORE_PHOTO_MAX_BYTES = 5 * 1024 * 1024
STORE_PHOTO_MAX_SIDE = 1600
# Editing what the alliance checked (who the store is, where, under which licence) needs checking again.
STORE_FIELDS_NEEDING_VERIFICATION = frozenset({"name", "address", "business_licence_number"})
_UNCHANGED = object()


def _not_found() -> ApplicationError:
    return ApplicationError("not_found", _("Not found."), status_code=404)


def _denied(message: str) -> ApplicationError:
    return ApplicationError("permission_denied", message, status_code=403)


def _field_error(code: str, field: str, message: str) -> ApplicationError:
    return ApplicationError(code, message, fields={field: [message]})


# --- police units -------------------------------------------------------------------------------------------------


def station_staff_add(*, actor: User, station: Station, user: User) -> StationStaff:
    """Post an officer (or another police admin) to a unit of the actor's jurisdiction. Posting twice is a no-op."""
    if not can_post_station_staff(actor, station_in_jurisdiction=station.pk in jurisdiction_station_ids(user=actor)):
        raise _denied(_("You can post officers only to police units of your own jurisdiction."))
    if not can_be_posted_to_station(user):
        raise _field_error(
            "not_police", "user", _("Only police officers and police admins can be posted to a police unit.")
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
        raise _denied(_("You can post officers only to police units of your own jurisdiction."))
    if user.pk == actor.pk:
        # A police admin who removes their own last post locks themselves out of their jurisdiction.
        raise ApplicationError("cannot_remove_own_post", _("You cannot remove yourself from a police unit."))
    deleted, _by_model = StationStaff.objects.filter(user=user, station=station).delete()
    if not deleted:
        raise _not_found()
    forget_cached_jurisdiction(user)


# --- alliances ----------------------------------------------------------------------------------------------------


def _boundary(value) -> dict | None:
    try:
        return boundary_clean(value)
    except BoundaryError as exc:
        raise _field_error("invalid_boundary", "boundary", str(exc))


def office_fits_station(*, office: Station, station: Station) -> bool:
    """An alliance's office is a community police office or workstation under its police station."""
    under_station = office.parent_id == station.pk or (
        office.parent is not None and office.parent.parent_id == station.pk
    )
    return office.kind != Station.Kind.STATION and under_station


def _check_office(*, office: Station, station: Station) -> None:
    if not office_fits_station(office=office, station=station):
        raise _field_error(
            "invalid_office",
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
        raise _denied(_("You can create alliances only in your own jurisdiction."))
    if station.kind != Station.Kind.STATION:
        raise _field_error(
            "invalid_station",
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
            contact_groups_create_defaults(alliance=alliance)
            alliance_member_add(alliance=alliance, user=actor, role=MemberRole.ADMIN, added_by=actor)
    except IntegrityError:
        if Alliance.objects.filter(slug=slug).exists():
            raise _field_error("slug_taken", "slug", _("Another alliance already has this short name."))
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
        raise _denied(_("Only the alliance's admins can change it."))
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


def _require_active(alliance: Alliance) -> None:
    if alliance.status != Alliance.Status.ACTIVE:
        raise ApplicationError("alliance_inactive", _("This alliance is not active."))


# --- members ------------------------------------------------------------------------------------------------------


def alliance_member_add(
    *, alliance: Alliance, user: User, role: str, added_by: User | None = None
) -> tuple[AllianceMembership, bool]:
    """Make ``user`` a member (or find their membership) and put them in the alliance's contact groups.

    No permission check: the callers (joining, approval, founding an alliance, the demo seed) decide who may join.
    The groups are joined on every call (adding a group member twice changes nothing), so a membership made before
    its alliance had groups catches up the next time it is added.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                membership, created = AllianceMembership.objects.get_or_create(
                    alliance=alliance, user=user, defaults={"role": role, "added_by": added_by}
                )
        except IntegrityError:
            membership, created = AllianceMembership.objects.get(alliance=alliance, user=user), False
        contact_groups_member_joined(alliance=alliance, user=user, admin=membership.role in ALLIANCE_GROUP_ADMIN_ROLES)
    return membership, created


def _ensure_another_admin_remains(*, membership: AllianceMembership) -> None:
    """Caller holds a transaction: the admin rows are locked so two admins leaving at once cannot both succeed."""
    if membership.role != MemberRole.ADMIN:
        return
    admins = list(
        AllianceMembership.objects.select_for_update()
        .filter(alliance_id=membership.alliance_id, role=MemberRole.ADMIN)
        .values_list("pk", flat=True)
    )
    if [pk for pk in admins if pk != membership.pk]:
        return
    raise ApplicationError("last_admin", _("The alliance needs an admin: appoint another admin first."))


def _member_delete(*, alliance: Alliance, membership: AllianceMembership) -> None:
    user = membership.user
    _ensure_another_admin_remains(membership=membership)
    # Store staff are alliance members; whoever leaves the alliance stops working for its stores in the app.
    StoreStaff.objects.filter(store__alliance=alliance, user=user).delete()
    membership.delete()
    contact_groups_member_left(alliance=alliance, user=user)


@transaction.atomic
def alliance_leave(*, user: User, access: AllianceAccess) -> None:
    if access.membership is None:
        raise _not_found()
    _member_delete(alliance=access.alliance, membership=access.membership)


@transaction.atomic
def alliance_member_remove(*, actor: User, access: AllianceAccess, membership: AllianceMembership) -> None:
    """An admin removes a member; a member removing themselves is leaving."""
    if membership.alliance_id != access.alliance.pk:
        raise _not_found()
    if membership.user_id != actor.pk and not can_manage_alliance(actor, access):
        raise _denied(_("Only the alliance's admins can remove members."))
    _member_delete(alliance=access.alliance, membership=membership)


@transaction.atomic
def alliance_member_role_set(
    *, actor: User, access: AllianceAccess, membership: AllianceMembership, role: str
) -> AllianceMembership:
    if membership.alliance_id != access.alliance.pk:
        raise _not_found()
    if not can_manage_alliance(actor, access):
        raise _denied(_("Only the alliance's admins can change members' roles."))
    if membership.role == role:
        return membership
    if not can_hold_alliance_role(membership.user, role):
        raise _field_error(
            "role_not_eligible", "role", _("This person's account cannot take that role in an alliance.")
        )
    if role != MemberRole.ADMIN:
        _ensure_another_admin_remains(membership=membership)
    membership.role = role
    membership.save(update_fields=["role"])
    if role in ALLIANCE_GROUP_ADMIN_ROLES:
        contact_groups_member_joined(alliance=access.alliance, user=membership.user, admin=True)
    return membership


def alliance_duty_set(*, user: User, access: AllianceAccess, on_duty: bool) -> AllianceMembership:
    """A responder says they can (or no longer can) be dispatched. Going on duty twice keeps the first time."""
    membership = access.membership
    if membership is None:
        raise _denied(_("Only members of the alliance go on duty in it."))
    if not can_go_on_duty(user, membership):
        raise ApplicationError(
            "not_a_responder",
            _("Only police, mall managers and volunteers go on duty."),
            status_code=403,
        )
    if membership.on_duty != on_duty:
        membership.on_duty = on_duty
        membership.on_duty_since = timezone.now() if on_duty else None
        membership.save(update_fields=["on_duty", "on_duty_since"])
    return membership


# --- invites and joining ------------------------------------------------------------------------------------------


def _invite_code() -> str:
    return "".join(secrets.choice(INVITE_CODE_ALPHABET) for _position in range(INVITE_CODE_LENGTH))


def alliance_invite_create(
    *,
    actor: User,
    access: AllianceAccess,
    role: str = "",
    auto_approve: bool = False,
    valid_hours: int = INVITE_DEFAULT_HOURS,
    max_uses: int = INVITE_DEFAULT_USES,
) -> AllianceInvite:
    if not can_manage_alliance(actor, access):
        raise _denied(_("Only the alliance's admins can invite people."))
    _require_active(access.alliance)
    if role and role not in ALLIANCE_INVITE_ROLES:
        raise _field_error("invalid_role", "role", _("Invites cannot make people alliance admins."))
    if not 1 <= valid_hours <= INVITE_MAX_HOURS:
        raise _field_error(
            "invalid", "valid_hours", _("Enter a whole number from 1 to %(max)s.") % {"max": INVITE_MAX_HOURS}
        )
    if not 1 <= max_uses <= INVITE_MAX_USES:
        raise _field_error(
            "invalid", "max_uses", _("Enter a whole number from 1 to %(max)s.") % {"max": INVITE_MAX_USES}
        )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return AllianceInvite.objects.create(
                    alliance=access.alliance,
                    code=_invite_code(),
                    role=role,
                    auto_approve=auto_approve,
                    max_uses=max_uses,
                    expires_at=timezone.now() + timedelta(hours=valid_hours),
                    created_by=actor,
                )
        except IntegrityError:
            continue  # a code collision (one in 2**60): draw again
    raise RuntimeError("could not draw a free invite code")


def alliance_invite_revoke(*, actor: User, access: AllianceAccess, invite: AllianceInvite) -> AllianceInvite:
    if not can_manage_alliance(actor, access):
        raise _denied(_("Only the alliance's admins can revoke invites."))
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.revoked_by = actor
        invite.save(update_fields=["revoked_at", "revoked_by"])
    return invite


@dataclass(frozen=True)
class JoinOutcome:
    alliance: Alliance
    role: str
    membership: AllianceMembership | None  # set when the person joined at once
    join_request: AllianceJoinRequest | None  # set when an admin has to approve
    created: bool  # False: an earlier pending request was found and nothing new was made

    @property
    def status(self) -> str:
        return "joined" if self.membership is not None else "pending"


def _invite_refusal(invite: AllianceInvite | None, now) -> ApplicationError | None:
    if invite is None:
        return ApplicationError(
            "invite_not_found", _("There is no invite with this code. Check it and try again."), status_code=404
        )
    if invite.revoked_at is not None:
        return ApplicationError("invite_revoked", _("This invite has been withdrawn."))
    if invite.expires_at <= now:
        return ApplicationError("invite_expired", _("This invite has expired. Ask for a new one."))
    if invite.use_count >= invite.max_uses:
        return ApplicationError("invite_used_up", _("This invite has been used as often as it allows."))
    return None


def _join_role(*, user: User, invite: AllianceInvite, requested: str) -> str:
    if invite.role:
        if requested and requested != invite.role:
            raise _field_error(
                "invite_role_mismatch",
                "role",
                _("This invite is for the role %(role)s.") % {"role": MemberRole(invite.role).label},
            )
        role = invite.role
    elif requested:
        role = requested
    else:
        role = next((r for r in JOIN_ROLE_PREFERENCE if can_hold_alliance_role(user, r)), "")
    if role and role not in ALLIANCE_INVITE_ROLES:
        raise _field_error("invalid_role", "role", _("Nobody joins an alliance as its admin."))
    if not role or not can_hold_alliance_role(user, role):
        raise ApplicationError(
            "role_not_eligible",
            _(
                "Your account cannot take this role in an alliance. Merchants and volunteers register their role "
                "first; police and mall managers get theirs from a police admin."
            ),
            status_code=403,
            fields={"role": [_("Not available to your account.")]},
        )
    return role


@transaction.atomic
def alliance_join(*, user: User, code: str, role: str = "") -> JoinOutcome:
    """Redeem an invite code: join at once if the invite says so, otherwise ask the alliance's admins.

    Each redemption counts one use, taken by a conditional UPDATE so that concurrent redemptions of the last use
    cannot both succeed. Asking again while a request is pending returns that request and uses nothing.
    """
    now = timezone.now()
    invite = AllianceInvite.objects.select_related("alliance").filter(code=code.strip().upper()).first()
    refusal = _invite_refusal(invite, now)
    if refusal:
        raise refusal
    alliance = invite.alliance
    _require_active(alliance)
    role = _join_role(user=user, invite=invite, requested=role)
    if AllianceMembership.objects.filter(alliance=alliance, user=user).exists():
        raise ApplicationError("already_member", _("You are already a member of this alliance."), status_code=409)
    pending = AllianceJoinRequest.objects.filter(
        alliance=alliance, user=user, status=AllianceJoinRequest.Status.PENDING
    ).first()
    if pending is not None and not invite.auto_approve:
        return JoinOutcome(alliance=alliance, role=pending.role, membership=None, join_request=pending, created=False)

    redeemed = AllianceInvite.objects.filter(
        pk=invite.pk, revoked_at__isnull=True, expires_at__gt=now, use_count__lt=F("max_uses")
    ).update(use_count=F("use_count") + 1)
    if not redeemed:
        invite.refresh_from_db()
        raise _invite_refusal(invite, now) or ApplicationError(
            "invite_used_up", _("This invite has been used as often as it allows.")
        )

    if invite.auto_approve:
        membership, created = alliance_member_add(alliance=alliance, user=user, role=role)
        if not created:  # the same person's second tap raced the first: give this use back
            AllianceInvite.objects.filter(pk=invite.pk).update(use_count=F("use_count") - 1)
            return JoinOutcome(
                alliance=alliance, role=membership.role, membership=membership, join_request=None, created=False
            )
        if pending is not None:  # the open invite answered what the admins had not yet
            pending.status = AllianceJoinRequest.Status.APPROVED
            pending.decided_at = now
            pending.save(update_fields=["status", "decided_at"])
        return JoinOutcome(alliance=alliance, role=role, membership=membership, join_request=None, created=True)

    try:
        with transaction.atomic():
            join_request = AllianceJoinRequest.objects.create(alliance=alliance, user=user, role=role, invite=invite)
    except IntegrityError:
        # The same person's second tap raced the first; theirs is the request, and this use is given back.
        AllianceInvite.objects.filter(pk=invite.pk).update(use_count=F("use_count") - 1)
        join_request = AllianceJoinRequest.objects.get(
            alliance=alliance, user=user, status=AllianceJoinRequest.Status.PENDING
        )
        return JoinOutcome(
            alliance=alliance, role=join_request.role, membership=None, join_request=join_request, created=False
        )
    return JoinOutcome(alliance=alliance, role=role, membership=None, join_request=join_request, created=True)


def _locked_pending(join_request: AllianceJoinRequest) -> AllianceJoinRequest:
    """The request again, locked: two admins deciding at once are served one after the other."""
    return AllianceJoinRequest.objects.select_for_update().select_related("alliance", "user").get(pk=join_request.pk)


@transaction.atomic
def join_request_approve(
    *, actor: User, access: AllianceAccess, join_request: AllianceJoinRequest
) -> AllianceJoinRequest:
    if not can_manage_alliance(actor, access):
        raise _denied(_("Only the alliance's admins decide on join requests."))
    join_request = _locked_pending(join_request)
    if join_request.status == AllianceJoinRequest.Status.APPROVED:
        return join_request  # a second tap on "approve"
    if join_request.status != AllianceJoinRequest.Status.PENDING:
        raise ApplicationError("join_request_decided", _("This join request has already been decided."))
    _require_active(join_request.alliance)
    if not can_hold_alliance_role(join_request.user, join_request.role):
        raise ApplicationError(
            "role_not_eligible",
            _("This person no longer holds the role they asked to join with; they have to ask again."),
        )
    alliance_member_add(alliance=join_request.alliance, user=join_request.user, role=join_request.role, added_by=actor)
    join_request.status = AllianceJoinRequest.Status.APPROVED
    join_request.decided_by = actor
    join_request.decided_at = timezone.now()
    join_request.save(update_fields=["status", "decided_by", "decided_at"])
    return join_request


@transaction.atomic
def join_request_reject(
    *, actor: User, access: AllianceAccess, join_request: AllianceJoinRequest
) -> AllianceJoinRequest:
    if not can_manage_alliance(actor, access):
        raise _denied(_("Only the alliance's admins decide on join requests."))
    join_request = _locked_pending(join_request)
    if join_request.status == AllianceJoinRequest.Status.REJECTED:
        return join_request
    if join_request.status != AllianceJoinRequest.Status.PENDING:
        raise ApplicationError("join_request_decided", _("This join request has already been decided."))
    join_request.status = AllianceJoinRequest.Status.REJECTED
    join_request.decided_by = actor
    join_request.decided_at = timezone.now()
    join_request.save(update_fields=["status", "decided_by", "decided_at"])
    return join_request


# --- stores -------------------------------------------------------------------------------------------------------

_SIX_PLACES = Decimal("0.000001")


def _coordinates(latitude: float, longitude: float) -> tuple[Decimal, Decimal]:
    """Six decimal places (about 10 cm); 0,0 is where a phone without a GPS fix puts everything, never a store."""
    lat = Decimal(str(latitude)).quantize(_SIX_PLACES, rounding=ROUND_HALF_UP)
    lon = Decimal(str(longitude)).quantize(_SIX_PLACES, rounding=ROUND_HALF_UP)
    if not Decimal(-90) <= lat <= Decimal(90):
        raise _field_error("invalid_coordinates", "latitude", _("Latitude must be between -90 and 90."))
    if not Decimal(-180) <= lon <= Decimal(180):
        raise _field_error("invalid_coordinates", "longitude", _("Longitude must be between -180 and 180."))
    if lat == 0 and lon == 0:
        message = _("The position 0, 0 is in the sea: the phone had no location fix. Place the store on the map.")
        raise ApplicationError("invalid_coordinates", message, fields={"latitude": [message], "longitude": [message]})
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
        raise _denied(_("Only merchants who are members of the alliance register stores in it."))
    _require_active(access.alliance)
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
        raise _denied(_("Only the store's owner and staff can edit it."))
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
        raise _denied(_("Only the alliance's admins verify stores."))
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
        raise _denied(_("Only the store's owner and staff can change its photo."))
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
        raise _denied(_("Only the store's owner can manage its staff."))
    try:
        phone = phone_normalise(phone)
    except forms.ValidationError as exc:
        raise _field_error("invalid_phone", "phone", exc.messages[0])
    member = (
        AllianceMembership.objects.select_related("user")
        .filter(alliance_id=store.alliance_id, user__phone=phone, user__is_active=True)
        .first()
    )
    if member is None:
        raise _field_error("not_alliance_member", "phone", _("No member of this alliance has this number."))
    if member.user_id == store.owner_id:
        raise _field_error("owner_not_staff", "phone", _("The owner runs the store already."))
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
        raise _denied(_("Only the store's owner can manage its staff."))
    deleted, _by_model = StoreStaff.objects.filter(store=store, user_id=user_id).delete()
    if not deleted:
        raise _not_found()


def alliance_ties_end_for_deleted_account(*, user: User) -> None:
    """Account deletion (accounts.services.user_account_delete): the person leaves every alliance, its groups and
    every store and station post. Unlike leaving by hand this never refuses: the right to delete comes first, and
    an alliance left without an admin gets one from its police admins."""
    for membership in AllianceMembership.objects.filter(user=user).select_related("alliance"):
        StoreStaff.objects.filter(store__alliance=membership.alliance, user=user).delete()
        membership.delete()
        contact_groups_member_left(alliance=membership.alliance, user=user)
    StoreStaff.objects.filter(user=user).delete()
    StationStaff.objects.filter(user=user).delete()
