from django.urls import path

import config.converters  # noqa: F401 - registers <id:...>
from alliance.apis import (
    alerts,
    alliances,
    invites,
    joining,
    members,
    points,
    rewards,
    safe_store_awards,
    safe_store_rankings,
    stations,
    store_inspections,
    stores,
    tips,
)

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
    # Safe Store awards (issue 12)
    path(
        f"{A}/safe-store-rankings/<id:ranking_id>/publish",
        safe_store_awards.SafeStoreRankingPublishApi.as_view(),
        name="alliance-safe-store-ranking-publish",
    ),
    path(
        f"{A}/safe-store-rankings/<id:ranking_id>/entries/<id:entry_id>/hold-back",
        safe_store_awards.SafeStoreEntryHoldBackApi.as_view(),
        name="alliance-safe-store-entry-hold-back",
    ),
    path(f"{A}/safe-stores", safe_store_awards.SafeStoreListApi.as_view(), name="alliance-safe-stores"),
    path(
        "stores/<id:store_id>/safe-store-badges/<id:badge_id>/certificate.pdf",
        safe_store_awards.SafeStoreCertificateApi.as_view(),
        name="store-safe-store-certificate",
    ),
]

# Rewards: the catalogue, redeeming, the admins' queue of requests and its decisions, one's own requests.
R = f"{A}/redemptions/<id:redemption_id>"
urlpatterns += [
    path(f"{A}/rewards", rewards.AllianceRewardListApi.as_view(), name="alliance-rewards"),
    path(f"{A}/rewards/<id:reward_id>", rewards.AllianceRewardDetailApi.as_view(), name="alliance-reward"),
    path(
        f"{A}/rewards/<id:reward_id>/redemptions",
        rewards.RewardRedemptionCreateApi.as_view(),
        name="alliance-reward-redemptions",
    ),
    path(f"{A}/redemptions", rewards.AllianceRedemptionListApi.as_view(), name="alliance-redemptions"),
    path(f"{R}/approve", rewards.RedemptionApproveApi.as_view(), name="alliance-redemption-approve"),
    path(f"{R}/reject", rewards.RedemptionRejectApi.as_view(), name="alliance-redemption-reject"),
    path(f"{R}/fulfil", rewards.RedemptionFulfilApi.as_view(), name="alliance-redemption-fulfil"),
    path(f"{R}/cancel", rewards.RedemptionCancelApi.as_view(), name="alliance-redemption-cancel"),
    path("me/redemptions", rewards.MyRedemptionListApi.as_view(), name="my-redemptions"),
    # The Safe Store ranking (issue 12): the live preview, the final rankings, a store's score and inspections.
    path(f"{A}/safe-stores/preview", safe_store_rankings.SafeStorePreviewApi.as_view(), name="safe-store-preview"),
    path(f"{A}/safe-store-weights", safe_store_rankings.SafeStoreWeightsApi.as_view(), name="safe-store-weights"),
    path(f"{A}/safe-store-rankings", safe_store_rankings.SafeStoreRankingListApi.as_view(), name="safe-store-rankings"),
    path(
        f"{A}/safe-store-rankings/<id:ranking_id>",
        safe_store_rankings.SafeStoreRankingDetailApi.as_view(),
        name="safe-store-ranking",
    ),
    path(
        f"{A}/safe-store-rankings/<id:ranking_id>/entries",
        safe_store_rankings.SafeStoreRankingEntryListApi.as_view(),
        name="safe-store-ranking-entries",
    ),
    path(
        "stores/<id:store_id>/safe-store-score",
        safe_store_rankings.StoreSafeStoreScoreApi.as_view(),
        name="store-safe-store-score",
    ),
    path(
        "stores/<id:store_id>/inspections", store_inspections.StoreInspectionListApi.as_view(), name="store-inspections"
    ),
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
    # alerts: the police's side, then everyone's inbox
    path("alerts", alerts.AlertListApi.as_view(), name="alerts"),
    path("alerts/<id:alert_id>", alerts.AlertDetailApi.as_view(), name="alert-detail"),
    path("alerts/<id:alert_id>/publish", alerts.AlertPublishApi.as_view(), name="alert-publish"),
    path("alerts/<id:alert_id>/withdraw", alerts.AlertWithdrawApi.as_view(), name="alert-withdraw"),
    path("alerts/<id:alert_id>/images", alerts.AlertImageUploadApi.as_view(), name="alert-images"),
    path("alerts/<id:alert_id>/images/<id:image_id>", alerts.AlertImageApi.as_view(), name="alert-image"),
    path("alerts/<id:alert_id>/reach", alerts.AlertReachApi.as_view(), name="alert-reach"),
    path("alerts/<id:alert_id>/unread-stores", alerts.AlertUnreadStoresApi.as_view(), name="alert-unread-stores"),
    path(
        "alerts/<id:alert_id>/unread-stores.csv",
        alerts.AlertUnreadStoresCsvApi.as_view(),
        name="alert-unread-stores-csv",
    ),
    path("me/alerts", alerts.MyAlertListApi.as_view(), name="my-alerts"),
    path("me/alerts/counts", alerts.MyAlertCountsApi.as_view(), name="my-alerts-counts"),
    path("me/alerts/<id:alert_id>", alerts.MyAlertDetailApi.as_view(), name="my-alert"),
    path("me/alerts/<id:alert_id>/read", alerts.MyAlertReadApi.as_view(), name="my-alert-read"),
    path("me/alerts/<id:alert_id>/acknowledge", alerts.MyAlertAcknowledgeApi.as_view(), name="my-alert-acknowledge"),
]

# Safety tips: the library, the schedules that send them and each schedule's runs (alliance/apis/tips.py).
urlpatterns += [
    path("tips", tips.TipListApi.as_view(), name="tips"),
    path("tips/<id:tip_id>", tips.TipDetailApi.as_view(), name="tip-detail"),
    path("tip-schedules", tips.TipScheduleListApi.as_view(), name="tip-schedules"),
    path("tip-schedules/<id:schedule_id>", tips.TipScheduleDetailApi.as_view(), name="tip-schedule-detail"),
    path(
        "tip-schedules/<id:schedule_id>/occurrences",
        tips.TipOccurrenceListApi.as_view(),
        name="tip-schedule-occurrences",
    ),
]
