from django.urls import path

import config.converters  # noqa: F401 - registers <id:...>
from alliance import apis

A = "alliances/<id:alliance_id>"

urlpatterns = [
    path("stations", apis.StationListApi.as_view(), name="stations"),
    path("stations/<id:station_id>/staff", apis.StationStaffApi.as_view(), name="station-staff"),
    path(
        "stations/<id:station_id>/staff/<id:user_id>",
        apis.StationStaffDetailApi.as_view(),
        name="station-staff-detail",
    ),
    path("alliances", apis.AllianceListApi.as_view(), name="alliances"),
    path(A, apis.AllianceDetailApi.as_view(), name="alliance-detail"),
    path(f"{A}/membership", apis.AllianceMembershipApi.as_view(), name="alliance-membership"),
    path(f"{A}/duty", apis.AllianceDutyApi.as_view(), name="alliance-duty"),
    path(f"{A}/members", apis.AllianceMemberListApi.as_view(), name="alliance-members"),
    path(f"{A}/members/<id:member_id>", apis.AllianceMemberDetailApi.as_view(), name="alliance-member"),
    path(f"{A}/invites", apis.AllianceInviteListApi.as_view(), name="alliance-invites"),
    path(f"{A}/invites/<id:invite_id>", apis.AllianceInviteDetailApi.as_view(), name="alliance-invite"),
    path(f"{A}/invites/<id:invite_id>/qr.png", apis.AllianceInviteQrApi.as_view(), name="alliance-invite-qr"),
    path(f"{A}/join-requests", apis.AllianceJoinRequestListApi.as_view(), name="alliance-join-requests"),
    path(
        f"{A}/join-requests/<id:request_id>/approve",
        apis.AllianceJoinRequestApproveApi.as_view(),
        name="alliance-join-request-approve",
    ),
    path(
        f"{A}/join-requests/<id:request_id>/reject",
        apis.AllianceJoinRequestRejectApi.as_view(),
        name="alliance-join-request-reject",
    ),
    path("alliance-joins", apis.AllianceJoinApi.as_view(), name="alliance-joins"),
    path("stores", apis.StoreListApi.as_view(), name="stores"),
    path("stores/<id:store_id>", apis.StoreDetailApi.as_view(), name="store-detail"),
    path("stores/<id:store_id>/verification", apis.StoreVerificationApi.as_view(), name="store-verification"),
    path("stores/<id:store_id>/photo", apis.StorePhotoApi.as_view(), name="store-photo"),
    path("stores/<id:store_id>/staff", apis.StoreStaffApi.as_view(), name="store-staff"),
    path("stores/<id:store_id>/staff/<id:user_id>", apis.StoreStaffDetailApi.as_view(), name="store-staff-detail"),
]
