"""HTTP endpoint for the conversation on an incident: read it, oldest first, and add to it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from config.pagination import DefaultCursorPagination
from config.serializer_fields import StrictCharField
from config.serializers import InputSerializer
from reports.apis.incident_serializers import IncidentCommentOutput, incident_context
from reports.apis.incidents import incident_or_404
from reports.models import IncidentComment
from reports.selectors.incidents import incident_comments
from reports.services.incident_comments import MAX_COMMENT, incident_comment


class IncidentCommentsApi(generics.ListAPIView):
    """The conversation on a case, oldest first. Everyone who may see the case may read and write here."""

    serializer_class = IncidentCommentOutput
    queryset = IncidentComment.objects.none()

    class Pagination(DefaultCursorPagination):
        ordering = "created_at"

    pagination_class = Pagination

    class IncidentCommentInput(InputSerializer):
        body = StrictCharField(max_length=MAX_COMMENT)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        self.incident = incident_or_404(self.request, self.kwargs["incident_id"])
        return incident_comments(incident=self.incident)

    def get_serializer_context(self):
        context = {**super().get_serializer_context(), **incident_context(self.request.user)}
        if hasattr(self, "incident"):
            context["incident"] = self.incident
        return context

    @extend_schema(
        operation_id="incidents_comments_create", request=IncidentCommentInput, responses={201: IncidentCommentOutput}
    )
    def post(self, request, incident_id: int):
        incident = incident_or_404(request, incident_id)
        data = self.IncidentCommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = incident_comment(author=request.user, incident=incident, body=data.validated_data["body"])
        context = incident_context(request.user, incident=incident)
        return Response(IncidentCommentOutput(comment, context=context).data, status=status.HTTP_201_CREATED)
