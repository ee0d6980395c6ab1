"""HTTP endpoints for incident reports: report (JSON or multipart with photos, or from a group message), the queue
with filters, the case with its timeline, comments, photos and possible duplicates. The workflow steps are in
``incident_workflow``, the conversation in ``incident_comments``, the shapes in ``incident_serializers``.

Only the reporter, the alliance's responders, the police handling it and whoever it is assigned to see a case;
anyone else gets 404. An anonymous report's reporter is shown to police admins and to the reporter only.
"""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.selectors.alliances import alliance_access_or_404
from config.errors import ApplicationError
from config.filters import BoundedIsoDateTimeFilter, IdFilter, StrictBooleanFilter
from config.json_input import LimitedJSONParser
from config.openapi import ALREADY_REPORTED_RESPONSE
from config.pagination import DefaultCursorPagination
from config.serializer_fields import BoundedDateTimeField, StrictCharField
from reports.apis.case_photos import MAX_PHOTOS, PHOTO_SIZE_PARAMETER, case_photo_response, case_photos_prepare
from reports.apis.group_messages import group_message_or_404
from reports.apis.incident_serializers import (
    IncidentCreatedOutput,
    IncidentDetailOutput,
    IncidentDuplicateOutput,
    IncidentOutput,
    LocationInputMixin,
    incident_category_field,
    incident_context,
)
from reports.models import CasePhoto, Incident
from reports.permissions import can_see_incident_duplicates
from reports.selectors.incidents import (
    incident_duplicates,
    incident_for_viewer,
    incident_standing,
    incidents_visible_to,
)
from reports.services import incidents as services

# --- helpers -----------------------------------------------------------------------------------------------------


def incident_or_404(request, incident_id: int) -> Incident:
    incident = incident_for_viewer(user=request.user, incident_id=incident_id)
    if incident is None:
        raise Http404
    return incident


def _with_duplicates(user, incident: Incident) -> Incident:
    """Attach the duplicate suggestions the viewer may see (none for responders who are neither the reporter nor
    the police)."""
    standing = incident_standing(user=user, incident=incident)
    allowed = can_see_incident_duplicates(user, incident, standing.access, posted=standing.posted)
    incident.duplicate_suggestions = incident_duplicates(incident=incident) if allowed else []
    return incident


def incident_detail(request, incident: Incident) -> dict:
    """The detail after a write: read again, with everything prefetched, as the write changed it."""
    fresh = _with_duplicates(request.user, incident_for_viewer(user=None, incident_id=incident.pk))
    return IncidentDetailOutput(fresh, context=incident_context(request.user)).data


# --- reporting ---------------------------------------------------------------------------------------------------


class IncidentReportApi(APIView):
    """A member reports an incident (JSON, or multipart with up to six photos). The answer lists possible
    duplicates: reports of the same kind within 50 m and 2 hours."""

    parser_classes = [LimitedJSONParser, MultiPartParser]

    class IncidentReportInput(LocationInputMixin):
        category = incident_category_field()
        description = StrictCharField(max_length=services.MAX_DESCRIPTION)
        occurred_at = BoundedDateTimeField(required=False)
        is_anonymous = serializers.BooleanField(required=False, default=False)
        client_id = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
        photos = serializers.ListField(
            child=serializers.FileField(), required=False, max_length=MAX_PHOTOS, default=list
        )

    @extend_schema(operation_id="incidents_report", request=IncidentReportInput, responses={201: IncidentCreatedOutput})
    def post(self, request, alliance_id: int):
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.IncidentReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        photos = case_photos_prepare(params.pop("photos"))
        incident = services.incident_report(
            reporter=request.user, alliance=access.alliance, access=access, photos=photos, **params
        )
        return Response(_created(request, incident), status=status.HTTP_201_CREATED)


def _created(request, incident: Incident) -> dict:
    """The new incident as the service returned it (reading it again cost a quarter of the request:
    docs/performance.md), with its possible duplicates: the reporter always sees them."""
    incident.duplicate_suggestions = incident_duplicates(incident=incident)
    return IncidentCreatedOutput(incident, context=incident_context(request.user)).data


class IncidentFromMessageApi(APIView):
    """Turn a group message into an incident in one step; the case card is posted back into the group."""

    class IncidentFromMessageInput(LocationInputMixin):
        category = incident_category_field()
        description = StrictCharField(
            max_length=services.MAX_DESCRIPTION,
            required=False,
            allow_blank=True,
            default="",
            help_text="Defaults to the message's text",
        )

    @extend_schema(
        operation_id="incidents_from_message",
        request=IncidentFromMessageInput,
        responses={
            201: IncidentCreatedOutput,
            200: OpenApiResponse(
                IncidentCreatedOutput, description="The message is already this incident, which you may see"
            ),
            409: ALREADY_REPORTED_RESPONSE,
        },
    )
    def post(self, request, group_id: int, seq: int):
        message = group_message_or_404(request, group_id=group_id, seq=seq)
        data = self.IncidentFromMessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident, created = services.incident_from_message(
            reporter=request.user, message=message, **data.validated_data
        )
        if created:
            return Response(_created(request, incident), status=status.HTTP_201_CREATED)
        # Already a case, which this caller may see: shown as they would see it (duplicates only if they may).
        shown = _with_duplicates(request.user, incident_for_viewer(user=request.user, incident_id=incident.pk))
        return Response(IncidentCreatedOutput(shown, context=incident_context(request.user)).data)


# --- reading -----------------------------------------------------------------------------------------------------


class IncidentFilter(django_filters.FilterSet):
    alliance = IdFilter(field_name="alliance_id")
    status = django_filters.MultipleChoiceFilter(choices=Incident.Status.choices)
    category = django_filters.ChoiceFilter(choices=Incident.Category.choices)
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    assignee = IdFilter(field_name="assignee_id")
    team = IdFilter(field_name="assigned_team_id")
    mine = StrictBooleanFilter(method="filter_mine", label="Only the cases I reported")

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        mine = {"reporter": self.request.user}
        return queryset.filter(**mine) if value else queryset.exclude(**mine)


class IncidentListApi(generics.ListAPIView):
    """The cases I reported, may respond to, handle or am assigned, newest first."""

    serializer_class = IncidentOutput
    filterset_class = IncidentFilter
    queryset = Incident.objects.none()

    class Pagination(DefaultCursorPagination):
        ordering = "-created_at"

    pagination_class = Pagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return incidents_visible_to(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **incident_context(self.request.user)}


class IncidentDetailApi(APIView):
    @extend_schema(operation_id="incidents_retrieve", responses=IncidentDetailOutput)
    def get(self, request, incident_id: int):
        incident = _with_duplicates(request.user, incident_or_404(request, incident_id))
        return Response(IncidentDetailOutput(incident, context=incident_context(request.user)).data)


class IncidentDuplicatesApi(APIView):
    """Reports of the same kind within 50 m and 2 hours of this one, nearest first (the reporter and the police)."""

    @extend_schema(operation_id="incidents_duplicates", responses=IncidentDuplicateOutput(many=True))
    def get(self, request, incident_id: int):
        incident = incident_or_404(request, incident_id)
        standing = incident_standing(user=request.user, incident=incident)
        if not can_see_incident_duplicates(request.user, incident, standing.access, posted=standing.posted):
            raise ApplicationError.permission_denied(_("Possible duplicates are shown to the reporter and the police."))
        return Response(IncidentDuplicateOutput(incident_duplicates(incident=incident), many=True).data)


class IncidentPhotoApi(APIView):
    @extend_schema(
        operation_id="incidents_photo",
        parameters=[PHOTO_SIZE_PARAMETER],
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY},
    )
    def get(self, request, incident_id: int, photo_id: int):
        incident = incident_or_404(request, incident_id)
        return case_photo_response(request, CasePhoto.objects.filter(incident=incident), photo_id)
