"""HTTP endpoints for police units, alliances, members, invites, joining and stores.

Every lookup goes through a selector scoped to the viewer: an id that is not theirs to see answers 404, whichever
alliance it belongs to. Inside an alliance the viewer can see, a forbidden action answers 403.
"""

from __future__ import annotations

import django_filters
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import (
    ALLIANCE_INVITE_ROLES,
    IsPoliceAdmin,
    can_manage_alliance,
    can_see_full_phone_numbers,
)
from accounts.presentation import mask_phone
from accounts.selectors import users_police_admin_may_act_on
from alliance import selectors, services
from alliance.geojson import MAX_POINTS
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
from alliance.qr import invite_qr_payload, qr_png
from config.errors import ApplicationError
from config.filters import IdFilter, StrictBooleanFilter
from config.images import image_response
from config.pagination import DefaultCursorPagination
from config.serializer_fields import IdField, IdRelatedField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body

# --- schema helpers -----------------------------------------------------------------------------------------------


class NamedChoiceField(serializers.ChoiceField):
    """A ChoiceField documented as its own named enum. Apps reuse "role", "kind" and "status" for different choice
    sets; left unnamed, drf-spectacular has to invent colliding names for them and warns."""

    def __init__(self, *args, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(*args, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        values = [value for value in self.target.choices if value not in ("", None)]
        component = ResolvedComponent(
            name=self.target.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=self.target.enum_name,
            schema={"type": "string", "enum": values},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


GEOJSON_POLYGON = {
    "type": "object",
    "description": (
        f"A GeoJSON Polygon: rings of [longitude, latitude] positions, each closed (last = first), "
        f"at most {MAX_POINTS} positions in all."
    ),
    "properties": {
        "type": {"type": "string", "enum": ["Polygon"]},
        "coordinates": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        },
    },
    "required": ["type", "coordinates"],
}


@extend_schema_field(GEOJSON_POLYGON)
class BoundaryField(serializers.JSONField):
    """Any JSON on the way in (the service checks it and says what is wrong); a GeoJSON Polygon on the way out."""


def _roles(enum_name: str, **kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=AllianceMembership.Role.choices, enum_name=enum_name, **kwargs)


# --- shared output ------------------------------------------------------------------------------------------------


class AlliancePersonOutput(serializers.Serializer):
    """A person as other members see them: the mobile number masked (138****1234) unless the viewer is police."""

    id = serializers.IntegerField()
    display_name = serializers.CharField()
    phone = serializers.SerializerMethodField()

    def get_phone(self, user) -> str:
        if self.context.get("full_phones"):
            return str(user.phone or "")
        return mask_phone(user.phone)


class StationRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = NamedChoiceField(choices=Station.Kind.choices, enum_name="PoliceUnitKindEnum")


class AllianceRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


def _person_context(request) -> dict:
    return {"full_phones": can_see_full_phone_numbers(request.user)}


def _alliance_access_or_404(request, alliance_id: int) -> selectors.AllianceAccess:
    access = selectors.alliance_access(user=request.user, alliance_id=alliance_id)
    if access is None:
        raise Http404
    return access


def _manager_access_or_403(request, alliance_id: int) -> selectors.AllianceAccess:
    access = _alliance_access_or_404(request, alliance_id)
    if not can_manage_alliance(request.user, access):
        raise ApplicationError(
            "permission_denied", _("Only the alliance's admins can see this."), status_code=status.HTTP_403_FORBIDDEN
        )
    return access


def _store_access_or_404(request, store_id: int) -> selectors.StoreAccess:
    found = selectors.store_access(user=request.user, store_id=store_id)
    if found is None:
        raise Http404
    return found


# --- police units -------------------------------------------------------------------------------------------------


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
        return {**super().get_serializer_context(), **_person_context(self.request)}

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
        post = services.station_staff_add(actor=request.user, station=station, user=user)
        return Response(StationStaffOutput(post, context=_person_context(request)).data, status=status.HTTP_201_CREATED)


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
        services.station_staff_remove(actor=request.user, station=station, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- alliances ----------------------------------------------------------------------------------------------------


class AllianceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    area_description = serializers.CharField()
    station = StationRefOutput()
    office = StationRefOutput(allow_null=True)
    status = NamedChoiceField(choices=Alliance.Status.choices, enum_name="AllianceStatusEnum")
    my_role = _roles("AllianceRoleEnum", allow_null=True, help_text="The viewer's role; null when not a member")
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
        alliance = services.alliance_create(actor=request.user, **data.validated_data)
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
        access = _alliance_access_or_404(request, alliance_id)
        data = self.AllianceUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.alliance_update(actor=request.user, access=access, **data.validated_data)
        return Response(_alliance_detail(request, alliance_id))


# --- members ------------------------------------------------------------------------------------------------------


class AllianceMemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    user = AlliancePersonOutput()
    role = _roles("AllianceRoleEnum")
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
        access = _alliance_access_or_404(self.request, self.kwargs["alliance_id"])
        return selectors.alliance_members(alliance=access.alliance)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **_person_context(self.request)}


def _member_or_404(access: selectors.AllianceAccess, member_id: int) -> AllianceMembership:
    membership = get_object_or_404(selectors.alliance_members(alliance=access.alliance), pk=member_id)
    membership.alliance = access.alliance
    return membership


class AllianceMemberDetailApi(APIView):
    class MemberRoleInput(InputSerializer):
        role = _roles("AllianceRoleEnum")

    @extend_schema(operation_id="alliances_members_retrieve", responses=AllianceMemberOutput)
    def get(self, request, alliance_id: int, member_id: int):
        membership = _member_or_404(_alliance_access_or_404(request, alliance_id), member_id)
        return Response(AllianceMemberOutput(membership, context=_person_context(request)).data)

    @extend_schema(
        operation_id="alliances_members_role_set",
        request=MemberRoleInput,
        responses=AllianceMemberOutput,
        summary="Alliance admins: change a member's role",
    )
    def patch(self, request, alliance_id: int, member_id: int):
        access = _alliance_access_or_404(request, alliance_id)
        membership = _member_or_404(access, member_id)
        data = self.MemberRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.alliance_member_role_set(
            actor=request.user, access=access, membership=membership, role=data.validated_data["role"]
        )
        return Response(AllianceMemberOutput(membership, context=_person_context(request)).data)

    @extend_schema(
        operation_id="alliances_members_remove",
        request=NoBodyInput,
        responses={204: None},
        summary="Alliance admins: remove a member (a member removing themselves leaves)",
    )
    def delete(self, request, alliance_id: int, member_id: int):
        no_body(request)
        access = _alliance_access_or_404(request, alliance_id)
        membership = _member_or_404(access, member_id)
        services.alliance_member_remove(actor=request.user, access=access, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AllianceMembershipApi(APIView):
    @extend_schema(
        operation_id="alliances_leave", request=NoBodyInput, responses={204: None}, summary="Leave the alliance"
    )
    def delete(self, request, alliance_id: int):
        no_body(request)
        access = _alliance_access_or_404(request, alliance_id)
        services.alliance_leave(user=request.user, access=access)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AllianceDutyApi(APIView):
    class DutyInput(InputSerializer):
        on_duty = serializers.BooleanField()

    @extend_schema(
        operation_id="alliances_duty_set",
        request=DutyInput,
        responses=AllianceMemberOutput,
        summary="Responders: go on or off duty in the alliance",
    )
    def put(self, request, alliance_id: int):
        access = _alliance_access_or_404(request, alliance_id)
        data = self.DutyInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.alliance_duty_set(
            user=request.user, access=access, on_duty=data.validated_data["on_duty"]
        )
        membership.user = request.user
        return Response(AllianceMemberOutput(membership, context=_person_context(request)).data)


# --- invites ------------------------------------------------------------------------------------------------------


class AllianceInviteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = serializers.IntegerField(source="alliance_id")
    code = serializers.CharField()
    role = _roles("AllianceInviteRoleEnum", allow_null=True, help_text="null: whoever joins chooses their role")
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
            min_value=1, max_value=services.INVITE_MAX_HOURS, required=False, default=services.INVITE_DEFAULT_HOURS
        )
        max_uses = serializers.IntegerField(
            min_value=1, max_value=services.INVITE_MAX_USES, required=False, default=services.INVITE_DEFAULT_USES
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AllianceInvite.objects.none()
        access = _manager_access_or_403(self.request, self.kwargs["alliance_id"])
        return selectors.alliance_invites(alliance=access.alliance)

    @extend_schema(
        operation_id="alliances_invites_create",
        request=InviteCreateInput,
        responses={201: AllianceInviteOutput},
        summary="Make an invite code (and its QR code)",
    )
    def post(self, request, alliance_id: int):
        access = _alliance_access_or_404(request, alliance_id)
        data = self.InviteCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        invite = services.alliance_invite_create(
            actor=request.user,
            access=access,
            role=values["role"] or "",
            auto_approve=values["auto_approve"],
            valid_hours=values["valid_hours"],
            max_uses=values["max_uses"],
        )
        return Response(AllianceInviteOutput(invite).data, status=status.HTTP_201_CREATED)


def _invite_or_404(request, alliance_id: int, invite_id: int) -> tuple[selectors.AllianceAccess, AllianceInvite]:
    access = _manager_access_or_403(request, alliance_id)
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
        services.alliance_invite_revoke(actor=request.user, access=access, invite=invite)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AllianceInviteQrApi(APIView):
    """The invite's QR code, to print or show on a screen. It says ``pingan://join?code=...``. Once the invite is
    withdrawn, expired or used up it answers 404: a picture of a dead code would only mislead whoever scans it."""

    @extend_schema(operation_id="alliances_invites_qr", responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, alliance_id: int, invite_id: int):
        access = _manager_access_or_403(request, alliance_id)
        invite = get_object_or_404(selectors.alliance_invites_usable(alliance=access.alliance), pk=invite_id)
        response = HttpResponse(qr_png(invite_qr_payload(invite.code)), content_type="image/png")
        response["Cache-Control"] = "private, no-store"  # whoever holds the picture can join: keep it out of caches
        return response


# --- joining ------------------------------------------------------------------------------------------------------


class AllianceJoinOutput(serializers.Serializer):
    status = NamedChoiceField(
        choices=[("joined", "joined"), ("pending", "pending")],
        enum_name="AllianceJoinStatusEnum",
        help_text="joined: a member now; pending: waiting for an alliance admin",
    )
    alliance = AllianceRefOutput()
    role = _roles("AllianceRoleEnum")
    membership = serializers.IntegerField(allow_null=True, help_text="The member id when joined")
    join_request = serializers.IntegerField(allow_null=True, help_text="The join request id when pending")


class JoinRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = AllianceRefOutput()
    user = AlliancePersonOutput()
    role = _roles("AllianceRoleEnum")
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
        outcome = services.alliance_join(
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
        access = _manager_access_or_403(self.request, self.kwargs["alliance_id"])
        return selectors.alliance_join_requests(alliance=access.alliance)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **_person_context(self.request)}


def _join_request_or_404(request, alliance_id: int, request_id: int):
    access = _alliance_access_or_404(request, alliance_id)
    join_request = get_object_or_404(selectors.alliance_join_requests(alliance=access.alliance), pk=request_id)
    return access, join_request


class AllianceJoinRequestApproveApi(APIView):
    @extend_schema(operation_id="alliances_join_requests_approve", request=NoBodyInput, responses=JoinRequestOutput)
    def post(self, request, alliance_id: int, request_id: int):
        no_body(request)
        access, join_request = _join_request_or_404(request, alliance_id, request_id)
        join_request = services.join_request_approve(actor=request.user, access=access, join_request=join_request)
        return Response(JoinRequestOutput(join_request, context=_person_context(request)).data)


class AllianceJoinRequestRejectApi(APIView):
    @extend_schema(operation_id="alliances_join_requests_reject", request=NoBodyInput, responses=JoinRequestOutput)
    def post(self, request, alliance_id: int, request_id: int):
        no_body(request)
        access, join_request = _join_request_or_404(request, alliance_id, request_id)
        join_request = services.join_request_reject(actor=request.user, access=access, join_request=join_request)
        return Response(JoinRequestOutput(join_request, context=_person_context(request)).data)


# --- stores -------------------------------------------------------------------------------------------------------


class StoreOwnerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class StoreOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = AllianceRefOutput()
    owner = StoreOwnerOutput()
    name = serializers.CharField()
    category = NamedChoiceField(choices=Store.Category.choices, enum_name="StoreCategoryEnum")
    address = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    business_licence_number = serializers.CharField()
    opening_hours = serializers.CharField()
    is_verified = serializers.BooleanField()
    verified_at = serializers.DateTimeField(allow_null=True)
    photo_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_photo_url(self, store) -> str | None:
        return reverse("store-photo", kwargs={"store_id": store.pk}) if store.photo else None


class StoreFilter(django_filters.FilterSet):
    alliance = IdFilter(field_name="alliance_id")
    category = django_filters.ChoiceFilter(choices=Store.Category.choices)
    is_verified = StrictBooleanFilter()
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)


class _StoreFieldsInput(InputSerializer):
    name = StrictCharField(max_length=100)
    category = NamedChoiceField(choices=Store.Category.choices, enum_name="StoreCategoryEnum", required=False)
    address = StrictCharField(max_length=200)
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    business_licence_number = StrictCharField(max_length=32, required=False, allow_blank=True)
    opening_hours = StrictCharField(max_length=100, required=False, allow_blank=True)


class StoreListApi(generics.ListAPIView):
    """Stores of the viewer's alliances: every store for those who run the alliance, verified ones and one's own
    for other members."""

    serializer_class = StoreOutput
    filterset_class = StoreFilter

    class StoreRegisterInput(_StoreFieldsInput):
        alliance = IdField()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Store.objects.none()
        return selectors.stores_for_user(user=self.request.user)

    @extend_schema(
        operation_id="stores_register",
        request=StoreRegisterInput,
        responses={201: StoreOutput},
        summary="Merchants: register a store in an alliance (the alliance verifies it)",
    )
    def post(self, request):
        data = self.StoreRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        access = _alliance_access_or_404(request, values.pop("alliance"))
        store = services.store_register(actor=request.user, access=access, **values)
        return Response(StoreOutput(store).data, status=status.HTTP_201_CREATED)


class StoreDetailApi(APIView):
    class StoreUpdateInput(_StoreFieldsInput):
        pass

    @extend_schema(operation_id="stores_retrieve", responses=StoreOutput)
    def get(self, request, store_id: int):
        return Response(StoreOutput(_store_access_or_404(request, store_id).store).data)

    @extend_schema(operation_id="stores_update", request=StoreUpdateInput, responses=StoreOutput)
    def patch(self, request, store_id: int):
        found = _store_access_or_404(request, store_id)
        data = self.StoreUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        store = services.store_update(actor=request.user, store_access=found, **data.validated_data)
        return Response(StoreOutput(store).data)


class StoreVerificationApi(APIView):
    class StoreVerificationInput(InputSerializer):
        verified = serializers.BooleanField()

    @extend_schema(
        operation_id="stores_verification_set",
        request=StoreVerificationInput,
        responses=StoreOutput,
        summary="Alliance admins: verify a store (or withdraw the verification)",
    )
    def post(self, request, store_id: int):
        found = _store_access_or_404(request, store_id)
        data = self.StoreVerificationInput(data=request.data)
        data.is_valid(raise_exception=True)
        store = services.store_verify(
            actor=request.user, access=found.access, store=found.store, verified=data.validated_data["verified"]
        )
        return Response(StoreOutput(store).data)


class StorePhotoApi(APIView):
    """The store's photo: uploaded as multipart (JPEG, PNG or WEBP, at most 5 MB), stored re-encoded without EXIF
    and at most 1600 px a side, and served only to those who can see the store (never a public /media/ address)."""

    parser_classes = [MultiPartParser]

    class StorePhotoInput(InputSerializer):
        photo = serializers.FileField()

    @extend_schema(operation_id="stores_photo", responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, store_id: int):
        store = _store_access_or_404(request, store_id).store
        if not store.photo:
            raise Http404
        return image_response(store.photo)

    @extend_schema(
        operation_id="stores_photo_upload",
        request={"multipart/form-data": StorePhotoInput},
        responses={201: StoreOutput},
        summary="Owner or staff: upload the store's photo (replaces the previous one)",
    )
    def post(self, request, store_id: int):
        found = _store_access_or_404(request, store_id)
        # Refuse an oversized upload before Django spools it to disk; the service checks the file itself too.
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > services.STORE_PHOTO_MAX_BYTES + 64 * 1024:
            raise ApplicationError(
                "payload_too_large",
                _("The image is larger than %(mb)s MB.") % {"mb": services.STORE_PHOTO_MAX_BYTES // (1024 * 1024)},
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        data = self.StorePhotoInput(data=request.data)
        data.is_valid(raise_exception=True)
        store = services.store_photo_set(actor=request.user, store_access=found, upload=data.validated_data["photo"])
        return Response(StoreOutput(store).data, status=status.HTTP_201_CREATED)


class StoreStaffOutput(serializers.Serializer):
    user = AlliancePersonOutput()
    created_at = serializers.DateTimeField()


class StoreStaffApi(generics.ListAPIView):
    """Who works in the store (visible to whoever sees the store); the owner adds people by mobile number."""

    serializer_class = StoreStaffOutput

    class StoreStaffInput(InputSerializer):
        phone = StrictCharField(max_length=32)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StoreStaff.objects.none()
        return selectors.store_staff(store=_store_access_or_404(self.request, self.kwargs["store_id"]).store)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **_person_context(self.request)}

    @extend_schema(
        operation_id="stores_staff_add",
        request=StoreStaffInput,
        responses={201: StoreStaffOutput},
        summary="Owner: add a member of the alliance to the store's staff by mobile number",
    )
    def post(self, request, store_id: int):
        found = _store_access_or_404(request, store_id)
        data = self.StoreStaffInput(data=request.data)
        data.is_valid(raise_exception=True)
        post = services.store_staff_add(actor=request.user, store_access=found, phone=data.validated_data["phone"])
        return Response(StoreStaffOutput(post, context=_person_context(request)).data, status=status.HTTP_201_CREATED)


class StoreStaffDetailApi(APIView):
    @extend_schema(operation_id="stores_staff_remove", request=NoBodyInput, responses={204: None})
    def delete(self, request, store_id: int, user_id: int):
        no_body(request)
        found = _store_access_or_404(request, store_id)
        services.store_staff_remove(actor=request.user, store_access=found, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
