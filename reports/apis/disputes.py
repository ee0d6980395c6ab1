"""HTTP endpoints for dispute flags: flag, follow, acknowledge, arrive, resolve, escalate, cancel, timeline.

Only the reporter, the alliance's responders and the police of its jurisdiction see a flag; anyone else gets 404.
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
from config.filters import BoundedIsoDateTimeFilter, IdFilter
from config.images import image_prepare
from config.json_input import LimitedJSONParser
from config.openapi import ALREADY_REPORTED_RESPONSE
from config.pagination import DefaultCursorPagination
from config.serializer_fields import IdField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body
from reports.apis.case_photos import (
    CASE_PHOTO_MAX_BYTES,
    MAX_PHOTOS,
    PHOTO_SIZE_PARAMETER,
    case_photo_links,
    case_photo_response,
)
from reports.apis.group_messages import group_message_or_404
from reports.models import CasePhoto, Dispute
from reports.selectors.disputes import dispute_for_viewer, disputes_visible_to
from reports.services import disputes as services


class CaseEventOutput(serializers.Serializer):
    kind = serializers.CharField()
    actor = serializers.SerializerMethodField()
    data = serializers.DictField()
    at = serializers.DateTimeField()

    def get_actor(self, event) -> dict | None:
        if event.actor_id is None:
            return None
        return {"id": event.actor_id, "display_name": event.actor.display_name}


class ResponderOutput(serializers.Serializer):
    responder = serializers.IntegerField(source="responder_id")
    display_name = serializers.CharField(source="responder.display_name")
    acknowledged_at = serializers.DateTimeField()
    eta_minutes = serializers.IntegerField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)


class DisputeOutput(serializers.ModelSerializer):
    location = serializers.SerializerMethodField()
    store_name = serializers.CharField(source="store.name", default=None, allow_null=True)  # null: no store
    reporter = serializers.SerializerMethodField()
    card_seq = serializers.IntegerField(source="card_message.seq", default=None)
    group = serializers.IntegerField(source="card_message.group_id", default=None)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "alliance",
            "store",
            "store_name",
            "reporter",
            "category",
            "note",
            "people_involved",
            "location",
            "status",
            "level",
            "flagged_at",
            "acknowledged_at",
            "arrived_at",
            "resolved_at",
            "escalate_at",
            "outcome",
            "group",
            "card_seq",
        ]

    def get_location(self, dispute) -> dict:
        return {"latitude": float(dispute.latitude), "longitude": float(dispute.longitude)}

    def get_reporter(self, dispute) -> dict | None:
        if dispute.reporter_id is None:
            return None
        return {"id": dispute.reporter_id, "display_name": dispute.reporter.display_name}


class DisputeDetailOutput(DisputeOutput):
    responders = ResponderOutput(many=True)
    timeline = CaseEventOutput(many=True, source="events")
    photos = serializers.SerializerMethodField()

    class Meta(DisputeOutput.Meta):
        fields = [
            *DisputeOutput.Meta.fields,
            "resolution_notes",
            "parties",
            "mediation_record",
            "responders",
            "timeline",
            "photos",
        ]

    def get_photos(self, dispute) -> list[dict]:
        return case_photo_links(dispute.photos.all(), base=f"/api/v1/disputes/{dispute.pk}/photos")


class DisputeFlagInput(InputSerializer):
    category = serializers.ChoiceField(choices=Dispute.Category.choices)
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    people_involved = serializers.IntegerField(min_value=1, max_value=500, required=False, default=2)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False)
    store = IdField(required=False)
    client_id = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    photos = serializers.ListField(child=serializers.FileField(), required=False, max_length=MAX_PHOTOS, default=list)

    def validate(self, attrs):
        if ("latitude" in attrs) != ("longitude" in attrs):
            raise serializers.ValidationError({"latitude": [_("Send both latitude and longitude, or neither.")]})
        return attrs


class DisputeFlagApi(APIView):
    """A merchant flags a dispute or emergency in one call (JSON, or multipart with photos)."""

    parser_classes = [LimitedJSONParser, MultiPartParser]

    @extend_schema(operation_id="disputes_flag", request=DisputeFlagInput, responses={201: DisputeOutput})
    def post(self, request, alliance_id: int):
        dispute = dispute_flag_from_input(user=request.user, alliance_id=alliance_id, data=request.data)
        return Response(DisputeOutput(dispute).data, status=status.HTTP_201_CREATED)


def dispute_flag_from_input(*, user, alliance_id: int, data) -> Dispute:
    """Flagging a dispute, the one write path for REST (``POST /api/v1/alliances/{id}/disputes``) and the socket (the
    ``flag`` frame, reports/socket_frames.py): the reporter's access to the alliance (404 otherwise),
    :class:`DisputeFlagInput`, the store within the alliance, then :func:`reports.services.disputes.dispute_flag`
    with that access. Refusals are raised as REST raises them; the socket answers each with the same code, message
    and fields. (The socket carries no files: its frame does not accept ``photos``.)"""
    access = alliance_access_or_404(user=user, alliance_id=alliance_id)
    validated = DisputeFlagInput(data=data)
    validated.is_valid(raise_exception=True)
    params = dict(validated.validated_data)
    store = None
    if "store" in params:
        store = access.alliance.stores.filter(pk=params.pop("store")).first()
        if store is None:
            raise Http404
    photos = [
        image_prepare(upload, max_bytes=CASE_PHOTO_MAX_BYTES, max_side=2048, thumbnail_side=320)
        for upload in params.pop("photos")
    ]
    return services.dispute_flag(
        reporter=user, alliance=access.alliance, access=access, store=store, photos=photos, **params
    )


class DisputeFromMessageApi(APIView):
    """Turn a group message ("two people are quarrelling over here") into a flag in one step."""

    class DisputeFromMessageInput(InputSerializer):
        category = serializers.ChoiceField(choices=Dispute.Category.choices)

    @extend_schema(
        operation_id="disputes_from_message",
        request=DisputeFromMessageInput,
        responses={
            201: DisputeOutput,
            200: OpenApiResponse(DisputeOutput, description="The message is already this flag, which you may see"),
            409: ALREADY_REPORTED_RESPONSE,
        },
    )
    def post(self, request, group_id: int, seq: int):
        message = group_message_or_404(request, group_id=group_id, seq=seq)
        data = self.DisputeFromMessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispute, created = services.dispute_from_message(
            reporter=request.user, message=message, category=data.validated_data["category"]
        )
        return Response(DisputeOutput(dispute).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class DisputeFilter(django_filters.FilterSet):
    alliance = IdFilter(field_name="alliance_id")
    status = django_filters.MultipleChoiceFilter(choices=Dispute.Status.choices)
    category = django_filters.ChoiceFilter(choices=Dispute.Category.choices)
    level = django_filters.ChoiceFilter(choices=Dispute.Level.choices)
    flagged_after = BoundedIsoDateTimeFilter(field_name="flagged_at", lookup_expr="gte")
    flagged_before = BoundedIsoDateTimeFilter(field_name="flagged_at", lookup_expr="lt")


class DisputeListApi(generics.ListAPIView):
    """Flags I reported or may respond to, newest first."""

    serializer_class = DisputeOutput
    filterset_class = DisputeFilter
    queryset = Dispute.objects.none()

    class Pagination(DefaultCursorPagination):
        ordering = "-flagged_at"

    pagination_class = Pagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return disputes_visible_to(user=self.request.user)


def _dispute_or_404(request, dispute_id: int) -> Dispute:
    dispute = dispute_for_viewer(user=request.user, dispute_id=dispute_id)
    if dispute is None:
        raise Http404
    return dispute


def _detail(dispute: Dispute) -> dict:
    """The detail after a write: read again, with everything prefetched, as the write changed it."""
    return DisputeDetailOutput(dispute_for_viewer(user=None, dispute_id=dispute.pk)).data


class DisputeDetailApi(APIView):
    @extend_schema(operation_id="disputes_retrieve", responses=DisputeDetailOutput)
    def get(self, request, dispute_id: int):
        return Response(DisputeDetailOutput(_dispute_or_404(request, dispute_id)).data)


class DisputeAcknowledgeApi(APIView):
    class AcknowledgeInput(InputSerializer):
        eta_minutes = serializers.IntegerField(min_value=0, max_value=240, required=False, allow_null=True)

    @extend_schema(operation_id="disputes_acknowledge", request=AcknowledgeInput, responses=DisputeDetailOutput)
    def post(self, request, dispute_id: int):
        dispute = _dispute_or_404(request, dispute_id)
        data = self.AcknowledgeInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = services.dispute_acknowledge(
            responder=request.user, dispute=dispute, eta_minutes=data.validated_data.get("eta_minutes")
        )
        return Response(_detail(dispute))


class DisputeArriveApi(APIView):
    @extend_schema(operation_id="disputes_arrive", request=NoBodyInput, responses=DisputeDetailOutput)
    def post(self, request, dispute_id: int):
        no_body(request)
        dispute = services.dispute_arrive(responder=request.user, dispute=_dispute_or_404(request, dispute_id))
        return Response(_detail(dispute))


class PartyInput(InputSerializer):
    name = StrictCharField(max_length=50)
    role = StrictCharField(max_length=50, required=False, allow_blank=True, default="")
    phone = StrictCharField(max_length=32, required=False, allow_blank=True, default="")


class DisputeResolveApi(APIView):
    class ResolveInput(InputSerializer):
        outcome = serializers.ChoiceField(choices=Dispute.Outcome.choices)
        notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
        parties = PartyInput(many=True, required=False, default=list, max_length=10)
        mediation_record = StrictCharField(max_length=10000, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="disputes_resolve", request=ResolveInput, responses=DisputeDetailOutput)
    def post(self, request, dispute_id: int):
        dispute = _dispute_or_404(request, dispute_id)
        data = self.ResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = services.dispute_resolve(responder=request.user, dispute=dispute, **data.validated_data)
        return Response(_detail(dispute))


class DisputeEscalateApi(APIView):
    class EscalateInput(InputSerializer):
        reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="disputes_escalate", request=EscalateInput, responses=DisputeDetailOutput)
    def post(self, request, dispute_id: int):
        dispute = _dispute_or_404(request, dispute_id)
        data = self.EscalateInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = services.dispute_escalate(actor=request.user, dispute=dispute, reason=data.validated_data["reason"])
        return Response(_detail(dispute))


class DisputeCancelApi(APIView):
    @extend_schema(operation_id="disputes_cancel", request=NoBodyInput, responses=DisputeDetailOutput)
    def post(self, request, dispute_id: int):
        no_body(request)
        dispute = services.dispute_cancel(reporter=request.user, dispute=_dispute_or_404(request, dispute_id))
        return Response(_detail(dispute))


class DisputePhotoApi(APIView):
    @extend_schema(
        operation_id="disputes_photo",
        parameters=[PHOTO_SIZE_PARAMETER],
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY},
    )
    def get(self, request, dispute_id: int, photo_id: int):
        dispute = _dispute_or_404(request, dispute_id)
        return case_photo_response(request, CasePhoto.objects.filter(dispute=dispute), photo_id)
