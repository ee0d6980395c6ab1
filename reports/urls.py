from django.urls import path

from reports.apis import disputes

urlpatterns = [
    path("alliances/<int:alliance_id>/disputes", disputes.DisputeFlagApi.as_view(), name="dispute-flag"),
    path(
        "groups/<int:group_id>/messages/<int:seq>/dispute",
        disputes.DisputeFromMessageApi.as_view(),
        name="dispute-from-message",
    ),
    path("disputes", disputes.DisputeListApi.as_view(), name="disputes"),
    path("disputes/<int:dispute_id>", disputes.DisputeDetailApi.as_view(), name="dispute-detail"),
    path("disputes/<int:dispute_id>/acknowledge", disputes.DisputeAcknowledgeApi.as_view(), name="dispute-ack"),
    path("disputes/<int:dispute_id>/arrive", disputes.DisputeArriveApi.as_view(), name="dispute-arrive"),
    path("disputes/<int:dispute_id>/resolve", disputes.DisputeResolveApi.as_view(), name="dispute-resolve"),
    path("disputes/<int:dispute_id>/escalate", disputes.DisputeEscalateApi.as_view(), name="dispute-escalate"),
    path("disputes/<int:dispute_id>/cancel", disputes.DisputeCancelApi.as_view(), name="dispute-cancel"),
    path("disputes/<int:dispute_id>/photos/<int:photo_id>", disputes.DisputePhotoApi.as_view(), name="dispute-photo"),
]
