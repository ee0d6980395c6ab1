"""The two kinds of alert audience that live in ``groups``: patrol zones and contact groups, both directions of each
side by side (``alliance/alert_audience.py`` says how an audience is read; ``GroupsConfig.ready()`` registers these).

A zone's people, through the zone's alliance: the owners and staff of the alliance's stores whose position lies in
the zone's boundary (edge included, as ``zones_containing`` decides it), and the members of the alliance's patrol
teams that patrol there: an active shift template in the zone, or a scheduled shift there that has not ended. A
contact group's people are its members, each through their membership of the group's alliance (so roles narrow
it). Archived zones, groups and teams hold nobody.

Each rule below is written once and read both ways (``memberships_q``: a place's people; ``person_places``: a
person's places), so the inbox and the delivery cannot disagree; ``tests/alliance/test_alert_audience.py`` checks it.
"""

from __future__ import annotations

from django.db.models import DecimalField, Exists, F, FilteredRelation, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from alliance.alert_audience import PersonPlace, alert_audience_kind_register
from alliance.models import AllianceMembership, AudienceKind, Store, StoreStaff
from groups.models import ContactGroup, GroupMembership, PatrolTeamMember, PatrolZone, Shift, ShiftTemplate
from groups.patrol_geometry import zone_covers

# A zone that a team patrols comes with no store position (the union's other half has one per store).
_NO_COORDINATE = Value(None, output_field=DecimalField(max_digits=9, decimal_places=6))


def _in_units(unit_ids: frozenset[int]) -> Q:
    """The place's alliance has its police station or its community police office among ``unit_ids``."""
    return Q(alliance__station_id__in=unit_ids) | Q(alliance__office_id__in=unit_ids)


def _by_role(memberships: list[AllianceMembership]) -> dict[int, str]:
    return {membership.alliance_id: membership.role for membership in memberships}


# --- zones --------------------------------------------------------------------------------------------------------


def _templates_patrolling() -> QuerySet[ShiftTemplate]:
    """Templates that put their team in their zone: active, not past their last day, the team and the zone in use
    and of the same alliance."""
    return ShiftTemplate.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=timezone.localdate()),
        is_active=True,
        team__is_archived=False,
        zone__is_archived=False,
        zone__alliance_id=F("team__alliance_id"),
    )


def _shifts_patrolling() -> QuerySet[Shift]:
    """Shifts that put their team in their zone: scheduled and not ended (upcoming or under way)."""
    return Shift.objects.filter(
        status=Shift.Status.SCHEDULED,
        ends_at__gt=timezone.now(),
        team__is_archived=False,
        zone__is_archived=False,
        zone__alliance_id=F("team__alliance_id"),
    )


def _store_ids_in_zones(zones: list[PatrolZone]) -> set[int]:
    """The stores of each zone's alliance inside the zone: the bounding-box columns narrow the rows, shapely decides
    on the boundary (``zone_covers``, the same test ``zones_containing`` makes the other way)."""
    inside: set[int] = set()
    for zone in zones:
        candidates = Store.objects.filter(
            alliance_id=zone.alliance_id,
            # A hair wider than the box: the store's decimal column and the box's floats must not round a store on
            # the edge out before shapely sees it.
            latitude__gte=zone.min_latitude - 1e-6,
            latitude__lte=zone.max_latitude + 1e-6,
            longitude__gte=zone.min_longitude - 1e-6,
            longitude__lte=zone.max_longitude + 1e-6,
        ).values_list("pk", "latitude", "longitude")
        inside.update(
            pk
            for pk, latitude, longitude in candidates
            if zone_covers(zone.boundary, latitude=float(latitude), longitude=float(longitude))
        )
    return inside


class ZoneAudience:
    kind = AudienceKind.ZONE

    def targets_within(self, *, target_ids, unit_ids):
        zones = PatrolZone.objects.filter(pk__in=target_ids, is_archived=False).filter(_in_units(unit_ids))
        return set(zones.values_list("pk", flat=True))

    def person_places(self, *, user, memberships):
        """One query: each of the person's stores with every zone in use of its alliance, and the zones their teams
        patrol; shapely decides which zones hold the stores (edge included, as ``zones_containing`` decides)."""
        roles = _by_role(memberships)
        alliance_ids = list(roles)
        theirs = Q(owner=user) | Q(pk__in=StoreStaff.objects.filter(user=user).values("store_id"))
        stores_in_zones = (
            Store.objects.filter(theirs, alliance_id__in=alliance_ids)
            .annotate(
                zone=FilteredRelation("alliance__patrol_zones", condition=Q(alliance__patrol_zones__is_archived=False))
            )
            .filter(zone__isnull=False)
            .values_list("zone__id", "alliance_id", "zone__boundary", "latitude", "longitude")
            .order_by()  # SQLite takes no ORDER BY inside a UNION
        )
        teams = PatrolTeamMember.objects.filter(user=user).values("team_id")
        patrolled = (
            PatrolZone.objects.filter(is_archived=False, alliance_id__in=alliance_ids)
            .filter(
                Q(pk__in=_templates_patrolling().filter(team_id__in=teams).values("zone_id"))
                | Q(pk__in=_shifts_patrolling().filter(team_id__in=teams).values("zone_id"))
            )
            .annotate(no_latitude=_NO_COORDINATE, no_longitude=_NO_COORDINATE)
            .values_list("pk", "alliance_id", "boundary", "no_latitude", "no_longitude")
            .order_by()
        )
        zone_alliances: set[tuple[int, int]] = set()
        for zone_id, alliance_id, boundary, latitude, longitude in stores_in_zones.union(patrolled, all=True):
            if latitude is None or zone_covers(boundary, latitude=float(latitude), longitude=float(longitude)):
                zone_alliances.add((zone_id, alliance_id))
        return [
            PersonPlace(self.kind, zone_id, alliance_id, roles[alliance_id])
            for zone_id, alliance_id in sorted(zone_alliances)
        ]

    def memberships_q(self, *, target_ids):
        zones = list(
            PatrolZone.objects.filter(pk__in=target_ids, is_archived=False).only(
                "alliance_id", "boundary", "min_latitude", "max_latitude", "min_longitude", "max_longitude"
            )
        )
        if not zones:
            return Q(pk__in=[])
        zone_ids = [zone.pk for zone in zones]
        store_ids = _store_ids_in_zones(zones)
        # Each person counts through the alliance of the store or team that puts them there (the zone's alliance).
        owners = Store.objects.filter(
            pk__in=store_ids, alliance_id=OuterRef("alliance_id"), owner_id=OuterRef("user_id")
        )
        staff = StoreStaff.objects.filter(
            store_id__in=store_ids, store__alliance_id=OuterRef("alliance_id"), user_id=OuterRef("user_id")
        )
        patrolling_teams = Q(team_id__in=_templates_patrolling().filter(zone_id__in=zone_ids).values("team_id")) | Q(
            team_id__in=_shifts_patrolling().filter(zone_id__in=zone_ids).values("team_id")
        )
        patrollers = PatrolTeamMember.objects.filter(
            patrolling_teams, team__alliance_id=OuterRef("alliance_id"), user_id=OuterRef("user_id")
        )
        where = Q(Exists(patrollers))
        if store_ids:
            where |= Q(Exists(owners)) | Q(Exists(staff))
        return where

    def target_names(self, *, target_ids):
        return dict(PatrolZone.objects.filter(pk__in=target_ids).values_list("pk", "name"))


# --- contact groups -----------------------------------------------------------------------------------------------


class GroupAudience:
    kind = AudienceKind.GROUP

    def targets_within(self, *, target_ids, unit_ids):
        groups = ContactGroup.objects.filter(pk__in=target_ids, is_archived=False).filter(_in_units(unit_ids))
        return set(groups.values_list("pk", flat=True))

    def person_places(self, *, user, memberships):
        roles = _by_role(memberships)
        in_groups = GroupMembership.objects.filter(
            user=user, group__is_archived=False, group__alliance_id__in=roles
        ).values_list("group_id", "group__alliance_id")
        return [
            PersonPlace(self.kind, group_id, alliance_id, roles[alliance_id])
            for group_id, alliance_id in sorted(in_groups)
        ]

    def memberships_q(self, *, target_ids):
        in_groups = GroupMembership.objects.filter(
            group_id__in=target_ids,
            group__is_archived=False,
            group__alliance_id=OuterRef("alliance_id"),
            user_id=OuterRef("user_id"),
        )
        return Q(Exists(in_groups))

    def target_names(self, *, target_ids):
        return dict(ContactGroup.objects.filter(pk__in=target_ids).values_list("pk", "name"))


def alert_audience_kinds_register() -> None:
    """Called from ``GroupsConfig.ready()``."""
    alert_audience_kind_register(ZoneAudience())
    alert_audience_kind_register(GroupAudience())
