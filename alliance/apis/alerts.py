"""HTTP endpoints for alerts: the police's drafts, publishing, withdrawal, pictures, reach and the stores that have not
read an alert (JSON and CSV); everyone's inbox, with read and acknowledge."""

from __future__ import annotations

import django_filters
from django.db.models import CharField
from django.db.models.functions import Cast
from django.http import Http404
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.alert_audience import AUDIENCE_ROLES, AudienceSpec, audience_described, audience_names
from alliance.error_codes import AllianceErrorCode
from alliance.models import Alert, AlertKind, Station, TipTopic
from alliance.selectors import alerts as selectors
from alliance.services import alerts as services
from config.csv_download import CsvDownloadMixin, csv_response
from config.errors import ApplicationError
from config.filters import StrictBooleanFilter
from config.images import image_response
from config.pagination import DefaultCursorPagination
from config.serializer_fields import BoundedDateTimeField, IdField, NamedChoiceField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body

MAX_AUDIENCE_PLACES = 200


def _kind_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=AlertKind.choices, enum_name="AlertKindEnum", **kwargs)


def _topic_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=TipTopic.choices, enum_name="TipTopicEnum", **kwargs)


def _severity_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=Alert.Severity.choices, enum_name="AlertSeverityEnum", **kwargs)


# --- output ----


class AlertImageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    url = serializers.CharField()


def _image_body(alert_id: int, row: dict) -> dict:
    return {**row, "url": reverse("alert-image", kwargs={"alert_id": alert_id, "image_id": row["id"]})}


class _AlertTextOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = _kind_field()
    topic = serializers.CharField(help_text="For safety tips: fire, drunk_driving, theft_prevention, anti_fraud, other")
    severity = _severity_field()
    title = serializers.CharField()
    body = serializers.CharField()
    case_example = serializers.CharField()
    title_en = serializers.CharField()
    body_en = serializers.CharField()
    images = serializers.SerializerMethodField()
    requires_ack = serializers.BooleanField()
    publish_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(AlertImageOutput(many=True))
    def get_images(self, alert) -> list[dict]:
        return [_image_body(alert.pk, row) for row in selectors.alert_image_rows(alert)]


class InboxAlertOutput(_AlertTextOutput):
    """One alert of the person's inbox; ``title`` and ``body`` in English when the app asks for English and the
    police wrote it."""

    read_at = serializers.DateTimeField(source="my_read_at", allow_null=True)
    acknowledged_at = serializers.DateTimeField(source="my_acknowledged_at", allow_null=True)

    def to_representation(self, alert):
        data = super().to_representation(alert)
        if (get_language() or "").startswith("en") and alert.title_en:
            data["title"], data["body"] = alert.title_en, alert.body_en or alert.body
        return data


class AudiencePlaceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AudienceOutput(serializers.Serializer):
    stations = AudiencePlaceOutput(many=True)
    alliances = AudiencePlaceOutput(many=True)
    zones = AudiencePlaceOutput(many=True)
    groups = AudiencePlaceOutput(many=True)
    roles = serializers.ListField(child=serializers.CharField())


class ReachOutput(serializers.Serializer):
    targeted = serializers.IntegerField(allow_null=True, help_text="The audience's size when it was sent")
    delivered_live = serializers.IntegerField(help_text="People online who got it over the socket at once")
    pushed = serializers.IntegerField(help_text="Devices the push providers accepted it for")
    read = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    stores_targeted = serializers.IntegerField()
    stores_unread = serializers.IntegerField(help_text="Stores in the audience where nobody has read it")


class ManagedAlertOutput(_AlertTextOutput):
    station = serializers.IntegerField(source="station_id")
    status = NamedChoiceField(choices=Alert.Status.choices, enum_name="AlertStatusEnum")
    audience = serializers.SerializerMethodField()
    ack_reminder_minutes = serializers.IntegerField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    targeted = serializers.IntegerField(source="targeted_count", allow_null=True)
    delivered_live = serializers.IntegerField(source="live_count")
    pushed = serializers.IntegerField(source="pushed_count")

    @extend_schema_field(AudienceOutput)
    def get_audience(self, alert) -> dict:
        names = self.context.get("audience_names")  # a page's names, read once for the page
        return AudienceOutput(audience_described(AudienceSpec.from_json(alert.audience), names)).data


class UnreadStoreOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    alliance = serializers.IntegerField(source="alliance_id")
    alliance_name = serializers.CharField(source="alliance.name")
    owner_name = serializers.CharField(source="owner.display_name")
    owner_phone = serializers.CharField(source="owner.phone", help_text="Full number: only police see this list")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)


# --- input ----


class AudienceInput(InputSerializer):
    stations = serializers.ListField(child=IdField(), required=False, max_length=MAX_AUDIENCE_PLACES, default=list)
    alliances = serializers.ListField(child=IdField(), required=False, max_length=MAX_AUDIENCE_PLACES, default=list)
    zones = serializers.ListField(child=IdField(), required=False, max_length=MAX_AUDIENCE_PLACES, default=list)
    groups = serializers.ListField(child=IdField(), required=False, max_length=MAX_AUDIENCE_PLACES, default=list)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=AUDIENCE_ROLES),
        required=False,
        max_length=len(AUDIENCE_ROLES),
        default=list,
        help_text="Alliance roles that narrow the places; empty: everyone there",
    )


class AlertInput(InputSerializer):
    station = IdField(help_text="The police unit publishing it (one in your jurisdiction)")
    kind = _kind_field()
    topic = _topic_field(required=False, help_text="Safety tips only; default other")
    severity = _severity_field(required=False, default=Alert.Severity.NORMAL)
    title = StrictCharField(max_length=120)
    body = StrictCharField(max_length=5000)
    case_example = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")
    title_en = StrictCharField(max_length=120, required=False, allow_blank=True, default="")
    body_en = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")
    audience = AudienceInput()
    requires_ack = serializers.BooleanField(required=False, default=False)
    ack_reminder_minutes = serializers.IntegerField(
        min_value=1, max_value=services.MAX_REMINDER_MINUTES, required=False, allow_null=True, default=None
    )
    publish_at = BoundedDateTimeField(required=False, allow_null=True, default=None, help_text="Empty: at once")
    expires_at = BoundedDateTimeField(required=False, allow_null=True, default=None)

    def content(self) -> services.AlertContent:
        data = dict(self.validated_data)
        data.pop("station", None)
        data["audience"] = AudienceSpec(**data["audience"])
        return services.AlertContent(**data)


def _station_in_jurisdiction_or_404(station_id: int) -> Station:
    station = Station.objects.filter(pk=station_id).first()
    if station is None:
        raise ApplicationError.not_found(station=[_("Not found.")])
    return station


class AlertFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Alert.Status.choices)
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices)
    severity = django_filters.ChoiceFilter(choices=Alert.Severity.choices)


class InboxFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices)
    requires_ack = StrictBooleanFilter()


class ManagedAlertPagination(DefaultCursorPagination):
    ordering = ("-created_at", "-id")


class InboxPagination(DefaultCursorPagination):
    page_size = 20
    ordering = ("-publish_at", "-id")


class UnreadStorePagination(DefaultCursorPagination):
    ordering = ("alliance_id", "name", "id")


# --- the police ----


class AlertListApi(generics.ListAPIView):
    """Police admins: the alerts of the units in their jurisdiction, drafts included, newest first."""

    serializer_class = ManagedAlertOutput
    pagination_class = ManagedAlertPagination
    filterset_class = AlertFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        return selectors.alerts_managed_by(user=self.request.user)

    def get_serializer(self, *args, **kwargs):
        if args and isinstance(args[0], list):  # the page: name its audiences' places in one query per kind
            kwargs["context"] = {
                **self.get_serializer_context(),
                "audience_names": audience_names([AudienceSpec.from_json(alert.audience) for alert in args[0]]),
            }
        return super().get_serializer(*args, **kwargs)

    @extend_schema(
        operation_id="alerts_create",
        request=AlertInput,
        responses={201: ManagedAlertOutput},
        summary="Police admins: write an alert as a draft (publish it with POST /alerts/{id}/publish)",
    )
    def post(self, request):
        data = AlertInput(data=request.data)
        data.is_valid(raise_exception=True)
        station = _station_in_jurisdiction_or_404(data.validated_data["station"])
        alert = services.alert_create(actor=request.user, station=station, content=data.content())
        return Response(ManagedAlertOutput(_managed(request, alert.pk)).data, status=status.HTTP_201_CREATED)


def _managed(request, alert_id: int) -> Alert:
    return selectors.managed_alert_or_404(user=request.user, alert_id=alert_id)


class AlertDetailApi(APIView):
    @extend_schema(operation_id="alerts_retrieve", responses=ManagedAlertOutput)
    def get(self, request, alert_id: int):
        return Response(ManagedAlertOutput(_managed(request, alert_id)).data)

    @extend_schema(
        operation_id="alerts_update",
        request=AlertInput,
        responses=ManagedAlertOutput,
        summary="Police admins: rewrite a draft, or an alert published for later that has not gone out",
    )
    def put(self, request, alert_id: int):
        alert = _managed(request, alert_id)
        data = AlertInput(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["station"] != alert.station_id:
            raise ApplicationError.invalid("station", _("An alert stays with the unit that wrote it."))
        services.alert_update(actor=request.user, alert=alert, content=data.content())
        return Response(ManagedAlertOutput(_managed(request, alert_id)).data)

    @extend_schema(operation_id="alerts_delete", request=NoBodyInput, responses={204: None}, summary="Delete a draft")
    def delete(self, request, alert_id: int):
        no_body(request)
        services.alert_delete_draft(actor=request.user, alert=_managed(request, alert_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertPublishApi(APIView):
    @extend_schema(
        operation_id="alerts_publish",
        request=NoBodyInput,
        responses=ManagedAlertOutput,
        summary="Police admins: publish a draft, at once or at its publish_at (repeating it changes nothing)",
    )
    def post(self, request, alert_id: int):
        no_body(request)
        services.alert_publish(actor=request.user, alert=_managed(request, alert_id))
        return Response(ManagedAlertOutput(_managed(request, alert_id)).data)


class AlertWithdrawApi(APIView):
    @extend_schema(
        operation_id="alerts_withdraw",
        request=NoBodyInput,
        responses=ManagedAlertOutput,
        summary="Police admins: withdraw a published alert; it leaves every inbox and its cards say so",
    )
    def post(self, request, alert_id: int):
        no_body(request)
        services.alert_withdraw(actor=request.user, alert=_managed(request, alert_id))
        return Response(ManagedAlertOutput(_managed(request, alert_id)).data)


class AlertImageUploadApi(APIView):
    """Pictures of an alert (a wanted notice's photos, a scam's screenshots): multipart, at most 5 MB each and 9 in
    all, re-encoded without EXIF; only before the alert goes out."""

    parser_classes = [MultiPartParser]

    class AlertImageInput(InputSerializer):
        image = serializers.FileField()

    @extend_schema(
        operation_id="alerts_images_upload",
        request={"multipart/form-data": AlertImageInput},
        responses={201: AlertImageOutput},
    )
    def post(self, request, alert_id: int):
        alert = _managed(request, alert_id)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > services.ALERT_IMAGE_MAX_BYTES + 64 * 1024:
            raise ApplicationError(
                AllianceErrorCode.PAYLOAD_TOO_LARGE,
                _("The image is larger than %(mb)s MB.") % {"mb": services.ALERT_IMAGE_MAX_BYTES // (1024 * 1024)},
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        data = self.AlertImageInput(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.alert_image_add(actor=request.user, alert=alert, upload=data.validated_data["image"])
        row = {"id": image.pk, "width": image.width, "height": image.height}
        return Response(AlertImageOutput(_image_body(alert.pk, row)).data, status=status.HTTP_201_CREATED)


class AlertImageApi(APIView):
    """The picture, to the alert's managers and to the people in whose inbox the alert is."""

    @extend_schema(operation_id="alerts_images_retrieve", responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, alert_id: int, image_id: int):
        alert = selectors.alerts_managed_by(user=request.user).filter(pk=alert_id).first()
        if alert is None:
            alert = selectors.inbox_alert_or_404(user=request.user, alert_id=alert_id)
        image = selectors.alert_image_or_404(alert=alert, image_id=image_id)
        if not image.image:
            raise Http404
        return image_response(image.image)

    @extend_schema(operation_id="alerts_images_delete", request=NoBodyInput, responses={204: None})
    def delete(self, request, alert_id: int, image_id: int):
        no_body(request)
        alert = _managed(request, alert_id)
        image = selectors.alert_image_or_404(alert=alert, image_id=image_id)
        services.alert_image_remove(actor=request.user, alert=alert, image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertReachApi(APIView):
    @extend_schema(
        operation_id="alerts_reach",
        responses=ReachOutput,
        summary="Police admins: targeted, delivered live, pushed, read, acknowledged, and the stores not reached",
    )
    def get(self, request, alert_id: int):
        return Response(ReachOutput(selectors.alert_reach(alert=_managed(request, alert_id))).data)


class AlertUnreadStoresApi(generics.ListAPIView):
    """Police admins: the stores in the audience where nobody has read the alert yet, so officers can visit them."""

    serializer_class = UnreadStoreOutput
    pagination_class = UnreadStorePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        return selectors.alert_unread_stores(alert=_managed(self.request, self.kwargs["alert_id"]))


class AlertUnreadStoresCsvApi(CsvDownloadMixin, APIView):
    @extend_schema(
        operation_id="alerts_unread_stores_csv",
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        summary="Police admins: the stores that have not read the alert, as a spreadsheet (CSV, UTF-8 with BOM)",
    )
    def get(self, request, alert_id: int):
        alert = _managed(request, alert_id)
        rows = [[_("Store"), _("Address"), _("Alliance"), _("Owner"), _("Phone")]]
        # Five columns read as values, not a Store, Alliance and User built per row, and the phone as the text it is
        # stored as, not parsed into a PhoneNumber and printed again: 6,400 rows in 0.09 s, not 1.4 s.
        unread = selectors.alert_unread_stores(alert=alert).annotate(phone_text=Cast("owner__phone", CharField()))
        rows += unread.values_list("name", "address", "alliance__name", "owner__display_name", "phone_text")
        return csv_response(rows, filename=f"pingan-alert-{alert.pk}-unread-stores.csv")


# --- everyone's inbox ----


class InboxCountsOutput(serializers.Serializer):
    unread = serializers.IntegerField()
    unacknowledged = serializers.IntegerField(help_text="Alerts asking for an acknowledgement not yet given")


class MyAlertListApi(generics.ListAPIView):
    """The person's inbox: the alerts aimed at them, published, due and not expired, newest first."""

    serializer_class = InboxAlertOutput
    pagination_class = InboxPagination
    filterset_class = InboxFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        return selectors.alerts_with_images(selectors.inbox_for(user=self.request.user).alerts)


class MyAlertCountsApi(APIView):
    @extend_schema(operation_id="me_alerts_counts", responses=InboxCountsOutput, summary="The inbox's badge")
    def get(self, request):
        return Response(InboxCountsOutput(selectors.inbox_counts(user=request.user)).data)


class MyAlertDetailApi(APIView):
    @extend_schema(operation_id="me_alerts_retrieve", responses=InboxAlertOutput)
    def get(self, request, alert_id: int):
        return Response(InboxAlertOutput(selectors.inbox_alert_or_404(user=request.user, alert_id=alert_id)).data)


def _with_receipt(alert: Alert, receipt) -> Alert:
    """The inbox alert as the person's receipt now stands (what ``inbox_for`` annotates), without reading it again."""
    alert.my_read_at, alert.my_acknowledged_at = receipt.read_at, receipt.acknowledged_at
    return alert


class MyAlertReadApi(APIView):
    @extend_schema(operation_id="me_alerts_read", request=NoBodyInput, responses=InboxAlertOutput, summary="Mark read")
    def post(self, request, alert_id: int):
        no_body(request)
        alert = selectors.inbox_alert_or_404(user=request.user, alert_id=alert_id)
        receipt = services.alert_read(user=request.user, alert=alert)
        return Response(InboxAlertOutput(_with_receipt(alert, receipt)).data)


class MyAlertAcknowledgeApi(APIView):
    @extend_schema(
        operation_id="me_alerts_acknowledge",
        request=NoBodyInput,
        responses=InboxAlertOutput,
        summary='"I have read and understood" (code alert_no_ack when the alert asks for none); repeating it is fine',
    )
    def post(self, request, alert_id: int):
        no_body(request)
        alert = selectors.inbox_alert_or_404(user=request.user, alert_id=alert_id)
        receipt = services.alert_acknowledge(user=request.user, alert=alert)
        return Response(InboxAlertOutput(_with_receipt(alert, receipt)).data)
