from django.urls import path

import config.converters  # noqa: F401 - registers <id:...>
from accounts import apis

urlpatterns = [
    path("me", apis.MeApi.as_view(), name="me"),
    path("me/roles", apis.MeRolesApi.as_view(), name="me-roles"),
    path("me/roles/<str:role>", apis.MeRoleDetailApi.as_view(), name="me-role-detail"),
    path("me/export", apis.MeExportApi.as_view(), name="me-export"),
    path("me/devices", apis.MeDevicesApi.as_view(), name="me-devices"),
    path("me/devices/<id:device_id>", apis.MeDeviceDetailApi.as_view(), name="me-device-detail"),
    path("roles", apis.RolesApi.as_view(), name="roles"),
    path("users", apis.UserListApi.as_view(), name="users"),
    path("users/<id:user_id>", apis.UserDetailApi.as_view(), name="user-detail"),
    path("users/<id:user_id>/roles", apis.UserRolesApi.as_view(), name="user-roles"),
    path("users/<id:user_id>/roles/<str:role>", apis.UserRoleDetailApi.as_view(), name="user-role-detail"),
    path("users/<id:user_id>/real-name", apis.UserRealNameApi.as_view(), name="user-real-name"),
    path("role-grants", apis.RoleGrantListApi.as_view(), name="role-grants"),
]
