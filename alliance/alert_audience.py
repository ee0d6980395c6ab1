"""Who is in an alert's audience, read both ways: a person's keys (their inbox) and a place's people (the count, the
live delivery, the push, the stores that have not read it).

An audience is places (police units, alliances, patrol zones, contact groups), optionally narrowed to alliance roles
(merchants, volunteers, ...). Each place is a key: ``station:3`` (everyone in the alliances of unit 3 and the units
under it), ``alliance:12``, ``zone:7``, ``group:40``; a role narrows it: ``alliance:12:merchant``. A person holds,
per alliance membership, the keys of every place they are in, bare and with their role there, so an alert matches
them when one of its keys is among theirs: one indexed query (``alliance/selectors/alerts.py``).

The other way, every place kind names its people as a filter on :class:`AllianceMembership` (a person counts
through the alliance they are in the place by), so the whole audience is ONE query over memberships, whatever the
mix of places.

Zones and contact groups live in ``groups``, above this app: ``groups/alert_audience.py`` registers those two kinds
here from its ``AppConfig.ready()``. Both directions of a kind sit side by side in one class, and
``tests/alliance/test_alert_audience.py`` checks they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.db.models import Q, QuerySet

from alliance.models import Alliance, AllianceMembership, AudienceKind, Station
from alliance.selectors.alliances import unit_and_units_above, units_under

AUDIENCE_ROLES = tuple(AllianceMembership.Role.values)
# The spec's keys, in the order the police pick them, and the place kind each holds.
SPEC_PLACES = {"stations": AudienceKind.STATION, "alliances": AudienceKind.ALLIANCE, "zones": AudienceKind.ZONE,
               "groups": AudienceKind.GROUP}  # fmt: skip


@dataclass(frozen=True)
class PersonPlace:
    """A place the person is in, through a membership: the key's kind and id, and the alliance and role there."""

    kind: str
    target_id: int
    alliance_id: int
    role: str


@dataclass
class AudienceSpec:
    stations: list[int] = field(default_factory=list)
    alliances: list[int] = field(default_factory=list)
    zones: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict | None) -> AudienceSpec:
        data = data or {}
        return cls(**{name: list(data.get(name) or []) for name in (*SPEC_PLACES, "roles")})

    def as_json(self) -> dict:
        return {name: sorted(set(getattr(self, name))) for name in (*SPEC_PLACES, "roles")}

    def places(self) -> dict[str, list[int]]:
        """{kind: target ids} of the places named."""
        return {kind: sorted(set(getattr(self, name))) for name, kind in SPEC_PLACES.items() if getattr(self, name)}

    def is_empty(self) -> bool:
        return not self.places()


def audience_key(kind: str, target_id: int, role: str = "") -> str:
    return f"{kind}:{target_id}:{role}" if role else f"{kind}:{target_id}"


def audience_keys_of_spec(spec: AudienceSpec) -> list[tuple[str, int, str, str]]:
    """(kind, target id, role, key) for each place, once per role when roles narrow the audience."""
    roles = sorted(set(spec.roles)) or [""]
    return [
        (kind, target_id, role, audience_key(kind, target_id, role))
        for kind, target_ids in spec.places().items()
        for target_id in target_ids
        for role in roles
    ]


class AudienceKindResolver(Protocol):
    kind: str

    def targets_within(self, *, target_ids: list[int], unit_ids: frozenset[int]) -> set[int]:
        """Of ``target_ids``, those that exist and lie within the police units ``unit_ids`` (a jurisdiction)."""

    def person_places(self, *, user, memberships: list[AllianceMembership]) -> list[PersonPlace]:
        """The places of this kind ``user`` is in (``memberships`` are theirs, with alliance and its units)."""

    def memberships_q(self, *, target_ids: list[int]) -> Q:
        """The memberships through which people are in these places, as a filter on AllianceMembership."""

    def target_names(self, *, target_ids: list[int]) -> dict[int, str]:
        """{id: name} for showing the audience."""


class StationAudience:
    """Everyone in the alliances whose police station or community police office is the unit or lies under it."""

    kind = AudienceKind.STATION

    def targets_within(self, *, target_ids, unit_ids):
        return set(Station.objects.filter(pk__in=target_ids).filter(pk__in=unit_ids).values_list("pk", flat=True))

    def person_places(self, *, user, memberships):
        places = []
        for membership in memberships:
            alliance = membership.alliance
            units = set(unit_and_units_above(alliance.station))
            if alliance.office_id is not None:
                units.update(unit_and_units_above(alliance.office))
            places += [PersonPlace(self.kind, unit, alliance.pk, membership.role) for unit in sorted(units)]
        return places

    def memberships_q(self, *, target_ids):
        units = units_under(target_ids).values("pk")
        return Q(alliance__station__in=units) | Q(alliance__office__in=units)

    def target_names(self, *, target_ids):
        return dict(Station.objects.filter(pk__in=target_ids).values_list("pk", "name"))


class AllianceAudience:
    kind = AudienceKind.ALLIANCE

    def targets_within(self, *, target_ids, unit_ids):
        alliances = Alliance.objects.filter(pk__in=target_ids).filter(
            Q(station_id__in=unit_ids) | Q(office_id__in=unit_ids)
        )
        return set(alliances.values_list("pk", flat=True))

    def person_places(self, *, user, memberships):
        return [PersonPlace(self.kind, m.alliance_id, m.alliance_id, m.role) for m in memberships]

    def memberships_q(self, *, target_ids):
        return Q(alliance_id__in=target_ids)

    def target_names(self, *, target_ids):
        return dict(Alliance.objects.filter(pk__in=target_ids).values_list("pk", "name"))


_resolvers: dict[str, AudienceKindResolver] = {}


def alert_audience_kind_register(resolver: AudienceKindResolver) -> None:
    """Called from an ``AppConfig.ready()`` (``groups`` registers zones and contact groups)."""
    _resolvers[resolver.kind] = resolver


alert_audience_kind_register(StationAudience())
alert_audience_kind_register(AllianceAudience())


def audience_resolver(kind: str) -> AudienceKindResolver:
    return _resolvers[kind]


def _person_memberships(user) -> list[AllianceMembership]:
    return list(
        AllianceMembership.objects.filter(user=user).select_related(
            "alliance__station__parent", "alliance__office__parent"
        )
    )


def person_places(*, user) -> list[PersonPlace]:
    """Every place ``user`` is in, through each of their memberships."""
    memberships = _person_memberships(user)
    if not memberships:
        return []
    places: list[PersonPlace] = []
    for resolver in _resolvers.values():
        places += resolver.person_places(user=user, memberships=memberships)
    return places


def person_audience_keys(*, user) -> dict[str, int]:
    """{key: alliance id} for every key ``user`` holds: each place bare and with their role there. Where a key comes
    through two alliances, the one with the smaller id wins (a stable choice for where an acknowledgement counts)."""
    keys: dict[str, int] = {}
    for place in sorted(person_places(user=user), key=lambda p: p.alliance_id):
        keys.setdefault(audience_key(place.kind, place.target_id), place.alliance_id)
        keys.setdefault(audience_key(place.kind, place.target_id, place.role), place.alliance_id)
    return keys


def audience_memberships(spec: AudienceSpec) -> QuerySet[AllianceMembership]:
    """The memberships through which people are in the audience: one query whatever the places (lazy)."""
    places = spec.places()
    if not places:
        return AllianceMembership.objects.none()
    where = Q()
    for kind, target_ids in places.items():
        where |= _resolvers[kind].memberships_q(target_ids=target_ids)
    memberships = AllianceMembership.objects.filter(where)
    if spec.roles:
        memberships = memberships.filter(role__in=spec.roles)
    return memberships


def audience_user_ids(spec: AudienceSpec) -> QuerySet:
    """The people in the audience, each once, as a lazy query of user ids (fit for ``user_id__in=``)."""
    return audience_memberships(spec).values("user_id").distinct()


def audience_targets_outside(spec: AudienceSpec, *, unit_ids: frozenset[int]) -> dict[str, list[int]]:
    """{spec name: ids} of the places that do not exist or lie outside ``unit_ids``; empty when all are inside."""
    outside: dict[str, list[int]] = {}
    for name, kind in SPEC_PLACES.items():
        wanted = sorted(set(getattr(spec, name)))
        if not wanted:
            continue
        inside = _resolvers[kind].targets_within(target_ids=wanted, unit_ids=unit_ids)
        missing = [target_id for target_id in wanted if target_id not in inside]
        if missing:
            outside[name] = missing
    return outside


def audience_names(specs: list[AudienceSpec]) -> dict[str, dict[int, str]]:
    """{spec name: {id: name}} for every place the specs name: one query per kind of place, for a whole page."""
    names: dict[str, dict[int, str]] = {}
    for name, kind in SPEC_PLACES.items():
        ids = sorted({target_id for spec in specs for target_id in getattr(spec, name)})
        names[name] = _resolvers[kind].target_names(target_ids=ids) if ids else {}
    return names


def audience_described(spec: AudienceSpec, names: dict[str, dict[int, str]] | None = None) -> dict[str, list[dict]]:
    """The spec with names, for showing it: {"stations": [{"id", "name"}], ..., "roles": [...]}. ``names`` from
    :func:`audience_names` when a page of alerts is shown."""
    names = audience_names([spec]) if names is None else names
    described: dict[str, list[dict]] = {}
    for name in SPEC_PLACES:
        ids = sorted(set(getattr(spec, name)))
        described[name] = [{"id": target_id, "name": names[name].get(target_id, "")} for target_id in ids]
    described["roles"] = sorted(set(spec.roles))
    return described
