"""HTTP endpoints for patrol geography: an alliance's zones and their grids, routes and their checkpoints, support
points, and the map of all of them in one GeoJSON answer.

Members of the alliance read; the police admins of its jurisdiction write (the services check it). Positions are
received in the ``coordinate_system`` the body names and answered in the one ``?coordinate_system=`` asks.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.selectors.alliances import AllianceAccess, alliance_access_or_404
from config.errors import ApplicationError
from config.serializer_fields import BoundaryField, IdField, NamedChoiceField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body
from groups.apis.patrol_outputs import (
    COORDINATE_SYSTEM_PARAMETER,
    CheckpointOutput,
    CoordinateSystemFilter,
    PatrolGridOutput,
    PatrolMapOutput,
    PatrolRouteOutput,
    PatrolZoneOutput,
    SupportPointOutput,
    coordinate_system_field,
    output_coordinate_system,
    patrol_map_geojson,
)
from groups.models import PatrolGrid, PatrolRoute, PatrolZone, SupportPoint
from groups.selectors import patrol_zones as selectors
from groups.services import patrol_zones as services

# --- inputs -------------------------------------------------------------------------------------------------------


class _ZoneFieldsInput(InputSerializer):
    name = StrictCharField(max_length=100)
    risk_grade = NamedChoiceField(choices=PatrolZone.RiskGrade.choices, enum_name="PatrolRiskGradeEnum")
    boundary = BoundaryField()
    coordinate_system = coordinate_system_field(required=False)
    focus_starts = serializers.TimeField(required=False, allow_null=True)
    focus_ends = serializers.TimeField(required=False, allow_null=True)


class _GridFieldsInput(InputSerializer):
    name = StrictCharField(max_length=100)
    boundary = BoundaryField()
    coordinate_system = coordinate_system_field(required=False)


class _PositionInput(InputSerializer):
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    coordinate_system = coordinate_system_field(required=False)


class CheckpointInput(_PositionInput):
    name = StrictCharField(max_length=100)
    radius_metres = serializers.IntegerField(min_value=5, max_value=1000, required=False)
    position = serializers.IntegerField(min_value=1, max_value=services.MAX_CHECKPOINT_POSITION, required=False)


class _RouteFieldsInput(InputSerializer):
    name = StrictCharField(max_length=100)
    zone = IdField(required=False, allow_null=True)


class _SupportPointFieldsInput(_PositionInput):
    kind = NamedChoiceField(choices=SupportPoint.Kind.choices, enum_name="SupportPointKindEnum")
    name = StrictCharField(max_length=100)
    ring_metres = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=services.MAX_RING_METRES),
        max_length=services.MAX_RINGS,
        required=False,
        allow_null=True,
    )


def _zone_in(access: AllianceAccess, zone_id: int | None) -> PatrolZone | None:
    """The zone a route names, of the same alliance, or a 404 naming the field."""
    if zone_id is None:
        return None
    zone = PatrolZone.objects.filter(alliance=access.alliance, pk=zone_id).first()
    if zone is None:
        raise ApplicationError.not_found(zone=[_("Not found.")])
    return zone


class _PositionedListApi(generics.ListAPIView):
    filterset_class = CoordinateSystemFilter

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "coordinate_system": output_coordinate_system(self.request)}


def _context(request) -> dict:
    return {"coordinate_system": output_coordinate_system(request)}


# --- zones --------------------------------------------------------------------------------------------------------


class AlliancePatrolZonesApi(_PositionedListApi):
    """The alliance's patrol zones in use, to its members and the police admins of its jurisdiction."""

    serializer_class = PatrolZoneOutput

    class PatrolZoneCreateInput(_ZoneFieldsInput):
        pass

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PatrolZone.objects.none()
        access = alliance_access_or_404(user=self.request.user, alliance_id=self.kwargs["alliance_id"])
        return selectors.patrol_zones_of_alliance(alliance=access.alliance)

    @extend_schema(
        operation_id="patrol_zones_create",
        request=PatrolZoneCreateInput,
        responses={201: PatrolZoneOutput},
        summary="Police admins: draw a patrol zone (GeoJSON Polygon; coordinate_system gcj02 for a polygon from Amap)",
    )
    def post(self, request, alliance_id: int):
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.PatrolZoneCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        zone = services.patrol_zone_create(
            actor=request.user, access=access, alliance=access.alliance, **data.validated_data
        )
        return Response(PatrolZoneOutput(zone).data, status=status.HTTP_201_CREATED)


class PatrolZoneDetailApi(APIView):
    class PatrolZoneUpdateInput(_ZoneFieldsInput):
        pass

    @extend_schema(
        operation_id="patrol_zones_retrieve", parameters=[COORDINATE_SYSTEM_PARAMETER], responses=PatrolZoneOutput
    )
    def get(self, request, zone_id: int):
        zone = selectors.patrol_zone_access_or_404(user=request.user, zone_id=zone_id).found
        return Response(PatrolZoneOutput(zone, context=_context(request)).data)

    @extend_schema(operation_id="patrol_zones_update", request=PatrolZoneUpdateInput, responses=PatrolZoneOutput)
    def patch(self, request, zone_id: int):
        found = selectors.patrol_zone_access_or_404(user=request.user, zone_id=zone_id)
        data = self.PatrolZoneUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        zone = services.patrol_zone_update(
            actor=request.user, access=found.access, zone=found.found, **data.validated_data
        )
        return Response(PatrolZoneOutput(zone).data)

    @extend_schema(
        operation_id="patrol_zones_archive",
        request=NoBodyInput,
        responses={204: None},
        summary="Police admins: archive the zone (past shifts and statistics keep naming it)",
    )
    def delete(self, request, zone_id: int):
        no_body(request)
        found = selectors.patrol_zone_access_or_404(user=request.user, zone_id=zone_id)
        services.patrol_zone_archive(actor=request.user, access=found.access, zone=found.found)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PatrolZoneGridsApi(_PositionedListApi):
    """The grids (网格) of a zone."""

    serializer_class = PatrolGridOutput

    class PatrolGridCreateInput(_GridFieldsInput):
        pass

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PatrolGrid.objects.none()
        found = selectors.patrol_zone_access_or_404(user=self.request.user, zone_id=self.kwargs["zone_id"])
        return selectors.patrol_grids_of_zone(zone=found.found)

    @extend_schema(
        operation_id="patrol_grids_create",
        request=PatrolGridCreateInput,
        responses={201: PatrolGridOutput},
        summary="Police admins: draw a grid inside the zone",
    )
    def post(self, request, zone_id: int):
        found = selectors.patrol_zone_access_or_404(user=request.user, zone_id=zone_id)
        data = self.PatrolGridCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        grid = services.patrol_grid_create(
            actor=request.user, access=found.access, zone=found.found, **data.validated_data
        )
        return Response(PatrolGridOutput(grid).data, status=status.HTTP_201_CREATED)


class PatrolGridDetailApi(APIView):
    class PatrolGridUpdateInput(_GridFieldsInput):
        pass

    @extend_schema(operation_id="patrol_grids_update", request=PatrolGridUpdateInput, responses=PatrolGridOutput)
    def patch(self, request, grid_id: int):
        found = selectors.patrol_grid_access_or_404(user=request.user, grid_id=grid_id)
        data = self.PatrolGridUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        grid = services.patrol_grid_update(
            actor=request.user, access=found.access, grid=found.found, **data.validated_data
        )
        return Response(PatrolGridOutput(grid).data)

    @extend_schema(operation_id="patrol_grids_delete", request=NoBodyInput, responses={204: None})
    def delete(self, request, grid_id: int):
        no_body(request)
        found = selectors.patrol_grid_access_or_404(user=request.user, grid_id=grid_id)
        services.patrol_grid_delete(actor=request.user, access=found.access, grid=found.found)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- routes and checkpoints ---------------------------------------------------------------------------------------


class AlliancePatrolRoutesApi(_PositionedListApi):
    """The alliance's patrol routes in use (巡逻主线), each with its checkpoints in order."""

    serializer_class = PatrolRouteOutput

    class PatrolRouteCreateInput(_RouteFieldsInput):
        checkpoints = CheckpointInput(many=True, required=False, max_length=services.MAX_CHECKPOINTS_PER_ROUTE)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PatrolRoute.objects.none()
        access = alliance_access_or_404(user=self.request.user, alliance_id=self.kwargs["alliance_id"])
        return selectors.patrol_routes_of_alliance(alliance=access.alliance)

    @extend_schema(
        operation_id="patrol_routes_create",
        request=PatrolRouteCreateInput,
        responses={201: PatrolRouteOutput},
        summary="Police admins: a route, optionally with its checkpoints in order",
    )
    def post(self, request, alliance_id: int):
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.PatrolRouteCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        zone = _zone_in(access, values.pop("zone", None))
        route = services.patrol_route_create(
            actor=request.user, access=access, alliance=access.alliance, zone=zone, **values
        )
        route = selectors.patrol_route_access_or_404(user=request.user, route_id=route.pk).found
        return Response(PatrolRouteOutput(route).data, status=status.HTTP_201_CREATED)


class PatrolRouteDetailApi(APIView):
    class PatrolRouteUpdateInput(_RouteFieldsInput):
        pass

    @extend_schema(
        operation_id="patrol_routes_retrieve", parameters=[COORDINATE_SYSTEM_PARAMETER], responses=PatrolRouteOutput
    )
    def get(self, request, route_id: int):
        route = selectors.patrol_route_access_or_404(user=request.user, route_id=route_id).found
        return Response(PatrolRouteOutput(route, context=_context(request)).data)

    @extend_schema(operation_id="patrol_routes_update", request=PatrolRouteUpdateInput, responses=PatrolRouteOutput)
    def patch(self, request, route_id: int):
        found = selectors.patrol_route_access_or_404(user=request.user, route_id=route_id)
        data = self.PatrolRouteUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "zone" in values:
            values["zone"] = _zone_in(found.access, values["zone"])
        services.patrol_route_update(actor=request.user, access=found.access, route=found.found, **values)
        route = selectors.patrol_route_access_or_404(user=request.user, route_id=route_id).found
        return Response(PatrolRouteOutput(route).data)

    @extend_schema(operation_id="patrol_routes_archive", request=NoBodyInput, responses={204: None})
    def delete(self, request, route_id: int):
        no_body(request)
        found = selectors.patrol_route_access_or_404(user=request.user, route_id=route_id)
        services.patrol_route_archive(actor=request.user, access=found.access, route=found.found)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PatrolRouteCheckpointsApi(APIView):
    class CheckpointCreateInput(CheckpointInput):
        pass

    @extend_schema(
        operation_id="checkpoints_create",
        request=CheckpointCreateInput,
        responses={201: CheckpointOutput},
        summary="Police admins: a checkpoint on the route (at a free position, or after the last one)",
    )
    def post(self, request, route_id: int):
        found = selectors.patrol_route_access_or_404(user=request.user, route_id=route_id)
        data = self.CheckpointCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        checkpoint = services.checkpoint_create(
            actor=request.user, access=found.access, route=found.found, **data.validated_data
        )
        return Response(CheckpointOutput(checkpoint).data, status=status.HTTP_201_CREATED)


class PatrolRouteCheckpointOrderApi(APIView):
    class CheckpointOrderInput(InputSerializer):
        checkpoints = serializers.ListField(child=IdField(), max_length=services.MAX_CHECKPOINTS_PER_ROUTE)

    @extend_schema(
        operation_id="checkpoints_reorder",
        request=CheckpointOrderInput,
        responses=PatrolRouteOutput,
        summary="Police admins: put the route's checkpoints in this order (every one of them, once)",
    )
    def post(self, request, route_id: int):
        found = selectors.patrol_route_access_or_404(user=request.user, route_id=route_id)
        data = self.CheckpointOrderInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.checkpoint_reorder(
            actor=request.user,
            access=found.access,
            route=found.found,
            checkpoint_ids=data.validated_data["checkpoints"],
        )
        route = selectors.patrol_route_access_or_404(user=request.user, route_id=route_id).found
        return Response(PatrolRouteOutput(route).data)


class CheckpointDetailApi(APIView):
    class CheckpointUpdateInput(CheckpointInput):
        pass

    @extend_schema(operation_id="checkpoints_update", request=CheckpointUpdateInput, responses=CheckpointOutput)
    def patch(self, request, checkpoint_id: int):
        found = selectors.checkpoint_access_or_404(user=request.user, checkpoint_id=checkpoint_id)
        data = self.CheckpointUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        checkpoint = services.checkpoint_update(
            actor=request.user, access=found.access, checkpoint=found.found, **data.validated_data
        )
        return Response(CheckpointOutput(checkpoint).data)

    @extend_schema(operation_id="checkpoints_delete", request=NoBodyInput, responses={204: None})
    def delete(self, request, checkpoint_id: int):
        no_body(request)
        found = selectors.checkpoint_access_or_404(user=request.user, checkpoint_id=checkpoint_id)
        services.checkpoint_delete(actor=request.user, access=found.access, checkpoint=found.found)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- support points -----------------------------------------------------------------------------------------------


class AllianceSupportPointsApi(_PositionedListApi):
    """Police workstations, traffic booths, checkpoints (卡口) and rapid-response points with their rings."""

    serializer_class = SupportPointOutput

    class SupportPointCreateInput(_SupportPointFieldsInput):
        pass

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SupportPoint.objects.none()
        access = alliance_access_or_404(user=self.request.user, alliance_id=self.kwargs["alliance_id"])
        return selectors.support_points_of_alliance(alliance=access.alliance)

    @extend_schema(
        operation_id="support_points_create",
        request=SupportPointCreateInput,
        responses={201: SupportPointOutput},
        summary="Police admins: a support point (a rapid-response point gets 1/3/5-minute rings unless given)",
    )
    def post(self, request, alliance_id: int):
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.SupportPointCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        point = services.support_point_create(
            actor=request.user, access=access, alliance=access.alliance, **data.validated_data
        )
        return Response(SupportPointOutput(point).data, status=status.HTTP_201_CREATED)


class SupportPointDetailApi(APIView):
    class SupportPointUpdateInput(_SupportPointFieldsInput):
        pass

    @extend_schema(operation_id="support_points_update", request=SupportPointUpdateInput, responses=SupportPointOutput)
    def patch(self, request, point_id: int):
        found = selectors.support_point_access_or_404(user=request.user, point_id=point_id)
        data = self.SupportPointUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        point = services.support_point_update(
            actor=request.user, access=found.access, point=found.found, **data.validated_data
        )
        return Response(SupportPointOutput(point).data)

    @extend_schema(operation_id="support_points_delete", request=NoBodyInput, responses={204: None})
    def delete(self, request, point_id: int):
        no_body(request)
        found = selectors.support_point_access_or_404(user=request.user, point_id=point_id)
        services.support_point_delete(actor=request.user, access=found.access, point=found.found)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the map ------------------------------------------------------------------------------------------------------


class AlliancePatrolMapApi(APIView):
    @extend_schema(
        operation_id="patrol_map",
        parameters=[COORDINATE_SYSTEM_PARAMETER],
        responses=PatrolMapOutput,
        summary="Zones, routes, checkpoints and support points of the alliance as one GeoJSON FeatureCollection",
    )
    def get(self, request, alliance_id: int):
        system = output_coordinate_system(request)
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        patrol_map = selectors.patrol_map_of_alliance(alliance=access.alliance)
        return Response(patrol_map_geojson(patrol_map, system=system))
