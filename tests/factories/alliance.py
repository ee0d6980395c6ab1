"""Police units, alliances, members, stores, invites: made through ``alliance``'s services, as the app makes them.

Police units and the first police admin's post are made as the Django admin makes them (there is no API for them);
everything below goes through the same service the API calls. Permission checks are the services' own: a factory
that acts "as" someone passes that person, so a world a factory cannot build is a world the app cannot reach."""

from __future__ import annotations

from decimal import Decimal

from accounts.models import User
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
from alliance.selectors.alliances import alliance_access_for, store_access
from alliance.services.alliances import alliance_create
from alliance.services.invites import alliance_invite_create, alliance_invite_revoke
from alliance.services.joining import alliance_join
from alliance.services.members import alliance_duty_set, alliance_member_add
from alliance.services.stations import station_staff_add
from alliance.services.stores import store_photo_set, store_register, store_staff_add, store_verify
from groups.services.contact_groups import contact_groups_create_defaults

MemberRole = AllianceMembership.Role


def station_make(*, name: str, city: str = "常州", kind: str = Station.Kind.STATION, parent=None) -> Station:
    """A police station, or (``kind`` office/workstation with a ``parent``) a unit under one: the admin site's way."""
    return Station.objects.create(name=name, city=city, kind=kind, parent=parent)


def office_make(*, station: Station, name: str) -> Station:
    """A community police office (警务室) under ``station``."""
    return station_make(name=name, city=station.city, kind=Station.Kind.OFFICE, parent=station)


def station_staff_post(*, station: Station, user: User, by: User | None = None) -> StationStaff:
    """Post ``user`` to a police unit: by the police admin ``by`` through the service, or (no ``by``: the first post
    of a jurisdiction, which only the platform's admin site makes) as the admin site does."""
    if by is not None:
        return station_staff_add(actor=by, station=station, user=user)
    return StationStaff.objects.create(user=user, station=station)


def alliance_make(
    *, name: str, slug: str, station: Station, office: Station | None = None, founder: User | None = None
) -> Alliance:
    """An alliance with its two contact groups. With a ``founder`` (a police admin posted to ``station``) it is
    founded through ``alliance_create`` and the founder is its first admin; without one it is made as the admin
    site makes it, with no member yet."""
    if founder is not None:
        return alliance_create(actor=founder, name=name, slug=slug, station=station, office=office)
    alliance = Alliance.objects.create(name=name, slug=slug, station=station, office=office)
    contact_groups_create_defaults(alliance=alliance)
    return alliance


def member_add(alliance: Alliance, user: User, role: str, *, on_duty: bool = False) -> AllianceMembership:
    """The one way the suite makes an alliance member: ``alliance_member_add`` (membership plus the contact groups,
    as joining and approval do), then, for a responder, ``alliance_duty_set`` as the app's duty switch does."""
    membership, _created = alliance_member_add(alliance=alliance, user=user, role=role)
    if on_duty:
        access = alliance_access_for(user=user, alliance=alliance)
        membership = alliance_duty_set(user=user, access=access, on_duty=True)
    return membership


def store_make(
    *,
    owner: User,
    alliance: Alliance,
    name: str = "花漾花店",
    address: str = "青果巷 12 号",
    latitude: float | Decimal = Decimal("31.777012"),
    longitude: float | Decimal = Decimal("119.956301"),
    **fields,
) -> Store:
    """A store registered by its owner (a merchant member of ``alliance``) through ``store_register``."""
    return store_register(
        actor=owner,
        access=alliance_access_for(user=owner, alliance=alliance),
        name=name,
        address=address,
        latitude=latitude,
        longitude=longitude,
        **fields,
    )


def store_verified(*, store: Store, by: User) -> Store:
    """``store`` verified by the alliance admin ``by``."""
    return store_verify(
        actor=by, access=alliance_access_for(user=by, alliance=store.alliance), store=store, verified=True
    )


def store_photo_make(*, store: Store, upload) -> Store:
    """The store's photo, uploaded by its owner."""
    owner = store.owner
    return store_photo_set(actor=owner, store_access=store_access(user=owner, store_id=store.pk), upload=upload)


def store_staff_make(*, store: Store, user: User) -> StoreStaff:
    """``user`` (a member of the store's alliance) added to the store's staff by its owner."""
    owner = store.owner
    return store_staff_add(actor=owner, store_access=store_access(user=owner, store_id=store.pk), phone=str(user.phone))


def invite_make(*, alliance: Alliance, by: User, **options) -> AllianceInvite:
    """An invite code made by the alliance admin ``by``."""
    return alliance_invite_create(actor=by, access=alliance_access_for(user=by, alliance=alliance), **options)


def invite_revoked(*, invite: AllianceInvite, by: User) -> AllianceInvite:
    """``invite`` withdrawn by the alliance admin ``by``."""
    access = alliance_access_for(user=by, alliance=invite.alliance)
    return alliance_invite_revoke(actor=by, access=access, invite=invite)


def join_request_make(*, invite: AllianceInvite, user: User) -> AllianceJoinRequest:
    """``user`` asks to join with an invite that needs approval: the pending request."""
    return alliance_join(user=user, code=invite.code).join_request
