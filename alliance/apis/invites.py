"""HTTP endpoints for an alliance's invite codes and their QR codes."""

from __future__ import annotations

import django_filters
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.apis.outputs import role_field
from alliance.models import AllianceInvite
from alliance.permissions import ALLIANCE_INVITE_ROLES
from alliance.qr import invite_qr_payload, qr_png
from alliance.selectors import alliances as selectors
from alliance.services.invites import (
    INVITE_DEFAULT_HOURS,
    INVITE_DEFAULT_USES,
    INVITE_MAX_HOURS,
    INVITE_MAX_USES,
    alliance_invite_create,
    alliance_invite_revoke,
)
from config.filters import StrictBooleanFilter
from config.serializer_fields import NamedChoiceField
from config.serializers import InputSerializer, NoBodyInput, no_body


class AllianceInviteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = serializers.IntegerField(source="alliance_id")
    code = serializers.CharField()
    role = role_field("AllianceInviteRoleEnum", allow_null=True, help_text="null: whoever joins chooses their role")
    auto_approve = serializers.BooleanField()
    max_uses = serializers.IntegerField()
    use_count = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    qr_payload = serializers.SerializerMethodField(help_text="What the QR code says")
    qr_url = serializers.SerializerMethodField(help_text="The QR code as a PNG image")

    def to_representation(self, invite):
        data = super().to_representation(invite)
        data["role"] = invite.role or None
        return data

    def get_qr_payload(self, invite) -> str:
        return invite_qr_payload(invite.code)

    def get_qr_url(self, invite) -> str:
        return reverse("alliance-invite-qr", kwargs={"alliance_id": invite.alliance_id, "invite_id": invite.pk})


class AllianceInviteFilter(django_filters.FilterSet):
    revoked = StrictBooleanFilter(field_name="revoked_at", lookup_expr="isnull", exclude=True)


class AllianceInviteListApi(generics.ListAPIView):
    """Alliance admins (and police admins of the jurisdiction): the alliance's invite codes, and making new ones."""

    serializer_class = AllianceInviteOutput
    filterset_class = AllianceInviteFilter

    class InviteCreateInput(InputSerializer):
        role = NamedChoiceField(
            choices=ALLIANCE_INVITE_ROLES,
            enum_name="AllianceInviteRoleEnum",
            required=False,
            allow_null=True,
            default=None,
            help_text="The role everyone joining by this invite gets; leave out to let them choose",
        )
        auto_approve = serializers.BooleanField(required=False, default=False)
        valid_hours = serializers.IntegerField(
            min_value=1, max_value=INVITE_MAX_HOURS, required=False, default=INVITE_DEFAULT_HOURS
        )
        max_uses = serializers.IntegerField(
            min_value=1, max_value=INVITE_MAX_USES, required=False, default=INVITE_DEFAULT_USES
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AllianceInvite.objects.none()
        access = selectors.alliance_manager_access_or_403(
            user=self.request.user, alliance_id=self.kwargs["alliance_id"]
        )
        return selectors.alliance_invites(alliance=access.alliance)

    @extend_schema(
        operation_id="alliances_invites_create",
        request=InviteCreateInput,
        responses={201: AllianceInviteOutput},
        summary="Make an invite code (and its QR code)",
    )
    def post(self, request, alliance_id: int):
        access = selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.InviteCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        invite = alliance_invite_create(
            actor=request.user,
            access=access,
            role=values["role"] or "",
            auto_approve=values["auto_approve"],
            valid_hours=values["valid_hours"],
            max_uses=values["max_uses"],
        )
        return Response(AllianceInviteOutput(invite).data, status=status.HTTP_201_CREATED)


def _invite_or_404(request, alliance_id: int, invite_id: int) -> tuple[selectors.AllianceAccess, AllianceInvite]:
    access = selectors.alliance_manager_access_or_403(user=request.user, alliance_id=alliance_id)
    return access, get_object_or_404(selectors.alliance_invites(alliance=access.alliance), pk=invite_id)


class AllianceInviteDetailApi(APIView):
    @extend_schema(operation_id="alliances_invites_retrieve", responses=AllianceInviteOutput)
    def get(self, request, alliance_id: int, invite_id: int):
        _access, invite = _invite_or_404(request, alliance_id, invite_id)
        return Response(AllianceInviteOutput(invite).data)

    # 204 like every other DELETE: the withdrawn invite stays readable (GET shows its revoked_at).
    @extend_schema(
        operation_id="alliances_invites_revoke",
        request=NoBodyInput,
        responses={204: None},
        summary="Withdraw an invite",
    )
    def delete(self, request, alliance_id: int, invite_id: int):
        no_body(request)
        access, invite = _invite_or_404(request, alliance_id, invite_id)
        alliance_invite_revoke(actor=request.user, access=access, invite=invite)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AllianceInviteQrApi(APIView):
    """The invite's QR code, to print or show on a screen. It says ``pingan://join?code=...``. Once the invite is
    withdrawn, expired or used up it answers 404: a picture of a dead code would only mislead whoever scans it."""

    @extend_schema(operation_id="alliances_invites_qr", responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, alliance_id: int, invite_id: int):
        access = selectors.alliance_manager_access_or_403(user=request.user, alliance_id=alliance_id)
        invite = get_object_or_404(selectors.alliance_invites_usable(alliance=access.alliance), pk=invite_id)
        response = HttpResponse(qr_png(invite_qr_payload(invite.code)), content_type="image/png")
        response["Cache-Control"] = "private, no-store"  # whoever holds the picture can join: keep it out of caches
        return response
