"""HTTP endpoints for incident reports: report (JSON or multipart with photos, or from a group message), the queue
with filters, the case with its timeline, comments, photos and possible duplicates, and every workflow step.

Only the reporter, the alliance's responders, the police handling it and whoever it is assigned to see a case;
anyone else gets 404. An anonymous report's reporter is shown to police admins and to the reporter only.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import django_filters
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can_see_full_phone_numbers, can_see_incident_duplicates, can_see_incident_reporter
from accounts.presentation import mask_phone
from alliance.apis import NamedChoiceField
from alliance.selectors import alliance_access
from config.errors import ApplicationError
from config.filters import BoundedIsoDateTimeFilter, IdFilter, StrictBooleanFilter
from config.images import image_prepare, image_response
from config.json_input import LimitedJSONParser
from config.openapi import ALREADY_REPORTED_RESPONSE
from config.pagination import DefaultCursorPagination
from config.serializer_fields import IdField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body
from groups import selectors as group_selectors
from reports.models import CasePhoto, Incident, IncidentComment
from reports.presentation import incident_awaiting_rating
from reports.selectors.incidents import (
    incident_comments,
    incident_duplicates,
    incident_for_viewer,
    incident_standing,
    incidents_visible_to,
)
from reports.services import incidents as services

CASE_PHOTO_MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 6


# --- fields ------------------------------------------------------------------------------------------------------


def _category(**kwargs) -> NamedChoiceField:
    # Named enums: dispute flags also have a "category" and a "status", with other choices.
    return NamedChoiceField(choices=Incident.Category.choices, enum_name="IncidentCategoryEnum", **kwargs)


def _status(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=Incident.Status.choices, enum_name="IncidentStatusEnum", **kwargs)


class CoordinateField(serializers.DecimalField):
    """Degrees, rounded to 6 decimal places (about 10 cm): phones send GPS fixes with more digits than that, and a
    fix is not wrong for being precise."""

    def __init__(self, *, limit: int, **kwargs):
        super().__init__(max_digits=9, decimal_places=6, min_value=-limit, max_value=limit, **kwargs)

    def validate_precision(self, value):
        try:
            value = value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        except InvalidOperation:
            self.fail("max_whole_digits", max_whole_digits=self.max_whole_digits)
        return super().validate_precision(value)


class LocationInputMixin(InputSerializer):
    latitude = CoordinateField(limit=90, required=False)
    longitude = CoordinateField(limit=180, required=False)

    def validate(self, attrs):
        if ("latitude" in attrs) != ("longitude" in attrs):
            raise serializers.ValidationError({"latitude": [_("Send both latitude and longitude, or neither.")]})
        return attrs


# --- output ------------------------------------------------------------------------------------------------------


class IncidentLocationOutput(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()


class IncidentReporterOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    phone = serializers.CharField(help_text="In full for the police, masked (138****1234) for everyone else")


class IncidentAssigneeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class IncidentTeamOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class IncidentSourceOutput(serializers.Serializer):
    group = serializers.IntegerField()
    seq = serializers.IntegerField()


class IncidentActorOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null for the reporter of an anonymous report")
    display_name = serializers.CharField()
    is_reporter = serializers.BooleanField()


def _viewer(serializer):
    return serializer.context["viewer"]


def _person(user_id, user, incident: Incident, viewer) -> dict | None:
    """Someone who acted on the case, as ``viewer`` may see them: the reporter of an anonymous report appears as
    "Anonymous reporter" to everyone but police admins and themself."""
    if user_id is None:
        return None
    is_reporter = user_id == incident.reporter_id
    if is_reporter and not can_see_incident_reporter(viewer, incident):
        return {"id": None, "display_name": _("Anonymous reporter"), "is_reporter": True}
    return {"id": user_id, "display_name": user.display_name if user else "", "is_reporter": is_reporter}


class IncidentOutput(serializers.ModelSerializer):
    category = _category()
    status = _status()
    category_label = serializers.CharField(source="get_category_display")
    status_label = serializers.CharField(source="get_status_display")
    reporter = serializers.SerializerMethodField()
    is_mine = serializers.SerializerMethodField()
    location = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    assigned_team = serializers.SerializerMethodField()
    awaiting_rating = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()
    group = serializers.IntegerField(source="card_message.group_id", default=None, allow_null=True)
    card_seq = serializers.IntegerField(source="card_message.seq", default=None, allow_null=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "alliance",
            "category",
            "category_label",
            "status",
            "status_label",
            "is_anonymous",
            "reporter",
            "is_mine",
            "description",
            "location",
            "occurred_at",
            "created_at",
            "accepted_at",
            "resolved_at",
            "closed_at",
            "rejection_reason",
            "resolution_notes",
            "assignee",
            "assigned_team",
            "satisfaction",
            "satisfaction_comment",
            "awaiting_rating",
            "merged_into",
            "source",
            "group",
            "card_seq",
        ]

    @extend_schema_field(IncidentReporterOutput(allow_null=True))
    def get_reporter(self, incident) -> dict | None:
        viewer = _viewer(self)
        if incident.reporter_id is None or not can_see_incident_reporter(viewer, incident):
            return None
        reporter = incident.reporter
        phone = str(reporter.phone or "") if can_see_full_phone_numbers(viewer) else mask_phone(reporter.phone)
        return {"id": reporter.pk, "display_name": reporter.display_name, "phone": phone}

    def get_is_mine(self, incident) -> bool:
        return incident.reporter_id is not None and incident.reporter_id == _viewer(self).pk

    @extend_schema_field(IncidentLocationOutput)
    def get_location(self, incident) -> dict:
        return {"latitude": float(incident.latitude), "longitude": float(incident.longitude)}

    @extend_schema_field(IncidentAssigneeOutput(allow_null=True))
    def get_assignee(self, incident) -> dict | None:
        if incident.assignee_id is None:
            return None
        return {"id": incident.assignee_id, "display_name": incident.assignee.display_name}

    @extend_schema_field(IncidentTeamOutput(allow_null=True))
    def get_assigned_team(self, incident) -> dict | None:
        if incident.assigned_team_id is None:
            return None
        return {"id": incident.assigned_team_id, "name": incident.assigned_team.name}

    def get_awaiting_rating(self, incident) -> bool:
        return incident_awaiting_rating(incident)

    @extend_schema_field(IncidentSourceOutput(allow_null=True))
    def get_source(self, incident) -> dict | None:
        message = incident.source_message
        return None if message is None else {"group": message.group_id, "seq": message.seq}


class IncidentDuplicateOutput(serializers.Serializer):
    """A possible duplicate, without its reporter or description: enough to say "this may already be reported"."""

    id = serializers.IntegerField()
    category = _category()
    status = _status()
    status_label = serializers.CharField(source="get_status_display")
    occurred_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    distance_m = serializers.FloatField(help_text="Metres from this case")


class IncidentCreatedOutput(IncidentOutput):
    duplicates = IncidentDuplicateOutput(many=True, read_only=True, source="duplicate_suggestions")

    class Meta(IncidentOutput.Meta):
        fields = [*IncidentOutput.Meta.fields, "duplicates"]


class IncidentTimelineEntryOutput(serializers.Serializer):
    kind = serializers.CharField()
    actor = serializers.SerializerMethodField()
    data = serializers.DictField()
    at = serializers.DateTimeField()

    @extend_schema_field(IncidentActorOutput(allow_null=True))
    def get_actor(self, event) -> dict | None:
        return _person(event.actor_id, event.actor, self.context["incident"], _viewer(self))


class IncidentCommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.SerializerMethodField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(IncidentActorOutput(allow_null=True))
    def get_author(self, comment) -> dict | None:
        return _person(comment.author_id, comment.author, self.context["incident"], _viewer(self))


class IncidentPhotoOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    thumbnail_url = serializers.CharField()


class IncidentDetailOutput(IncidentOutput):
    timeline = serializers.SerializerMethodField()
    comments = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    duplicates = IncidentDuplicateOutput(
        many=True,
        read_only=True,
        source="duplicate_suggestions",
        help_text="For the reporter and the police; empty for everyone else",
    )

    class Meta(IncidentOutput.Meta):
        fields = [*IncidentOutput.Meta.fields, "timeline", "comments", "photos", "duplicates"]

    def _nested(self, incident) -> dict:
        return {**self.context, "incident": incident}

    @extend_schema_field(IncidentTimelineEntryOutput(many=True))
    def get_timeline(self, incident) -> list[dict]:
        return IncidentTimelineEntryOutput(incident.events.all(), many=True, context=self._nested(incident)).data

    @extend_schema_field(IncidentCommentOutput(many=True))
    def get_comments(self, incident) -> list[dict]:
        return IncidentCommentOutput(incident.comments.all(), many=True, context=self._nested(incident)).data

    @extend_schema_field(IncidentPhotoOutput(many=True))
    def get_photos(self, incident) -> list[dict]:
        base = f"/api/v1/incidents/{incident.pk}/photos"
        return [
            {"id": p.pk, "url": f"{base}/{p.pk}", "thumbnail_url": f"{base}/{p.pk}?size=thumbnail"}
            for p in incident.photos.all()
        ]


# --- helpers -----------------------------------------------------------------------------------------------------


def _incident_or_404(request, incident_id: int) -> Incident:
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


def _detail(request, incident: Incident) -> dict:
    """The detail after a write: read again, with everything prefetched, as the write changed it."""
    fresh = _with_duplicates(request.user, incident_for_viewer(user=None, incident_id=incident.pk))
    return IncidentDetailOutput(fresh, context={"viewer": request.user}).data


# --- reporting ---------------------------------------------------------------------------------------------------


class IncidentReportApi(APIView):
    """A member reports an incident (JSON, or multipart with up to six photos). The answer lists possible
    duplicates: reports of the same kind within 50 m and 2 hours."""

    parser_classes = [LimitedJSONParser, MultiPartParser]

    class IncidentReportInput(LocationInputMixin):
        category = _category()
        description = StrictCharField(max_length=services.MAX_DESCRIPTION)
        occurred_at = serializers.DateTimeField(required=False)
        is_anonymous = serializers.BooleanField(required=False, default=False)
        client_id = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
        photos = serializers.ListField(
            child=serializers.FileField(), required=False, max_length=MAX_PHOTOS, default=list
        )

    @extend_schema(operation_id="incidents_report", request=IncidentReportInput, responses={201: IncidentCreatedOutput})
    def post(self, request, alliance_id: int):
        access = alliance_access(user=request.user, alliance_id=alliance_id)
        if access is None:
            raise Http404
        data = self.IncidentReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        photos = [
            image_prepare(upload, max_bytes=CASE_PHOTO_MAX_BYTES, max_side=2048, thumbnail_side=320)
            for upload in params.pop("photos")
        ]
        incident = services.incident_report(
            reporter=request.user, alliance=access.alliance, access=access, photos=photos, **params
        )
        return Response(_created(request, incident), status=status.HTTP_201_CREATED)


def _created(request, incident: Incident) -> dict:
    """The new incident as the service returned it (reading it again cost a quarter of the request:
    docs/performance.md), with its possible duplicates: the reporter always sees them."""
    incident.duplicate_suggestions = incident_duplicates(incident=incident)
    return IncidentCreatedOutput(incident, context={"viewer": request.user}).data


class IncidentFromMessageApi(APIView):
    """Turn a group message into an incident in one step; the case card is posted back into the group."""

    class IncidentFromMessageInput(LocationInputMixin):
        category = _category()
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
        membership = group_selectors.membership_for(user=request.user, group_id=group_id)
        if membership is None:
            raise Http404
        message = membership.group.messages.filter(seq=seq, deleted_at__isnull=True).exclude(kind="system").first()
        if message is None:
            raise Http404
        data = self.IncidentFromMessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident, created = services.incident_from_message(
            reporter=request.user, message=message, **data.validated_data
        )
        if created:
            return Response(_created(request, incident), status=status.HTTP_201_CREATED)
        # Already a case, which this caller may see: shown as they would see it (duplicates only if they may).
        shown = _with_duplicates(request.user, incident_for_viewer(user=request.user, incident_id=incident.pk))
        return Response(IncidentCreatedOutput(shown, context={"viewer": request.user}).data)


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
        return {**super().get_serializer_context(), "viewer": self.request.user}


class IncidentDetailApi(APIView):
    @extend_schema(operation_id="incidents_retrieve", responses=IncidentDetailOutput)
    def get(self, request, incident_id: int):
        incident = _with_duplicates(request.user, _incident_or_404(request, incident_id))
        return Response(IncidentDetailOutput(incident, context={"viewer": request.user}).data)


class IncidentDuplicatesApi(APIView):
    """Reports of the same kind within 50 m and 2 hours of this one, nearest first (the reporter and the police)."""

    @extend_schema(operation_id="incidents_duplicates", responses=IncidentDuplicateOutput(many=True))
    def get(self, request, incident_id: int):
        incident = _incident_or_404(request, incident_id)
        standing = incident_standing(user=request.user, incident=incident)
        if not can_see_incident_duplicates(request.user, incident, standing.access, posted=standing.posted):
            raise ApplicationError.permission_denied(_("Possible duplicates are shown to the reporter and the police."))
        return Response(IncidentDuplicateOutput(incident_duplicates(incident=incident), many=True).data)


class IncidentPhotoApi(APIView):
    @extend_schema(
        operation_id="incidents_photo",
        parameters=[OpenApiParameter("size", str, enum=["full", "thumbnail"])],
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY},
    )
    def get(self, request, incident_id: int, photo_id: int):
        incident = _incident_or_404(request, incident_id)
        photo = CasePhoto.objects.filter(incident=incident, pk=photo_id).first()
        if photo is None:
            raise Http404
        field = photo.thumbnail if request.query_params.get("size") == "thumbnail" else photo.image
        return image_response(field)


class IncidentCommentsApi(generics.ListAPIView):
    """The conversation on a case, oldest first. Everyone who may see the case may read and write here."""

    serializer_class = IncidentCommentOutput
    queryset = IncidentComment.objects.none()

    class Pagination(DefaultCursorPagination):
        ordering = "created_at"

    pagination_class = Pagination

    class IncidentCommentInput(InputSerializer):
        body = StrictCharField(max_length=services.MAX_COMMENT)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        self.incident = _incident_or_404(self.request, self.kwargs["incident_id"])
        return incident_comments(incident=self.incident)

    def get_serializer_context(self):
        context = {**super().get_serializer_context(), "viewer": self.request.user}
        if hasattr(self, "incident"):
            context["incident"] = self.incident
        return context

    @extend_schema(
        operation_id="incidents_comments_create", request=IncidentCommentInput, responses={201: IncidentCommentOutput}
    )
    def post(self, request, incident_id: int):
        incident = _incident_or_404(request, incident_id)
        data = self.IncidentCommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.incident_comment(author=request.user, incident=incident, body=data.validated_data["body"])
        context = {"viewer": request.user, "incident": incident}
        return Response(IncidentCommentOutput(comment, context=context).data, status=status.HTTP_201_CREATED)


# --- the workflow ------------------------------------------------------------------------------------------------


class IncidentAcceptApi(APIView):
    @extend_schema(operation_id="incidents_accept", request=NoBodyInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        no_body(request)
        incident = services.incident_accept(actor=request.user, incident=_incident_or_404(request, incident_id))
        return Response(_detail(request, incident))


class IncidentAssignApi(APIView):
    class IncidentAssignInput(InputSerializer):
        assignee = IdField(required=False, help_text="A responder or officer")
        team = IdField(required=False, help_text="A team group of the alliance")

        def validate(self, attrs):
            if ("assignee" in attrs) == ("team" in attrs):
                raise serializers.ValidationError({"assignee": [_("Assign to one person or one team.")]})
            return attrs

    @extend_schema(operation_id="incidents_assign", request=IncidentAssignInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        incident = _incident_or_404(request, incident_id)
        data = self.IncidentAssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_assign(
            actor=request.user,
            incident=incident,
            assignee_id=data.validated_data.get("assignee"),
            team_id=data.validated_data.get("team"),
        )
        return Response(_detail(request, incident))


class IncidentStartApi(APIView):
    @extend_schema(operation_id="incidents_start", request=NoBodyInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        no_body(request)
        incident = services.incident_start(actor=request.user, incident=_incident_or_404(request, incident_id))
        return Response(_detail(request, incident))


class IncidentResolveApi(APIView):
    class IncidentResolveInput(InputSerializer):
        notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="incidents_resolve", request=IncidentResolveInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        incident = _incident_or_404(request, incident_id)
        data = self.IncidentResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_resolve(actor=request.user, incident=incident, notes=data.validated_data["notes"])
        return Response(_detail(request, incident))


class IncidentCloseApi(APIView):
    @extend_schema(operation_id="incidents_close", request=NoBodyInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        no_body(request)
        incident = services.incident_close(actor=request.user, incident=_incident_or_404(request, incident_id))
        return Response(_detail(request, incident))


class IncidentRejectApi(APIView):
    class IncidentRejectInput(InputSerializer):
        reason = StrictCharField(max_length=500)

    @extend_schema(operation_id="incidents_reject", request=IncidentRejectInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        incident = _incident_or_404(request, incident_id)
        data = self.IncidentRejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_reject(actor=request.user, incident=incident, reason=data.validated_data["reason"])
        return Response(_detail(request, incident))


class IncidentReopenApi(APIView):
    class IncidentReopenInput(InputSerializer):
        reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="incidents_reopen", request=IncidentReopenInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        incident = _incident_or_404(request, incident_id)
        data = self.IncidentReopenInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_reopen(actor=request.user, incident=incident, reason=data.validated_data["reason"])
        return Response(_detail(request, incident))


class IncidentRateApi(APIView):
    class IncidentRateInput(InputSerializer):
        satisfaction = serializers.IntegerField(min_value=1, max_value=5)
        comment = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="incidents_rate", request=IncidentRateInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        incident = _incident_or_404(request, incident_id)
        data = self.IncidentRateInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_rate(actor=request.user, incident=incident, **data.validated_data)
        return Response(_detail(request, incident))


class IncidentMergeApi(APIView):
    """This case is a duplicate: fold it into ``into``, the case that carries on."""

    class IncidentMergeInput(InputSerializer):
        into = IdField(help_text="The primary case")

    @extend_schema(operation_id="incidents_merge", request=IncidentMergeInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        duplicate = _incident_or_404(request, incident_id)
        data = self.IncidentMergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        primary = incident_for_viewer(user=request.user, incident_id=data.validated_data["into"])
        if primary is None:
            raise ApplicationError.not_found(into=[_("Not found.")])
        incident = services.incident_merge(actor=request.user, duplicate=duplicate, primary=primary)
        return Response(_detail(request, incident))
