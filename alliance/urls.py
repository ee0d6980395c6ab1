from django.urls import path

from alliance import apis

A = "alliances/<int:alliance_id>"

urlpatterns = [
    path("stations", apis.StationListApi.as_view(), name="stations"),
    path("stations/<int:station_id>/staff", apis.StationStaffApi.as_view(), name="station-staff"),
    path(
        "stations/<int:station_id>/staff/<int:user_id>",
        apis.StationStaffDetailApi.as_view(),
        name="station-staff-detail",
    ),
    path("alliances", apis.AllianceListApi.as_view(), name="alliances"),
    path(A, apis.AllianceDetailApi.as_view(), name="alliance-detail"),
    path(f"{A}/membership", apis.AllianceMembershipApi.as_view(), name="alliance-membership"),
    path(f"{A}/duty", apis.AllianceDutyApi.as_view(), name="alliance-duty"),
    path(f"{A}/members", apis.AllianceMemberListApi.as_view(), name="alliance-members"),
    path(f"{A}/members/<int:member_id>", apis.AllianceMemberDetailApi.as_view(), name="alliance-member"),
    path(f"{A}/invites", apis.AllianceInviteListApi.as_view(), name="alliance-invites"),
    path(f"{A}/invites/<int:invite_id>", apis.AllianceInviteDetailApi.as_view(), name="alliance-invite"),
    path(f"{A}/invites/<int:invite_id>/qr.png", apis.AllianceInviteQrApi.as_view(), name="alliance-invite-qr"),
    path(f"{A}/join-requests", apis.AllianceJoinRequestListApi.as_view(), name="alliance-join-requests"),
    path(
        f"{A}/join-requests/<int:request_id>/approve",
        apis.AllianceJoinRequestApproveApi.as_view(),
        name="alliance-join-request-approve",
    ),
    path(
        f"{A}/join-requests/<int:request_id>/reject",
        apis.AllianceJoinRequestRejectApi.as_view(),
        name="alliance-join-request-reject",
    ),
    path("alliance-joins", apis.AllianceJoinApi.as_view(), name="alliance-joins"),
    path("stores", apis.StoreListApi.as_view(), name="stores"),
    path("stores/<int:store_id>", apis.StoreDetailApi.as_view(), name="store-detail"),
    path("stores/<int:store_id>/verification", apis.StoreVerificationApi.as_view(), name="store-verification"),
    path("stores/<int:store_id>/photo", apis.StorePhotoApi.as_view(), name="store-photo"),
    path("stores/<int:store_id>/staff", apis.StoreStaffApi.as_view(), name="store-staff"),
    path("stores/<int:store_id>/staff/<int:user_id>", apis.StoreStaffDetailApi.as_view(), name="store-staff-detail"),
]
