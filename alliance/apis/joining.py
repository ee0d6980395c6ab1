"""HTTP endpoints for joining an alliance with an invite code, and the join requests its admins decide."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.apis.outputs import AlliancePersonOutput, AllianceRefOutput, person_context, role_field
from alliance.models import AllianceJoinRequest
from alliance.permissions import ALLIANCE_INVITE_ROLES
from alliance.selectors import alliances as selectors
from alliance.services.joining import alliance_join, join_request_approve, join_request_reject
from config.serializer_fields import NamedChoiceField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body


class AllianceJoinOutput(serializers.Serializer):
    status = NamedChoiceField(
        choices=[("joined", "joined"), ("pending", "pending")],
        enum_name="AllianceJoinStatusEnum",
        help_text="joined: a member now; pending: waiting for an alliance admin",
    )
    alliance = AllianceRefOutput()
    role = role_field("AllianceRoleEnum")
    membership = serializers.IntegerField(allow_null=True, help_text="The member id when joined")
    join_request = serializers.IntegerField(allow_null=True, help_text="The join request id when pending")


class JoinRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = AllianceRefOutput()
    user = AlliancePersonOutput()
    role = role_field("AllianceRoleEnum")
    status = NamedChoiceField(choices=AllianceJoinRequest.Status.choices, enum_name="JoinRequestStatusEnum")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class JoinRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AllianceJoinRequest.Status.choices)


class AllianceJoinApi(generics.ListAPIView):
    """Joining an alliance with an invite code (typed in, or read from the QR code), and one's own join requests."""

    serializer_class = JoinRequestOutput
    filterset_class = JoinRequestFilter

    class JoinInput(InputSerializer):
        code = StrictCharField(max_length=32)
        role = NamedChoiceField(
            choices=ALLIANCE_INVITE_ROLES,
            enum_name="AllianceInviteRoleEnum",
            required=False,
            allow_null=True,
            default=None,
            help_text="Only for invites that leave the role open; by default the role fitting the account",
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AllianceJoinRequest.objects.none()
        return selectors.join_requests_of_user(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "full_phones": True}  # one's own number

    @extend_schema(
        operation_id="alliance_joins_create",
        request=JoinInput,
        responses={201: AllianceJoinOutput, 200: AllianceJoinOutput},
        summary="Join with an invite code: at once, or as a request an alliance admin approves",
    )
    def post(self, request):
        data = self.JoinInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = alliance_join(
            user=request.user, code=data.validated_data["code"], role=data.validated_data["role"] or ""
        )
        body = AllianceJoinOutput(
            {
                "status": outcome.status,
                "alliance": outcome.alliance,
                "role": outcome.role,
                "membership": outcome.membership.pk if outcome.membership else None,
                "join_request": outcome.join_request.pk if outcome.join_request else None,
            }
        ).data
        return Response(body, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)


class AllianceJoinRequestListApi(generics.ListAPIView):
    """Alliance admins: the join requests to decide (``?status=pending``) and the ones decided."""

    serializer_class = JoinRequestOutput
    filterset_class = JoinRequestFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AllianceJoinRequest.objects.none()
        access = selectors.alliance_manager_access_or_403(
            user=self.request.user, alliance_id=self.kwargs["alliance_id"]
        )
        return selectors.alliance_join_requests(alliance=access.alliance)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **person_context(self.request)}


def _join_request_or_404(request, alliance_id: int, request_id: int):
    access = selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
    join_request = get_object_or_404(selectors.alliance_join_requests(alliance=access.alliance), pk=request_id)
    return access, join_request


class AllianceJoinRequestApproveApi(APIView):
    @extend_schema(operation_id="alliances_join_requests_approve", request=NoBodyInput, responses=JoinRequestOutput)
    def post(self, request, alliance_id: int, request_id: int):
        no_body(request)
        access, join_request = _join_request_or_404(request, alliance_id, request_id)
        join_request = join_request_approve(actor=request.user, access=access, join_request=join_request)
        return Response(JoinRequestOutput(join_request, context=person_context(request)).data)


class AllianceJoinRequestRejectApi(APIView):
    @extend_schema(operation_id="alliances_join_requests_reject", request=NoBodyInput, responses=JoinRequestOutput)
    def post(self, request, alliance_id: int, request_id: int):
        no_body(request)
        access, join_request = _join_request_or_404(request, alliance_id, request_id)
        join_request = join_request_reject(actor=request.user, access=access, join_request=join_request)
        return Response(JoinRequestOutput(join_request, context=person_context(request)).data)
