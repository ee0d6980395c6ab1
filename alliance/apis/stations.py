"""HTTP endpoints for police units and who is posted to them (police admins only)."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import IsPoliceAdmin
from accounts.selectors import users_police_admin_may_act_on
from alliance.apis.outputs import AlliancePersonOutput, person_context
from alliance.models import Station, StationStaff
from alliance.selectors import alliances as selectors
from alliance.services.stations import station_staff_add, station_staff_remove
from config.pagination import DefaultCursorPagination
from config.serializer_fields import IdField, NamedChoiceField
from config.serializers import InputSerializer, NoBodyInput, no_body


class StationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = NamedChoiceField(choices=Station.Kind.choices, enum_name="PoliceUnitKindEnum")
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    city = serializers.CharField()
    district = serializers.CharField()
    address = serializers.CharField()
    phone = serializers.CharField()


class StationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Station.Kind.choices)


class StationListApi(generics.ListAPIView):
    """Police admins: the police units of their jurisdiction (their posts and the offices and workstations under
    them)."""

    permission_classes = [IsPoliceAdmin]
    serializer_class = StationOutput
    filterset_class = StationFilter

    class Pagination(DefaultCursorPagination):
        ordering = "id"

    pagination_class = Pagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Station.objects.none()
        return selectors.stations_for_police_admin(admin=self.request.user)


class StationStaffOutput(serializers.Serializer):
    station = serializers.IntegerField(source="station_id")
    user = AlliancePersonOutput()
    granted_by = serializers.IntegerField(source="granted_by_id", allow_null=True)
    created_at = serializers.DateTimeField()


def _station_or_404(request, station_id: int) -> Station:
    return get_object_or_404(selectors.stations_for_police_admin(admin=request.user), pk=station_id)


class StationStaffApi(generics.ListAPIView):
    """Police admins: who is posted to a unit of their jurisdiction, and posting officers there."""

    permission_classes = [IsPoliceAdmin]
    serializer_class = StationStaffOutput

    class StationStaffInput(InputSerializer):
        user = IdField()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StationStaff.objects.none()
        return selectors.station_staff(station=_station_or_404(self.request, self.kwargs["station_id"]))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **person_context(self.request)}

    @extend_schema(
        operation_id="stations_staff_add",
        request=StationStaffInput,
        responses={201: StationStaffOutput},
        summary="Post an officer to a police unit",
    )
    def post(self, request, station_id: int):
        station = _station_or_404(request, station_id)
        data = self.StationStaffInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_object_or_404(users_police_admin_may_act_on(admin=request.user), pk=data.validated_data["user"])
        post = station_staff_add(actor=request.user, station=station, user=user)
        return Response(StationStaffOutput(post, context=person_context(request)).data, status=status.HTTP_201_CREATED)


class StationStaffDetailApi(APIView):
    permission_classes = [IsPoliceAdmin]

    @extend_schema(
        operation_id="stations_staff_remove",
        request=NoBodyInput,
        responses={204: None},
        summary="End an officer's post",
    )
    def delete(self, request, station_id: int, user_id: int):
        no_body(request)
        station = _station_or_404(request, station_id)
        user = get_object_or_404(User.objects.filter(station_posts__station=station), pk=user_id)
        station_staff_remove(actor=request.user, station=station, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)
