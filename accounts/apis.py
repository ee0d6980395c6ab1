"""HTTP endpoints for the signed-in person (``/api/v1/me``) and for police admins managing users and roles.

Sign-up, login, logout and session management are allauth headless endpoints under ``/_allauth/app/v1/``.
"""

from __future__ import annotations

import django_filters
from django.core.validators import RegexValidator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import SELF_SERVICE_ROLES, DeviceRegistration, Role, RoleGrant, User
from accounts.permissions import IsPoliceAdmin, user_roles
from accounts.selectors import (
    devices_for_user,
    role_grants_audit,
    user_personal_data,
    users_for_police_admin,
    users_police_admin_may_act_on,
)
from accounts.services import (
    device_register,
    device_unregister,
    role_grant,
    role_revoke,
    role_take_self_service,
    user_account_delete,
    user_profile_update,
    user_real_name_verify,
)
from config.filters import IdFilter
from config.pagination import DefaultCursorPagination
from config.serializer_fields import NamedChoiceField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, SharedFieldsOutputSerializer, no_body


class MeOutput(SharedFieldsOutputSerializer):
    id = serializers.IntegerField()
    phone = serializers.CharField()
    phone_verified = serializers.BooleanField()
    email = serializers.EmailField(allow_blank=True)
    display_name = serializers.CharField(allow_blank=True)
    is_real_name_verified = serializers.BooleanField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))
    date_joined = serializers.DateTimeField()


def _me_data(user) -> dict:
    return {
        "id": user.pk,
        "phone": str(user.phone),
        "phone_verified": user.phone_verified,
        "email": user.email,
        "display_name": user.display_name,
        "is_real_name_verified": user.is_real_name_verified,
        "roles": sorted(user_roles(user)),
        "date_joined": user.date_joined,
    }


class MeApi(APIView):
    class MeUpdateInput(InputSerializer):
        display_name = StrictCharField(max_length=64, required=False, allow_blank=True)
        email = serializers.EmailField(required=False, allow_blank=True)

    class MeDeleteInput(InputSerializer):
        confirm_phone = StrictCharField(max_length=32)

    @extend_schema(operation_id="me_retrieve", responses=MeOutput, summary="The signed-in person and their roles")
    def get(self, request):
        return Response(MeOutput(_me_data(request.user)).data)

    @extend_schema(operation_id="me_update", request=MeUpdateInput, responses=MeOutput)
    def patch(self, request):
        data = self.MeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_profile_update(user=request.user, **data.validated_data)
        return Response(MeOutput(_me_data(user)).data)

    @extend_schema(
        operation_id="me_delete",
        request=MeDeleteInput,
        responses={204: None},
        summary="Delete my account (reports stay, anonymised)",
    )
    def delete(self, request):
        data = self.MeDeleteInput(data=request.data)
        data.is_valid(raise_exception=True)
        user_account_delete(user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeRolesApi(APIView):
    class SelfServiceRoleInput(InputSerializer):
        role = serializers.ChoiceField(choices=sorted(SELF_SERVICE_ROLES))

    @extend_schema(
        operation_id="me_roles_take",
        request=SelfServiceRoleInput,
        responses={201: MeOutput},
        summary="Register as a merchant or volunteer",
    )
    def post(self, request):
        data = self.SelfServiceRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        role_take_self_service(user=request.user, role=data.validated_data["role"])
        return Response(MeOutput(_me_data(request.user)).data, status=status.HTTP_201_CREATED)


class MeRoleDetailApi(APIView):
    @extend_schema(
        operation_id="me_roles_drop",
        request=NoBodyInput,
        responses={200: MeOutput},
        summary="Give up a self-service role",
    )
    def delete(self, request, role: str):
        no_body(request)
        role_revoke(actor=request.user, user=request.user, role=role)
        return Response(MeOutput(_me_data(request.user)).data)


class MeExportApi(APIView):
    @extend_schema(
        operation_id="me_export",
        responses={200: OpenApiTypes.OBJECT},
        summary="Download everything the service holds about me",
    )
    def get(self, request):
        response = JsonResponse(user_personal_data(user=request.user), json_dumps_params={"ensure_ascii": False})
        response["Content-Disposition"] = 'attachment; filename="pingan-my-data.json"'
        return response


class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField()
    display_name = serializers.CharField()
    is_real_name_verified = serializers.BooleanField()
    is_active = serializers.BooleanField()
    roles = serializers.SerializerMethodField()
    date_joined = serializers.DateTimeField()

    def get_roles(self, user) -> list[str]:
        grants = getattr(user, "active_grants", None)
        if grants is None:
            return sorted(user_roles(user))
        return sorted(grant.role for grant in grants)


class UserFilter(django_filters.FilterSet):
    phone = django_filters.CharFilter(
        method="filter_phone",
        max_length=16,
        validators=[RegexValidator(r"^\+?[0-9]{1,15}$")],
        help_text="Part of the number",
    )
    role = django_filters.ChoiceFilter(choices=Role.choices, method="filter_role")

    def filter_phone(self, queryset, name, value):
        return queryset.filter(phone__contains=value)

    def filter_role(self, queryset, name, value):
        return queryset.filter(role_grants__role=value, role_grants__revoked_at__isnull=True).distinct()


class UserListApi(generics.ListAPIView):
    """Police admins: find people of their jurisdiction by part of their number or by role; a complete number finds
    anyone (a fresh sign-up to recruit)."""

    permission_classes = [IsPoliceAdmin]
    serializer_class = UserOutput
    filterset_class = UserFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        return users_for_police_admin(admin=self.request.user, phone=self.request.query_params.get("phone", ""))


class UserDetailApi(APIView):
    permission_classes = [IsPoliceAdmin]

    @extend_schema(operation_id="users_retrieve", responses=UserOutput)
    def get(self, request, user_id: int):
        user = get_object_or_404(users_police_admin_may_act_on(admin=request.user), pk=user_id)
        return Response(UserOutput(user).data)


class RoleGrantOutput(serializers.ModelSerializer):
    class Meta:
        model = RoleGrant
        fields = ["id", "user", "role", "granted_by", "granted_at", "reason", "revoked_by", "revoked_at"]


class UserRolesApi(APIView):
    permission_classes = [IsPoliceAdmin]

    class RoleGrantInput(InputSerializer):
        role = serializers.ChoiceField(choices=Role.choices)
        reason = StrictCharField(max_length=200, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="users_roles_grant", request=RoleGrantInput, responses={201: RoleGrantOutput})
    def post(self, request, user_id: int):
        data = self.RoleGrantInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_object_or_404(users_police_admin_may_act_on(admin=request.user), pk=user_id)
        grant = role_grant(actor=request.user, user=user, **data.validated_data)
        return Response(RoleGrantOutput(grant).data, status=status.HTTP_201_CREATED)


class UserRoleDetailApi(APIView):
    permission_classes = [IsPoliceAdmin]

    # 204 like every other DELETE: the revoked grant stays readable under /role-grants.
    @extend_schema(operation_id="users_roles_revoke", request=NoBodyInput, responses={204: None})
    def delete(self, request, user_id: int, role: str):
        no_body(request)
        user = get_object_or_404(users_police_admin_may_act_on(admin=request.user), pk=user_id)
        role_revoke(actor=request.user, user=user, role=role)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserRealNameApi(APIView):
    permission_classes = [IsPoliceAdmin]

    class RealNameInput(InputSerializer):
        verified = serializers.BooleanField()

    @extend_schema(operation_id="users_real_name_set", request=RealNameInput, responses=UserOutput)
    def post(self, request, user_id: int):
        data = self.RealNameInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_object_or_404(users_police_admin_may_act_on(admin=request.user), pk=user_id)
        user_real_name_verify(actor=request.user, user=user, verified=data.validated_data["verified"])
        return Response(UserOutput(user).data)


class RoleGrantFilter(django_filters.FilterSet):
    user = IdFilter(field_name="user_id")
    role = django_filters.ChoiceFilter(choices=Role.choices)


class RoleGrantListApi(generics.ListAPIView):
    """Police admins: the audit trail of the role grants and revocations of their jurisdiction, newest first."""

    permission_classes = [IsPoliceAdmin]
    serializer_class = RoleGrantOutput
    filterset_class = RoleGrantFilter

    class Pagination(DefaultCursorPagination):
        ordering = "-granted_at"

    pagination_class = Pagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RoleGrant.objects.none()
        return role_grants_audit(admin=self.request.user)


ROLE_LABELS_SCHEMA = inline_serializer(
    "RoleLabel", fields={"role": serializers.CharField(), "label": serializers.CharField()}, many=True
)


class RolesApi(APIView):
    @extend_schema(operation_id="roles_list", responses=ROLE_LABELS_SCHEMA, summary="Roles with their labels")
    def get(self, request):
        return Response([{"role": value, "label": _(str(label))} for value, label in Role.choices])


class DeviceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    platform = NamedChoiceField(choices=DeviceRegistration.Platform.choices, enum_name="DevicePlatformEnum")
    provider = NamedChoiceField(choices=DeviceRegistration.Provider.choices, enum_name="PushProviderEnum")
    token = serializers.CharField()
    registered_at = serializers.DateTimeField()


# Push tokens are printable ASCII from a small alphabet: JPush registration ids are letters and digits, APNs device
# tokens hex, FCM tokens letters, digits, "-", "_" and ":". Anything else (spaces, NUL, other scripts) is a client bug.
PUSH_TOKEN = RegexValidator(r"^[A-Za-z0-9_:.\-]+\Z", _("Enter a push token as the provider's SDK gave it."))


class MeDevicesApi(generics.ListAPIView):
    """The signed-in person's phones registered for push notifications, newest first."""

    serializer_class = DeviceOutput

    class Pagination(DefaultCursorPagination):
        ordering = "-id"

    pagination_class = Pagination

    class DeviceRegisterInput(InputSerializer):
        platform = NamedChoiceField(choices=DeviceRegistration.Platform.choices, enum_name="DevicePlatformEnum")
        provider = NamedChoiceField(choices=DeviceRegistration.Provider.choices, enum_name="PushProviderEnum")
        token = StrictCharField(min_length=8, max_length=255, validators=[PUSH_TOKEN])

        def validate(self, attrs):
            if (
                attrs["provider"] == DeviceRegistration.Provider.APNS
                and attrs["platform"] != DeviceRegistration.Platform.IOS
            ):
                raise serializers.ValidationError({"provider": [_("Apple's push service reaches iOS devices only.")]})
            return attrs

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DeviceRegistration.objects.none()
        return devices_for_user(user=self.request.user)

    @extend_schema(operation_id="me_devices_list", summary="My devices registered for push notifications")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="me_devices_register",
        request=DeviceRegisterInput,
        responses={201: DeviceOutput, 200: DeviceOutput},
        summary="Register this phone's push token (201 new; 200 known, and now mine)",
    )
    def post(self, request):
        data = self.DeviceRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        device, created = device_register(user=request.user, **data.validated_data)
        return Response(DeviceOutput(device).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class MeDeviceDetailApi(APIView):
    @extend_schema(
        operation_id="me_devices_unregister",
        request=NoBodyInput,
        responses={204: None},
        summary="Stop push notifications to one of my devices",
    )
    def delete(self, request, device_id: int):
        no_body(request)
        device_unregister(user=request.user, device_id=device_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
