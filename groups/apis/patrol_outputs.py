"""What the patrol geography endpoints answer: zones, grids, routes with checkpoints, support points, and the map
(one GeoJSON FeatureCollection).

Positions are stored in WGS-84; an app drawing on Amap or Tencent maps asks ``?coordinate_system=gcj02`` and gets
every position and polygon converted (``config.coordinates.wgs84_to_gcj02``), so it can put them straight on its map.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from config.coordinates import COORDINATE_SYSTEMS, GCJ02, WGS84, wgs84_to_gcj02
from config.errors import ApplicationError
from config.serializer_fields import BoundaryField, NamedChoiceField
from groups.models import CoordinateSystem, PatrolZone, SupportPoint
from groups.selectors.patrol_zones import PatrolMap

COORDINATE_SYSTEM_PARAMETER = OpenApiParameter(
    "coordinate_system",
    str,
    enum=list(COORDINATE_SYSTEMS),
    description="The coordinate system of the positions in the answer: wgs84 (default, GPS) or gcj02 (Amap, Tencent).",
)


def coordinate_system_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=CoordinateSystem.choices, enum_name="CoordinateSystemEnum", **kwargs)


def output_coordinate_system(request) -> str:
    """The ``coordinate_system`` the caller asked the answer in (default WGS-84); anything else is a 400."""
    system = request.query_params.get("coordinate_system") or WGS84
    if system not in COORDINATE_SYSTEMS:
        raise ApplicationError.invalid(
            "coordinate_system",
            _("The coordinate system is one of: %(systems)s.") % {"systems": ", ".join(COORDINATE_SYSTEMS)},
        )
    return system


class CoordinateSystemFilter(django_filters.FilterSet):
    """Lists take ``?coordinate_system=`` for their answer's positions; it filters nothing."""

    coordinate_system = django_filters.ChoiceFilter(choices=CoordinateSystem.choices, method="_answer_only")

    def _answer_only(self, queryset, name, value):
        return queryset


def position_out(latitude: float, longitude: float, system: str) -> tuple[float, float]:
    return wgs84_to_gcj02(latitude, longitude) if system == GCJ02 else (latitude, longitude)


def boundary_out(boundary: dict, system: str) -> dict:
    if system != GCJ02:
        return boundary
    rings = []
    for ring in boundary["coordinates"]:
        moved = []
        for longitude, latitude in ring:
            latitude, longitude = wgs84_to_gcj02(latitude, longitude)
            moved.append([longitude, latitude])
        rings.append(moved)
    return {"type": "Polygon", "coordinates": rings}


class _PositionedOutput(serializers.Serializer):
    """Positions and polygons in the coordinate system the context names (``coordinate_system``, default WGS-84)."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        system = self.context.get("coordinate_system", WGS84)
        if system != WGS84:
            if "latitude" in data:
                data["latitude"], data["longitude"] = position_out(data["latitude"], data["longitude"], system)
            if "boundary" in data:
                data["boundary"] = boundary_out(data["boundary"], system)
        return data


class PatrolZoneOutput(_PositionedOutput):
    id = serializers.IntegerField()
    alliance = serializers.IntegerField(source="alliance_id")
    name = serializers.CharField()
    risk_grade = NamedChoiceField(choices=PatrolZone.RiskGrade.choices, enum_name="PatrolRiskGradeEnum")
    boundary = BoundaryField()
    focus_starts = serializers.TimeField(allow_null=True)
    focus_ends = serializers.TimeField(allow_null=True)
    is_archived = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class PatrolGridOutput(_PositionedOutput):
    id = serializers.IntegerField()
    zone = serializers.IntegerField(source="zone_id")
    name = serializers.CharField()
    boundary = BoundaryField()
    created_at = serializers.DateTimeField()


class CheckpointOutput(_PositionedOutput):
    id = serializers.IntegerField()
    route = serializers.IntegerField(source="route_id")
    position = serializers.IntegerField()
    name = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    radius_metres = serializers.IntegerField()
    qr_version = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class PatrolRouteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = serializers.IntegerField(source="alliance_id")
    zone = serializers.IntegerField(source="zone_id", allow_null=True)
    name = serializers.CharField()
    is_archived = serializers.BooleanField()
    checkpoints = CheckpointOutput(many=True)  # in order, prefetched by the selector
    created_at = serializers.DateTimeField()


class SupportPointOutput(_PositionedOutput):
    id = serializers.IntegerField()
    alliance = serializers.IntegerField(source="alliance_id")
    kind = NamedChoiceField(choices=SupportPoint.Kind.choices, enum_name="SupportPointKindEnum")
    name = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    ring_metres = serializers.ListField(child=serializers.IntegerField())
    created_at = serializers.DateTimeField()


# --- the map: one GeoJSON FeatureCollection -----------------------------------------------------------------------


class PatrolMapOutput(serializers.Serializer):
    """A GeoJSON FeatureCollection. Each feature's ``properties.layer`` says what it is: "zone" (Polygon, with its
    risk grade), "route" (LineString through its checkpoints in order; no geometry below two checkpoints),
    "checkpoint" (Point, with its radius) or "support_point" (Point, with its rings in metres)."""

    type = serializers.ChoiceField(choices=["FeatureCollection"])
    coordinate_system = coordinate_system_field()
    features = serializers.ListField(child=serializers.DictField())


def _point(latitude: float, longitude: float, system: str) -> dict:
    latitude, longitude = position_out(latitude, longitude, system)
    return {"type": "Point", "coordinates": [longitude, latitude]}


def _feature(geometry: dict | None, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def patrol_map_geojson(patrol_map: PatrolMap, *, system: str) -> dict:
    features = []
    for zone in patrol_map.zones:
        features.append(
            _feature(
                boundary_out(zone.boundary, system),
                layer="zone",
                id=zone.pk,
                name=zone.name,
                risk_grade=zone.risk_grade,
                focus_starts=zone.focus_starts.isoformat() if zone.focus_starts else None,
                focus_ends=zone.focus_ends.isoformat() if zone.focus_ends else None,
            )
        )
    for route in patrol_map.routes:
        checkpoints = list(route.checkpoints.all())
        line = [_point(point.latitude, point.longitude, system)["coordinates"] for point in checkpoints]
        geometry = {"type": "LineString", "coordinates": line} if len(line) >= 2 else None
        features.append(_feature(geometry, layer="route", id=route.pk, name=route.name, zone=route.zone_id))
        for point in checkpoints:
            features.append(
                _feature(
                    _point(point.latitude, point.longitude, system),
                    layer="checkpoint",
                    id=point.pk,
                    route=route.pk,
                    position=point.position,
                    name=point.name,
                    radius_metres=point.radius_metres,
                )
            )
    for point in patrol_map.support_points:
        features.append(
            _feature(
                _point(point.latitude, point.longitude, system),
                layer="support_point",
                id=point.pk,
                kind=point.kind,
                name=point.name,
                ring_metres=point.ring_metres,
            )
        )
    return {"type": "FeatureCollection", "coordinate_system": system, "features": features}
