"""HTTP endpoints for alliances: the list, founding one, reading and editing one."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.apis.outputs import StationRefOutput, role_field
from alliance.models import Alliance, Station
from alliance.selectors import alliances as selectors
from alliance.services.alliances import alliance_create, alliance_update
from config.filters import IdFilter
from config.serializer_fields import BoundaryField, IdRelatedField, NamedChoiceField, StrictCharField
from config.serializers import InputSerializer


class AllianceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    area_description = serializers.CharField()
    station = StationRefOutput()
    office = StationRefOutput(allow_null=True)
    status = NamedChoiceField(choices=Alliance.Status.choices, enum_name="AllianceStatusEnum")
    my_role = role_field("AllianceRoleEnum", allow_null=True, help_text="The viewer's role; null when not a member")
    member_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class AllianceDetailOutput(AllianceOutput):
    boundary = BoundaryField(allow_null=True)


class AllianceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Alliance.Status.choices)
    station = IdFilter(field_name="station_id")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)


def _alliance_detail(request, alliance_id: int) -> dict:
    alliance = get_object_or_404(selectors.alliances_for_user(user=request.user), pk=alliance_id)
    return AllianceDetailOutput(alliance).data


class AllianceListApi(generics.ListAPIView):
    """The alliances the viewer belongs to; for police admins, every alliance of their jurisdiction too."""

    serializer_class = AllianceOutput
    filterset_class = AllianceFilter

    class AllianceCreateInput(InputSerializer):
        name = StrictCharField(max_length=100)
        # No default in the schema: "" is not a valid slug; left out or empty, the service makes one from the name.
        slug = serializers.SlugField(
            max_length=60, required=False, allow_blank=True, help_text="Left out or empty: made from the name."
        )
        area_description = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
        station = IdRelatedField(queryset=Station.objects.all())
        office = IdRelatedField(
            queryset=Station.objects.select_related("parent"), required=False, allow_null=True, default=None
        )
        boundary = BoundaryField(required=False, allow_null=True, default=None)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Alliance.objects.none()
        return selectors.alliances_for_user(user=self.request.user)

    @extend_schema(
        operation_id="alliances_create",
        request=AllianceCreateInput,
        responses={201: AllianceDetailOutput},
        summary="Police admins: found an alliance in their jurisdiction",
    )
    def post(self, request):
        data = self.AllianceCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        alliance = alliance_create(actor=request.user, **data.validated_data)
        return Response(_alliance_detail(request, alliance.pk), status=status.HTTP_201_CREATED)


class AllianceDetailApi(APIView):
    class AllianceUpdateInput(InputSerializer):
        name = StrictCharField(max_length=100, required=False)
        area_description = StrictCharField(max_length=2000, required=False, allow_blank=True)
        status = NamedChoiceField(choices=Alliance.Status.choices, enum_name="AllianceStatusEnum", required=False)
        office = IdRelatedField(queryset=Station.objects.select_related("parent"), required=False, allow_null=True)
        boundary = BoundaryField(required=False, allow_null=True)

    @extend_schema(operation_id="alliances_retrieve", responses=AllianceDetailOutput)
    def get(self, request, alliance_id: int):
        return Response(_alliance_detail(request, alliance_id))

    @extend_schema(operation_id="alliances_update", request=AllianceUpdateInput, responses=AllianceDetailOutput)
    def patch(self, request, alliance_id: int):
        access = selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.AllianceUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        alliance_update(actor=request.user, access=access, **data.validated_data)
        return Response(_alliance_detail(request, alliance_id))
