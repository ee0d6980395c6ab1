from django.urls import path

import config.converters  # noqa: F401 - registers <id:...>
from groups.apis import contact_groups as apis
from groups.apis import patrol_on_duty, patrol_zones, shift_check_ins, shifts
from groups.apis import patrol_teams as teams

urlpatterns = [
    path("groups", apis.GroupListApi.as_view(), name="groups"),
    path("groups/<id:group_id>", apis.GroupDetailApi.as_view(), name="group-detail"),
    path("groups/<id:group_id>/messages", apis.GroupMessagesApi.as_view(), name="group-messages"),
    path("groups/<id:group_id>/images", apis.GroupImageApi.as_view(), name="group-images"),
    path("groups/<id:group_id>/messages/<id:seq>", apis.GroupMessageDetailApi.as_view(), name="group-message"),
    path(
        "groups/<id:group_id>/messages/<id:seq>/image",
        apis.GroupMessageImageApi.as_view(),
        name="group-message-image",
    ),
    path("groups/<id:group_id>/notices", apis.GroupNoticesApi.as_view(), name="group-notices"),
    path("groups/<id:group_id>/read", apis.GroupReadApi.as_view(), name="group-read"),
    path("groups/<id:group_id>/mute", apis.GroupMuteApi.as_view(), name="group-mute"),
    path("groups/<id:group_id>/members", apis.GroupMembersApi.as_view(), name="group-members"),
    path("groups/<id:group_id>/team-members", apis.TeamGroupMembersApi.as_view(), name="group-team-members"),
    path(
        "groups/<id:group_id>/team-members/<id:user_id>",
        apis.TeamGroupMemberDetailApi.as_view(),
        name="group-team-member",
    ),
    path("alliances/<id:alliance_id>/groups", apis.TeamGroupCreateApi.as_view(), name="alliance-team-groups"),
    # patrol geography
    path("alliances/<id:alliance_id>/patrol-zones", patrol_zones.AlliancePatrolZonesApi.as_view(), name="patrol-zones"),
    path("patrol-zones/<id:zone_id>", patrol_zones.PatrolZoneDetailApi.as_view(), name="patrol-zone"),
    path("patrol-zones/<id:zone_id>/grids", patrol_zones.PatrolZoneGridsApi.as_view(), name="patrol-zone-grids"),
    path("patrol-grids/<id:grid_id>", patrol_zones.PatrolGridDetailApi.as_view(), name="patrol-grid"),
    path(
        "alliances/<id:alliance_id>/patrol-routes", patrol_zones.AlliancePatrolRoutesApi.as_view(), name="patrol-routes"
    ),
    path("patrol-routes/<id:route_id>", patrol_zones.PatrolRouteDetailApi.as_view(), name="patrol-route"),
    path(
        "patrol-routes/<id:route_id>/checkpoints",
        patrol_zones.PatrolRouteCheckpointsApi.as_view(),
        name="patrol-route-checkpoints",
    ),
    path(
        "patrol-routes/<id:route_id>/checkpoint-order",
        patrol_zones.PatrolRouteCheckpointOrderApi.as_view(),
        name="patrol-route-checkpoint-order",
    ),
    path("checkpoints/<id:checkpoint_id>", patrol_zones.CheckpointDetailApi.as_view(), name="checkpoint"),
    path(
        "alliances/<id:alliance_id>/support-points",
        patrol_zones.AllianceSupportPointsApi.as_view(),
        name="support-points",
    ),
    path("support-points/<id:point_id>", patrol_zones.SupportPointDetailApi.as_view(), name="support-point"),
    path("alliances/<id:alliance_id>/patrol-map", patrol_zones.AlliancePatrolMapApi.as_view(), name="patrol-map"),
    # patrol: a shift as it happens
    path("shifts/<id:shift_id>/check-in", shift_check_ins.ShiftCheckInApi.as_view(), name="shift-check-in"),
    path("shifts/<id:shift_id>/check-out", shift_check_ins.ShiftCheckOutApi.as_view(), name="shift-check-out"),
    path("shifts/<id:shift_id>/scans", shift_check_ins.ShiftScanApi.as_view(), name="shift-scans"),
    path("shifts/<id:shift_id>/log", shift_check_ins.ShiftLogApi.as_view(), name="shift-log"),
    path("shifts/<id:shift_id>/attempts", shift_check_ins.ShiftAttemptsApi.as_view(), name="shift-attempts"),
    path("me/patrol-batch", shift_check_ins.PatrolBatchApi.as_view(), name="patrol-batch"),
    path("checkpoints/<id:checkpoint_id>/code", shift_check_ins.CheckpointCodeApi.as_view(), name="checkpoint-code"),
]

# --- patrol: teams, templates, shifts, places, swaps, one's own shifts and calendar address -----------------------
urlpatterns += [
    path("alliances/<id:alliance_id>/patrol-teams", teams.PatrolTeamListApi.as_view(), name="alliance-patrol-teams"),
    path("patrol-teams/<id:team_id>", teams.PatrolTeamDetailApi.as_view(), name="patrol-team"),
    path("patrol-teams/<id:team_id>/members", teams.PatrolTeamMemberListApi.as_view(), name="patrol-team-members"),
    path(
        "patrol-teams/<id:team_id>/members/<id:user_id>",
        teams.PatrolTeamMemberDetailApi.as_view(),
        name="patrol-team-member",
    ),
    path(
        "patrol-teams/<id:team_id>/shift-templates",
        teams.ShiftTemplateListApi.as_view(),
        name="patrol-team-shift-templates",
    ),
    path("shift-templates/<id:template_id>", teams.ShiftTemplateDetailApi.as_view(), name="shift-template"),
    path("patrol-teams/<id:team_id>/shifts", shifts.PatrolTeamShiftCreateApi.as_view(), name="patrol-team-shifts"),
    path("alliances/<id:alliance_id>/shifts", shifts.AllianceShiftListApi.as_view(), name="alliance-shifts"),
    path("shifts/<id:shift_id>", shifts.ShiftDetailApi.as_view(), name="shift"),
    path("shifts/<id:shift_id>/cancel", shifts.ShiftCancelApi.as_view(), name="shift-cancel"),
    path("shifts/<id:shift_id>/signups", shifts.ShiftSignupCreateApi.as_view(), name="shift-signups"),
    path("shift-signups/<id:signup_id>", shifts.ShiftSignupDetailApi.as_view(), name="shift-signup"),
    path("shift-signups/<id:signup_id>/accept", shifts.ShiftOfferAcceptApi.as_view(), name="shift-signup-accept"),
    path("shift-signups/<id:signup_id>/decline", shifts.ShiftOfferDeclineApi.as_view(), name="shift-signup-decline"),
    path(
        "shift-signups/<id:signup_id>/swap-requests",
        shifts.ShiftSwapRequestCreateApi.as_view(),
        name="shift-signup-swap-requests",
    ),
    path("swap-requests/<id:swap_id>/approve", shifts.SwapRequestApproveApi.as_view(), name="swap-request-approve"),
    path("swap-requests/<id:swap_id>/reject", shifts.SwapRequestRejectApi.as_view(), name="swap-request-reject"),
    path("swap-requests/<id:swap_id>/withdraw", shifts.SwapRequestWithdrawApi.as_view(), name="swap-request-withdraw"),
    path("me/shifts", shifts.MyShiftListApi.as_view(), name="my-shifts"),
    path("me/calendar-feed", shifts.MyCalendarFeedApi.as_view(), name="my-calendar-feed"),
    path("alliances/<id:alliance_id>/on-duty", patrol_on_duty.AllianceOnDutyApi.as_view(), name="alliance-on-duty"),
]
