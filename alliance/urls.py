from django.urls import path

import config.converters  # noqa: F401 - registers <id:...>
from alliance.apis import alliances, invites, joining, members, points, stations, stores

A = "alliances/<id:alliance_id>"

urlpatterns = [
    path("stations", stations.StationListApi.as_view(), name="stations"),
    path("stations/<id:station_id>/staff", stations.StationStaffApi.as_view(), name="station-staff"),
    path(
        "stations/<id:station_id>/staff/<id:user_id>",
        stations.StationStaffDetailApi.as_view(),
        name="station-staff-detail",
    ),
    path("alliances", alliances.AllianceListApi.as_view(), name="alliances"),
    path(A, alliances.AllianceDetailApi.as_view(), name="alliance-detail"),
    path(f"{A}/membership", members.AllianceMembershipApi.as_view(), name="alliance-membership"),
    path(f"{A}/duty", members.AllianceDutyApi.as_view(), name="alliance-duty"),
    path(f"{A}/members", members.AllianceMemberListApi.as_view(), name="alliance-members"),
    path(f"{A}/members/<id:member_id>", members.AllianceMemberDetailApi.as_view(), name="alliance-member"),
    path(f"{A}/invites", invites.AllianceInviteListApi.as_view(), name="alliance-invites"),
    path(f"{A}/invites/<id:invite_id>", invites.AllianceInviteDetailApi.as_view(), name="alliance-invite"),
    path(f"{A}/invites/<id:invite_id>/qr.png", invites.AllianceInviteQrApi.as_view(), name="alliance-invite-qr"),
    path(f"{A}/join-requests", joining.AllianceJoinRequestListApi.as_view(), name="alliance-join-requests"),
    path(
        f"{A}/join-requests/<id:request_id>/approve",
        joining.AllianceJoinRequestApproveApi.as_view(),
        name="alliance-join-request-approve",
    ),
    path(
        f"{A}/join-requests/<id:request_id>/reject",
        joining.AllianceJoinRequestRejectApi.as_view(),
        name="alliance-join-request-reject",
    ),
    path("alliance-joins", joining.AllianceJoinApi.as_view(), name="alliance-joins"),
    path("stores", stores.StoreListApi.as_view(), name="stores"),
    path("stores/<id:store_id>", stores.StoreDetailApi.as_view(), name="store-detail"),
    path("stores/<id:store_id>/verification", stores.StoreVerificationApi.as_view(), name="store-verification"),
    path("stores/<id:store_id>/photo", stores.StorePhotoApi.as_view(), name="store-photo"),
    path("stores/<id:store_id>/staff", stores.StoreStaffApi.as_view(), name="store-staff"),
    path("stores/<id:store_id>/staff/<id:user_id>", stores.StoreStaffDetailApi.as_view(), name="store-staff-detail"),
]

# The points ledger (alliance/apis/points.py).
urlpatterns += [
    path("me/points", points.MyPointsListApi.as_view(), name="my-points"),
    path("me/points/history", points.MyPointsHistoryApi.as_view(), name="my-points-history"),
    path(f"{A}/leaderboard", points.AllianceLeaderboardApi.as_view(), name="alliance-leaderboard"),
    path(f"{A}/leaderboard/me", points.AllianceLeaderboardMeApi.as_view(), name="alliance-leaderboard-me"),
    path(f"{A}/points/rules", points.AlliancePointsRulesApi.as_view(), name="alliance-points-rules"),
    path(f"{A}/points/corrections", points.AlliancePointsCorrectionApi.as_view(), name="alliance-points-corrections"),
    path(
        f"{A}/points/contributions",
        points.AlliancePointsContributionApi.as_view(),
        name="alliance-points-contributions",
    ),
    path(f"{A}/points/ledger", points.AlliancePointsLedgerApi.as_view(), name="alliance-points-ledger"),
]
