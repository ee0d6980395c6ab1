"""HTTP endpoints for an alliance's members: the list, roles, removing, leaving and going on duty."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.apis.outputs import AlliancePersonOutput, person_context, role_field
from alliance.models import AllianceMembership
from alliance.selectors import alliances as selectors
from alliance.services.members import (
    alliance_duty_set,
    alliance_leave,
    alliance_member_remove,
    alliance_member_role_set,
)
from config.coordinates import COORDINATE_SYSTEMS, WGS84, to_wgs84
from config.filters import StrictBooleanFilter
from config.serializers import InputSerializer, NoBodyInput, no_body


class AllianceMemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    user = AlliancePersonOutput()
    role = role_field("AllianceRoleEnum")
    joined_at = serializers.DateTimeField()
    on_duty = serializers.BooleanField()
    on_duty_since = serializers.DateTimeField(allow_null=True)


class AllianceMemberFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=AllianceMembership.Role.choices)
    on_duty = StrictBooleanFilter()


class AllianceMemberListApi(generics.ListAPIView):
    """Members of an alliance, to its members and to the police admins of its jurisdiction. Mobile numbers are
    masked (138****1234) for everyone but the police."""

    serializer_class = AllianceMemberOutput
    filterset_class = AllianceMemberFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AllianceMembership.objects.none()
        access = selectors.alliance_access_or_404(user=self.request.user, alliance_id=self.kwargs["alliance_id"])
        return selectors.alliance_members(alliance=access.alliance)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **person_context(self.request)}


def _member_or_404(access: selectors.AllianceAccess, member_id: int) -> AllianceMembership:
    membership = get_object_or_404(selectors.alliance_members(alliance=access.alliance), pk=member_id)
    membership.alliance = access.alliance
    return membership


class AllianceMemberDetailApi(APIView):
    class MemberRoleInput(InputSerializer):
        role = role_field("AllianceRoleEnum")

    @extend_schema(operation_id="alliances_members_retrieve", responses=AllianceMemberOutput)
    def get(self, request, alliance_id: int, member_id: int):
        membership = _member_or_404(
            selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id), member_id
        )
        return Response(AllianceMemberOutput(membership, context=person_context(request)).data)

    @extend_schema(
        operation_id="alliances_members_role_set",
        request=MemberRoleInput,
        responses=AllianceMemberOutput,
        summary="Alliance admins: change a member's role",
    )
    def patch(self, request, alliance_id: int, member_id: int):
        access = selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        membership = _member_or_404(access, member_id)
        data = self.MemberRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = alliance_member_role_set(
            actor=request.user, access=access, membership=membership, role=data.validated_data["role"]
        )
        return Response(AllianceMemberOutput(membership, context=person_context(request)).data)

    @extend_schema(
        operation_id="alliances_members_remove",
        request=NoBodyInput,
        responses={204: None},
        summary="Alliance admins: remove a member (a member removing themselves leaves)",
    )
    def delete(self, request, alliance_id: int, member_id: int):
        no_body(request)
        access = selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        membership = _member_or_404(access, member_id)
        alliance_member_remove(actor=request.user, access=access, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AllianceMembershipApi(APIView):
    @extend_schema(
        operation_id="alliances_leave", request=NoBodyInput, responses={204: None}, summary="Leave the alliance"
    )
    def delete(self, request, alliance_id: int):
        no_body(request)
        access = selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        alliance_leave(user=request.user, access=access)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DutyPositionInput(InputSerializer):
    """A position as the phone sent it; ``coordinate_system`` says which (GPS: wgs84; Amap, Tencent: gcj02)."""

    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    coordinate_system = serializers.ChoiceField(choices=COORDINATE_SYSTEMS, default=WGS84)


class AllianceDutyApi(APIView):
    class DutyInput(InputSerializer):
        on_duty = serializers.BooleanField()
        position = DutyPositionInput(required=False)

    @extend_schema(
        operation_id="alliances_duty_set",
        request=DutyInput,
        responses=AllianceMemberOutput,
        summary="Responders: go on or off duty in the alliance, and say where they are while on duty",
        description=(
            "Police and mall managers switch duty here; volunteers are on duty by checking in to a patrol shift. "
            "``position`` (only with ``on_duty: true``) lets dispute flags reach the nearest first; sending it "
            "again while on duty moves it. Going off duty forgets it."
        ),
    )
    def put(self, request, alliance_id: int):
        access = selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.DutyInput(data=request.data)
        data.is_valid(raise_exception=True)
        position = None
        if "position" in data.validated_data:
            sent = data.validated_data["position"]
            position = to_wgs84(sent["latitude"], sent["longitude"], sent["coordinate_system"])
        membership = alliance_duty_set(
            user=request.user, access=access, on_duty=data.validated_data["on_duty"], position=position
        )
        return Response(AllianceMemberOutput(membership, context=person_context(request)).data)
