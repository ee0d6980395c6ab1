from django.urls import path

import config.converters  # noqa: F401 - registers <id:...>
from reports.apis import disputes
from reports.apis import escalation_policies as escalation_policy_apis
from reports.apis import incident_comments as incident_comment_apis
from reports.apis import incident_workflow as incident_workflow_apis
from reports.apis import incidents as incident_apis
from reports.apis import patrol_statistics as patrol_statistics_apis
from reports.apis import statistics as statistics_apis

urlpatterns = [
    path("alliances/<id:alliance_id>/disputes", disputes.DisputeFlagApi.as_view(), name="dispute-flag"),
    path(
        "groups/<id:group_id>/messages/<id:seq>/dispute",
        disputes.DisputeFromMessageApi.as_view(),
        name="dispute-from-message",
    ),
    path(
        "alliances/<id:alliance_id>/escalation-policy",
        escalation_policy_apis.EscalationPolicyApi.as_view(),
        name="alliance-escalation-policy",
    ),
    path("disputes", disputes.DisputeListApi.as_view(), name="disputes"),
    path("disputes/<id:dispute_id>", disputes.DisputeDetailApi.as_view(), name="dispute-detail"),
    path("disputes/<id:dispute_id>/acknowledge", disputes.DisputeAcknowledgeApi.as_view(), name="dispute-ack"),
    path("disputes/<id:dispute_id>/arrive", disputes.DisputeArriveApi.as_view(), name="dispute-arrive"),
    path("disputes/<id:dispute_id>/resolve", disputes.DisputeResolveApi.as_view(), name="dispute-resolve"),
    path("disputes/<id:dispute_id>/escalate", disputes.DisputeEscalateApi.as_view(), name="dispute-escalate"),
    path("disputes/<id:dispute_id>/cancel", disputes.DisputeCancelApi.as_view(), name="dispute-cancel"),
    path("disputes/<id:dispute_id>/photos/<id:photo_id>", disputes.DisputePhotoApi.as_view(), name="dispute-photo"),
    path(
        "alliances/<id:alliance_id>/statistics",
        statistics_apis.AllianceStatisticsApi.as_view(),
        name="alliance-statistics",
    ),
    path(
        "alliances/<id:alliance_id>/statistics.csv",
        statistics_apis.AllianceStatisticsCsvApi.as_view(),
        name="alliance-statistics-csv",
    ),
    path(
        "stations/<id:station_id>/statistics",
        statistics_apis.StationStatisticsApi.as_view(),
        name="station-statistics",
    ),
    path(
        "stations/<id:station_id>/statistics.csv",
        statistics_apis.StationStatisticsCsvApi.as_view(),
        name="station-statistics-csv",
    ),
    path(
        "alliances/<id:alliance_id>/patrol-statistics",
        patrol_statistics_apis.AlliancePatrolStatisticsApi.as_view(),
        name="alliance-patrol-statistics",
    ),
    path(
        "alliances/<id:alliance_id>/patrol-statistics.csv",
        patrol_statistics_apis.AlliancePatrolStatisticsCsvApi.as_view(),
        name="alliance-patrol-statistics-csv",
    ),
    path(
        "stations/<id:station_id>/patrol-statistics",
        patrol_statistics_apis.StationPatrolStatisticsApi.as_view(),
        name="station-patrol-statistics",
    ),
    path(
        "stations/<id:station_id>/patrol-statistics.csv",
        patrol_statistics_apis.StationPatrolStatisticsCsvApi.as_view(),
        name="station-patrol-statistics-csv",
    ),
    path(
        "patrol-teams/<id:team_id>/statistics",
        patrol_statistics_apis.TeamPatrolStatisticsApi.as_view(),
        name="patrol-team-statistics",
    ),
    path(
        "patrol-teams/<id:team_id>/statistics.csv",
        patrol_statistics_apis.TeamPatrolStatisticsCsvApi.as_view(),
        name="patrol-team-statistics-csv",
    ),
    path("alliances/<id:alliance_id>/incidents", incident_apis.IncidentReportApi.as_view(), name="incident-report"),
    path(
        "groups/<id:group_id>/messages/<id:seq>/incident",
        incident_apis.IncidentFromMessageApi.as_view(),
        name="incident-from-message",
    ),
    path("incidents", incident_apis.IncidentListApi.as_view(), name="incidents"),
    path("incidents/<id:incident_id>", incident_apis.IncidentDetailApi.as_view(), name="incident-detail"),
    path(
        "incidents/<id:incident_id>/accept", incident_workflow_apis.IncidentAcceptApi.as_view(), name="incident-accept"
    ),
    path(
        "incidents/<id:incident_id>/assign", incident_workflow_apis.IncidentAssignApi.as_view(), name="incident-assign"
    ),
    path("incidents/<id:incident_id>/start", incident_workflow_apis.IncidentStartApi.as_view(), name="incident-start"),
    path(
        "incidents/<id:incident_id>/resolve",
        incident_workflow_apis.IncidentResolveApi.as_view(),
        name="incident-resolve",
    ),
    path("incidents/<id:incident_id>/close", incident_workflow_apis.IncidentCloseApi.as_view(), name="incident-close"),
    path(
        "incidents/<id:incident_id>/reject", incident_workflow_apis.IncidentRejectApi.as_view(), name="incident-reject"
    ),
    path(
        "incidents/<id:incident_id>/reopen", incident_workflow_apis.IncidentReopenApi.as_view(), name="incident-reopen"
    ),
    path("incidents/<id:incident_id>/rate", incident_workflow_apis.IncidentRateApi.as_view(), name="incident-rate"),
    path("incidents/<id:incident_id>/merge", incident_workflow_apis.IncidentMergeApi.as_view(), name="incident-merge"),
    path(
        "incidents/<id:incident_id>/comments",
        incident_comment_apis.IncidentCommentsApi.as_view(),
        name="incident-comments",
    ),
    path(
        "incidents/<id:incident_id>/duplicates",
        incident_apis.IncidentDuplicatesApi.as_view(),
        name="incident-duplicates",
    ),
    path(
        "incidents/<id:incident_id>/photos/<id:photo_id>",
        incident_apis.IncidentPhotoApi.as_view(),
        name="incident-photo",
    ),
]
