from django.urls import path

import config.converters  # noqa: F401 - registers <id:...>
from groups.apis import contact_groups as apis
from groups.apis import patrol_on_duty, shift_check_ins

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
    # patrol: a shift as it happens
    path("shifts/<id:shift_id>/check-in", shift_check_ins.ShiftCheckInApi.as_view(), name="shift-check-in"),
    path("shifts/<id:shift_id>/check-out", shift_check_ins.ShiftCheckOutApi.as_view(), name="shift-check-out"),
    path("shifts/<id:shift_id>/scans", shift_check_ins.ShiftScanApi.as_view(), name="shift-scans"),
    path("shifts/<id:shift_id>/log", shift_check_ins.ShiftLogApi.as_view(), name="shift-log"),
    path("shifts/<id:shift_id>/attempts", shift_check_ins.ShiftAttemptsApi.as_view(), name="shift-attempts"),
    path("me/patrol-batch", shift_check_ins.PatrolBatchApi.as_view(), name="patrol-batch"),
    path("checkpoints/<id:checkpoint_id>/code", shift_check_ins.CheckpointCodeApi.as_view(), name="checkpoint-code"),
    path("alliances/<id:alliance_id>/on-duty", patrol_on_duty.AllianceOnDutyApi.as_view(), name="alliance-on-duty"),
]
