"""Reads on police units, alliances, their members and stores, always scoped to what the viewer may see.

Visibility, in one place:
- an alliance: its members, and the police admins whose jurisdiction holds it;
- its members, invites and join requests: the same people (invites and requests only to those who manage it);
- a store: whoever manages its alliance sees every store; other members see verified stores and their own (owned
  or staffed) ones.
Anything else answers 404 in the APIs, never 403, so an id from another alliance tells nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import is_police_admin
from alliance.error_codes import AllianceErrorCode
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
from alliance.permissions import can_manage_alliance, can_view_alliance
from config.errors import ApplicationError
from config.queries import unique_row

_JURISDICTION_CACHE = "_pingan_jurisdiction"


# --- police units and jurisdiction --------------------------------------------------------------------------------


def units_under(units) -> QuerySet[Station]:
    """The police units ``units`` (ids, or a query of ids) and the offices and workstations under them: the one
    reading of the hierarchy downwards. Lazy, so it can sit inside another query.

    Units are at most three tiers deep (station > office > workstation), so parent and grandparent cover them.
    """
    return Station.objects.filter(Q(pk__in=units) | Q(parent_id__in=units) | Q(parent__parent_id__in=units))


def unit_and_units_above(unit: Station) -> list[int]:
    """The ids of ``unit`` and of the units it lies under (its parent and grandparent), nearest first: the one
    reading of the hierarchy upwards, and :func:`units_under` the other way. ``unit`` comes with ``parent``
    selected, so this costs no query."""
    above = [unit.pk]
    if unit.parent_id is not None:
        above.append(unit.parent_id)
        if unit.parent.parent_id is not None:
            above.append(unit.parent.parent_id)
    return above


def jurisdiction_stations(*, user) -> QuerySet[Station]:
    """The police units a police admin answers for: the ones they are posted to and the offices and workstations
    under those; none for anyone who is not a police admin. Lazy, so it can sit inside another query."""
    if not is_police_admin(user):
        return Station.objects.none()
    return units_under(StationStaff.objects.filter(user=user).values("station_id"))


def jurisdiction_station_ids(*, user) -> frozenset[int]:
    """:func:`jurisdiction_stations` as ids: one query, cached on the user object for the request."""
    if not is_police_admin(user):
        return frozenset()
    cached = user.__dict__.get(_JURISDICTION_CACHE)
    if cached is None:
        cached = frozenset(jurisdiction_stations(user=user).values_list("pk", flat=True))
        user.__dict__[_JURISDICTION_CACHE] = cached
    return cached


def jurisdiction_filter(*, user, alliance_path: str = "", station_path: str | None = None) -> Q:
    """A police admin's jurisdiction as a filter on any model: rows whose alliance (reached through
    ``alliance_path``: "" for Alliance itself, "alliance" for a store, "store__alliance" for store staff) has its
    station or office among the admin's units, or, with ``station_path``, whose police unit ("pk" for Station
    itself, "station" for a posting) is one of them. Nothing matches for anyone else. The units are a subquery, so
    the filter adds no round trip. The admin site scopes every page with it (``alliance.admin_scoping``)."""
    stations = jurisdiction_stations(user=user).values("pk")
    if station_path is not None:
        return Q(**{f"{station_path}__in": stations})
    prefix = f"{alliance_path}__" if alliance_path else ""
    return Q(**{f"{prefix}station__in": stations}) | Q(**{f"{prefix}office__in": stations})


def forget_cached_jurisdiction(user) -> None:
    user.__dict__.pop(_JURISDICTION_CACHE, None)


def _in_jurisdiction_q(station_ids, prefix: str = "") -> Q:
    return Q(**{f"{prefix}station_id__in": station_ids}) | Q(**{f"{prefix}office_id__in": station_ids})


def alliance_in_jurisdiction(*, user, alliance: Alliance) -> bool:
    station_ids = jurisdiction_station_ids(user=user)
    return alliance.station_id in station_ids or alliance.office_id in station_ids


def stations_for_police_admin(*, admin) -> QuerySet[Station]:
    return Station.objects.filter(pk__in=jurisdiction_station_ids(user=admin)).select_related("parent")


def station_staff(*, station: Station) -> QuerySet[StationStaff]:
    return StationStaff.objects.filter(station=station).select_related("user", "granted_by")


# --- alliances ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllianceAccess:
    """What one person has in one alliance; ``alliance.permissions`` decides from it what they may do."""

    alliance: Alliance
    membership: AllianceMembership | None
    in_jurisdiction: bool


def _access_with(*, user, alliance: Alliance, membership: AllianceMembership | None) -> AllianceAccess | None:
    access = AllianceAccess(
        alliance=alliance,
        membership=membership,
        in_jurisdiction=alliance_in_jurisdiction(user=user, alliance=alliance),
    )
    return access if can_view_alliance(user, access) else None


def alliance_access_for(*, user, alliance: Alliance) -> AllianceAccess | None:
    """None when the user may not see the alliance at all (callers answer 404)."""
    membership = unique_row(AllianceMembership.objects.filter(alliance=alliance, user=user))
    if membership is not None:
        membership.alliance = alliance
    return _access_with(user=user, alliance=alliance, membership=membership)


def alliance_access(*, user, alliance_id: int) -> AllianceAccess | None:
    """A member's access is one query: the membership joined to its alliance (and the alliance's police units).
    Anyone else (police seeing it through their jurisdiction, strangers) reads the alliance alone; their missing
    membership is already known, so it is not looked up again."""
    membership = (
        unique_row(
            AllianceMembership.objects.select_related("alliance__station", "alliance__office").filter(
                alliance_id=alliance_id, user=user
            )
        )
        if user.is_authenticated
        else None
    )
    if membership is not None:
        return _access_with(user=user, alliance=membership.alliance, membership=membership)
    alliance = unique_row(Alliance.objects.select_related("station", "office").filter(pk=alliance_id))
    if alliance is None:
        return None
    return _access_with(user=user, alliance=alliance, membership=None)


def alliance_access_or_404(*, user, alliance_id: int) -> AllianceAccess:
    """The alliance as ``user`` may act on it, or 404: ids of alliances a person cannot see reveal nothing (never
    403). Every endpoint under ``/alliances/{id}/`` starts here."""
    access = alliance_access(user=user, alliance_id=alliance_id)
    if access is None:
        raise Http404
    return access


def alliance_manager_access_or_403(*, user, alliance_id: int) -> AllianceAccess:
    """:func:`alliance_access_or_404`, then 403 unless ``user`` manages the alliance (``can_manage_alliance``):
    its members may know it exists, but its invites and join requests are for those who run it."""
    access = alliance_access_or_404(user=user, alliance_id=alliance_id)
    if not can_manage_alliance(user, access):
        raise ApplicationError(
            AllianceErrorCode.PERMISSION_DENIED, _("Only the alliance's admins can see this."), status_code=403
        )
    return access


def alliances_for_user(*, user) -> QuerySet[Alliance]:
    """The alliances the user belongs to, and for a police admin every alliance of their jurisdiction, each with
    the user's own role in it (``my_role``, None when not a member) and its member count."""
    mine = AllianceMembership.objects.filter(user=user)
    visible = Q(pk__in=mine.values("alliance_id"))
    station_ids = jurisdiction_station_ids(user=user)
    if station_ids:
        visible |= _in_jurisdiction_q(station_ids)
    return (
        Alliance.objects.filter(visible)
        .select_related("station", "office")
        .annotate(
            my_role=Subquery(mine.filter(alliance=OuterRef("pk")).values("role")[:1]),
            member_count=Subquery(
                AllianceMembership.objects.filter(alliance=OuterRef("pk"))
                .order_by()
                .values("alliance")
                .annotate(count=Count("pk"))
                .values("count")[:1]
            ),
        )
    )


def alliance_members(*, alliance: Alliance) -> QuerySet[AllianceMembership]:
    return AllianceMembership.objects.filter(alliance=alliance).select_related("user")


def alliance_invites(*, alliance: Alliance) -> QuerySet[AllianceInvite]:
    return AllianceInvite.objects.filter(alliance=alliance).select_related("alliance")


def alliance_invites_usable(*, alliance: Alliance) -> QuerySet[AllianceInvite]:
    """The invites that someone could still redeem now: not withdrawn, not expired, not used up."""
    return alliance_invites(alliance=alliance).filter(
        revoked_at__isnull=True, expires_at__gt=timezone.now(), use_count__lt=F("max_uses")
    )


def alliance_join_requests(*, alliance: Alliance) -> QuerySet[AllianceJoinRequest]:
    return AllianceJoinRequest.objects.filter(alliance=alliance).select_related("alliance", "user")


def join_requests_of_user(*, user) -> QuerySet[AllianceJoinRequest]:
    return AllianceJoinRequest.objects.filter(user=user).select_related("alliance", "user")


# --- stores -------------------------------------------------------------------------------------------------------


def stores_for_user(*, user) -> QuerySet[Store]:
    """Every store of the alliances the user manages (the rule of ``can_manage_alliance``, as a query); verified
    stores of the other alliances they belong to; and their own stores, as owner or staff, in those alliances."""
    member_of = AllianceMembership.objects.filter(user=user)
    managed = Q(alliance_id__in=member_of.filter(role=AllianceMembership.Role.ADMIN).values("alliance_id"))
    station_ids = jurisdiction_station_ids(user=user)
    if station_ids:
        managed |= _in_jurisdiction_q(station_ids, prefix="alliance__")
    own = Q(owner=user) | Q(pk__in=StoreStaff.objects.filter(user=user).values("store_id"))
    visible = managed | (Q(alliance_id__in=member_of.values("alliance_id")) & (Q(is_verified=True) | own))
    return Store.objects.filter(visible).select_related("alliance", "owner")


@dataclass(frozen=True)
class StoreAccess:
    store: Store
    access: AllianceAccess
    is_store_staff: bool


def store_access(*, user, store_id: int) -> StoreAccess | None:
    """None when the store is not visible to the user (callers answer 404)."""
    store = stores_for_user(user=user).select_related("alliance__station", "alliance__office").filter(pk=store_id)
    store = store.first()
    if store is None:
        return None
    access = alliance_access_for(user=user, alliance=store.alliance)
    if access is None:  # cannot happen while stores_for_user and can_view_alliance agree; fail closed if not
        return None
    is_store_staff = StoreStaff.objects.filter(store=store, user=user).exists()
    return StoreAccess(store=store, access=access, is_store_staff=is_store_staff)


def store_access_or_404(*, user, store_id: int) -> StoreAccess:
    """The store as ``user`` may act on it, or 404 (never 403): every endpoint under ``/stores/{id}`` starts here."""
    found = store_access(user=user, store_id=store_id)
    if found is None:
        raise Http404
    return found


def store_staff(*, store: Store) -> QuerySet[StoreStaff]:
    return StoreStaff.objects.filter(store=store).select_related("user")
