"""HTTP endpoints of a patrol shift as it happens: check-in, checkpoint scans, the patrol log, check-out, the offline
batch, the attempts (for leaders and the police) and the checkpoints' signed QR codes.

Positions come with ``coordinate_system`` (``wgs84``, the default, or ``gcj02`` from Amap and Tencent maps) and are
stored as WGS-84. A refusal answers 422 with its ``code`` (``too_early``, ``outside_zone``, ...), a message giving
the figures, and the figures themselves in ``figures`` (``minutes_early``, ``metres_outside``, ...); the refused
attempt is recorded all the same.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.coordinates import COORDINATE_SYSTEMS
from config.errors import ApplicationError
from config.images import image_prepare
from config.json_input import LimitedJSONParser
from config.serializer_fields import BoundedDateTimeField, IdField, NamedChoiceField, StrictCharField
from config.serializers import InputSerializer
from groups.checkpoint_codes import CODE_MAX_LENGTH, checkpoint_code_for, checkpoint_png_base64
from groups.models import PatrolAttempt, PatrolLogEntry, ShiftSignup
from groups.patrol_refusals import refusal_message
from groups.selectors.patrol_attempts import checkpoint_for_codes_or_404, shift_attempts, shift_for_attempts_or_404
from groups.services.checkpoint_scans import MAX_ROUNDS, checkpoint_scan
from groups.services.patrol_batches import MAX_ITEMS, patrol_batch_process
from groups.services.patrol_log import MAX_COUNT, MAX_NOTE, patrol_log_add
from groups.services.shift_check_ins import shift_check_in, shift_check_out

LOG_PHOTO_MAX_BYTES = 10 * 1024 * 1024  # as a case photo: the hidden danger's photo becomes one


class FiniteFloatField(serializers.FloatField):
    """A number that is one: NaN and infinities are refused (DRF compares them with the bounds and lets them by)."""

    default_error_messages = {"not_finite": _("Send a finite number.")}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("not_finite")
        return value


def coordinate_system_field():
    return NamedChoiceField(
        choices=COORDINATE_SYSTEMS, enum_name="CoordinateSystemEnum", required=False, default="wgs84"
    )


class PositionInput(InputSerializer):
    latitude = FiniteFloatField(min_value=-90, max_value=90)
    longitude = FiniteFloatField(min_value=-180, max_value=180)
    coordinate_system = coordinate_system_field()
    accuracy = FiniteFloatField(source="accuracy_metres", min_value=0, max_value=100_000, help_text="Metres")
    device_time = BoundedDateTimeField(help_text="The phone's clock, ISO 8601 with its offset")
    mock_location = serializers.BooleanField(required=False, default=False)
    client_id = StrictCharField(max_length=64, required=False, allow_blank=True, default="")


class ScanInput(PositionInput):
    code = StrictCharField(max_length=CODE_MAX_LENGTH, help_text="What the checkpoint's QR code says")
    round = serializers.IntegerField(min_value=1, max_value=MAX_ROUNDS, required=False, default=1)


class LogInput(InputSerializer):
    kind = NamedChoiceField(choices=PatrolLogEntry.Kind.choices, enum_name="PatrolLogKindEnum")
    note = StrictCharField(max_length=MAX_NOTE, required=False, allow_blank=True, default="")
    flyers = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, required=False, default=0)
    people_reached = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, required=False, default=0)
    latitude = FiniteFloatField(min_value=-90, max_value=90, required=False)
    longitude = FiniteFloatField(min_value=-180, max_value=180, required=False)
    coordinate_system = coordinate_system_field()
    device_time = BoundedDateTimeField(required=False)
    client_id = StrictCharField(max_length=64, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if ("latitude" in attrs) != ("longitude" in attrs):
            raise serializers.ValidationError({"latitude": [_("Send both latitude and longitude, or neither.")]})
        return attrs


class LogWithPhotoInput(LogInput):
    photo = serializers.FileField(required=False, help_text="A hidden danger's photo (JPEG, PNG, WEBP, 10 MB)")


# --- outputs -------------------------------------------------------------------------------------------------------


class PlaceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    shift = serializers.IntegerField(source="shift_id")
    attendance = NamedChoiceField(choices=ShiftSignup.Attendance.choices, enum_name="ShiftAttendanceEnum")
    checked_in_at = serializers.DateTimeField(allow_null=True)
    checked_out_at = serializers.DateTimeField(allow_null=True)
    verified_seconds = serializers.IntegerField()
    needs_review = serializers.BooleanField()


class CheckInOutput(serializers.Serializer):
    attempt = serializers.IntegerField(source="pk")
    duplicate = serializers.BooleanField(help_text="True when this client_id was already accepted (nothing changed)")
    place = PlaceOutput(source="signup")


class ScanOutput(serializers.Serializer):
    attempt = serializers.IntegerField(source="pk")
    duplicate = serializers.BooleanField()
    checkpoint = serializers.IntegerField(source="scan.checkpoint_id")
    checkpoint_name = serializers.CharField(source="scan.checkpoint.name")
    round = serializers.IntegerField(source="scan.round")
    scanned_at = serializers.DateTimeField(source="scan.scanned_at")


class LogEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    duplicate = serializers.BooleanField()
    kind = NamedChoiceField(choices=PatrolLogEntry.Kind.choices, enum_name="PatrolLogKindEnum")
    note = serializers.CharField()
    flyers = serializers.IntegerField()
    people_reached = serializers.IntegerField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    incident = serializers.IntegerField(source="incident_id", allow_null=True)
    created_at = serializers.DateTimeField()


class RefusalOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField()
    figures = serializers.DictField(help_text="minutes_early, metres_outside, accuracy_metres, metres_away, ...")


REFUSED = OpenApiResponse(RefusalOutput, description="Refused (and recorded): the code says why, figures how much")


def _outcome(attempt: PatrolAttempt) -> PatrolAttempt:
    attempt.duplicate = getattr(attempt, "duplicate", False)
    return attempt


# --- check-in, check-out, scans ------------------------------------------------------------------------------------


class ShiftCheckInApi(APIView):
    """Check in to a shift from inside its zone, within its window (from the grace period before its start)."""

    @extend_schema(operation_id="shifts_check_in", request=PositionInput, responses={200: CheckInOutput, 422: REFUSED})
    def post(self, request, shift_id: int):
        data = PositionInput(data=request.data)
        data.is_valid(raise_exception=True)
        attempt = shift_check_in(user=request.user, shift=shift_id, **data.validated_data)
        return Response(CheckInOutput(_outcome(attempt)).data)


class ShiftCheckOutApi(APIView):
    """Check out: the answer carries the verified time (the part of one's time on duty inside the shift)."""

    @extend_schema(operation_id="shifts_check_out", request=PositionInput, responses={200: CheckInOutput, 422: REFUSED})
    def post(self, request, shift_id: int):
        data = PositionInput(data=request.data)
        data.is_valid(raise_exception=True)
        attempt = shift_check_out(user=request.user, shift=shift_id, **data.validated_data)
        return Response(CheckInOutput(_outcome(attempt)).data)


class ShiftScanApi(APIView):
    """Scan a checkpoint's QR code on the shift's route, at the checkpoint; once per checkpoint and round."""

    @extend_schema(operation_id="shifts_scans_create", request=ScanInput, responses={201: ScanOutput, 422: REFUSED})
    def post(self, request, shift_id: int):
        data = ScanInput(data=request.data)
        data.is_valid(raise_exception=True)
        attempt = checkpoint_scan(user=request.user, shift=shift_id, **data.validated_data)
        return Response(ScanOutput(_outcome(attempt)).data, status=status.HTTP_201_CREATED)


class ShiftLogApi(APIView):
    """Add to the patrol log (JSON, or multipart with a hidden danger's photo): while checked in, or within two
    hours of checking out. A hidden danger becomes an incident report (``incident``)."""

    parser_classes = [LimitedJSONParser, MultiPartParser]

    @extend_schema(
        operation_id="shifts_log_add",
        request={"application/json": LogInput, "multipart/form-data": LogWithPhotoInput},
        responses={201: LogEntryOutput, 422: REFUSED},
    )
    def post(self, request, shift_id: int):
        data = LogWithPhotoInput(data=request.data)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        upload = params.pop("photo", None)
        photo = None
        if upload is not None:
            if params["kind"] != PatrolLogEntry.Kind.HIDDEN_DANGER:
                raise ApplicationError.invalid("photo", _("Only a hidden danger takes a photo."))
            photo = image_prepare(upload, max_bytes=LOG_PHOTO_MAX_BYTES, max_side=2048, thumbnail_side=320)
        entry = patrol_log_add(user=request.user, shift=shift_id, photo=photo, **params)
        return Response(LogEntryOutput(entry).data, status=status.HTTP_201_CREATED)


# --- the offline batch ---------------------------------------------------------------------------------------------


class BatchItemInput(InputSerializer):
    """One thing done offline. ``kind`` decides which of the other fields it carries (a field of another kind is
    refused): check_in/check_out the position fields, scan those and ``code``/``round``, log ``log_kind`` and the
    log's fields."""

    KINDS = ("check_in", "check_out", "scan", "log")
    kind = NamedChoiceField(choices=KINDS, enum_name="PatrolBatchItemKindEnum")
    client_id = StrictCharField(max_length=64)
    shift = IdField()
    device_time = BoundedDateTimeField()
    latitude = FiniteFloatField(min_value=-90, max_value=90, required=False)
    longitude = FiniteFloatField(min_value=-180, max_value=180, required=False)
    coordinate_system = coordinate_system_field()
    accuracy = FiniteFloatField(source="accuracy_metres", min_value=0, max_value=100_000, required=False)
    mock_location = serializers.BooleanField(required=False)
    code = StrictCharField(max_length=CODE_MAX_LENGTH, required=False)
    round = serializers.IntegerField(min_value=1, max_value=MAX_ROUNDS, required=False)
    log_kind = NamedChoiceField(choices=PatrolLogEntry.Kind.choices, enum_name="PatrolLogKindEnum", required=False)
    note = StrictCharField(max_length=MAX_NOTE, required=False, allow_blank=True)
    flyers = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, required=False)
    people_reached = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, required=False)

    COMMON = {"kind", "client_id", "shift", "device_time", "coordinate_system"}
    POSITION = {"latitude", "longitude", "accuracy", "mock_location"}
    FIELDS = {
        "check_in": COMMON | POSITION,
        "check_out": COMMON | POSITION,
        "scan": COMMON | POSITION | {"code", "round"},
        "log": COMMON | {"latitude", "longitude", "log_kind", "note", "flyers", "people_reached"},
    }
    REQUIRED = {
        "check_in": {"latitude", "longitude", "accuracy"},
        "check_out": {"latitude", "longitude"},
        "scan": {"latitude", "longitude", "accuracy", "code"},
        "log": {"log_kind"},
    }

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        kind, sent = attrs["kind"], set(data)
        errors = {name: [_("Not a field of a %(kind)s item.") % {"kind": kind}] for name in sent - self.FIELDS[kind]}
        errors |= {name: [_("This field is required.")] for name in self.REQUIRED[kind] - sent}
        if kind == "log" and ("latitude" in sent) != ("longitude" in sent):
            errors["latitude"] = [_("Send both latitude and longitude, or neither.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class BatchInput(InputSerializer):
    items = BatchItemInput(many=True, max_length=MAX_ITEMS, allow_empty=False)


class BatchAnswerOutput(serializers.Serializer):
    client_id = serializers.CharField()
    status = NamedChoiceField(choices=["accepted", "refused", "duplicate"], enum_name="PatrolBatchItemStatusEnum")
    outcome = NamedChoiceField(
        choices=["accepted", "refused"],
        enum_name="PatrolBatchItemOutcomeEnum",
        help_text="For a duplicate: what was decided the first time",
    )
    code = serializers.CharField(help_text="Why it was refused (empty when accepted)")
    message = serializers.CharField()
    figures = serializers.DictField()


class BatchOutput(serializers.Serializer):
    items = BatchAnswerOutput(many=True)


class PatrolBatchApi(APIView):
    """Upload what the phone captured offline (at most 200 items): each judged against the time it happened, in
    that order, and answered one by one in the order sent (200 even when some are refused)."""

    @extend_schema(operation_id="me_patrol_batch", request=BatchInput, responses={200: BatchOutput})
    def post(self, request):
        data = BatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        answers = patrol_batch_process(user=request.user, items=data.validated_data["items"])
        return Response(BatchOutput({"items": answers}).data)


# --- for leaders and the police ------------------------------------------------------------------------------------


class AttemptUserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class AttemptOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = NamedChoiceField(choices=PatrolAttempt.Kind.choices, enum_name="PatrolAttemptKindEnum")
    user = AttemptUserOutput()
    accepted = serializers.BooleanField()
    refusal_code = serializers.CharField()
    reason = serializers.SerializerMethodField()
    figures = serializers.DictField(source="refusal_detail")
    checkpoint = serializers.IntegerField(source="checkpoint_id", allow_null=True)
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    accuracy = serializers.FloatField(source="accuracy_metres", allow_null=True)
    mock_location = serializers.BooleanField()
    device_time = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField()
    offline = serializers.BooleanField()

    def get_reason(self, attempt) -> str:
        return "" if attempt.accepted else refusal_message(attempt.refusal_code, attempt.refusal_detail)


class ShiftAttemptsApi(generics.ListAPIView):
    """Every check-in, check-out and scan attempt of the shift, newest first, refusals with their reason: for the
    team's leaders and those who run the alliance."""

    serializer_class = AttemptOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PatrolAttempt.objects.none()
        shift = shift_for_attempts_or_404(user=self.request.user, shift_id=self.kwargs["shift_id"])
        return shift_attempts(shift=shift)


class CheckpointCodeOutput(serializers.Serializer):
    checkpoint = serializers.IntegerField()
    qr_version = serializers.IntegerField()
    payload = serializers.CharField(help_text="What the QR code says: signed by the server")
    png_base64 = serializers.CharField(help_text="The QR code as a PNG image, base64")


class CheckpointCodeApi(APIView):
    """The signed QR code to print for a checkpoint: for those who run the alliance."""

    @extend_schema(operation_id="checkpoints_code", responses=CheckpointCodeOutput)
    def get(self, request, checkpoint_id: int):
        checkpoint = checkpoint_for_codes_or_404(user=request.user, checkpoint_id=checkpoint_id)
        body = {
            "checkpoint": checkpoint.pk,
            "qr_version": checkpoint.qr_version,
            "payload": checkpoint_code_for(checkpoint),
            "png_base64": checkpoint_png_base64(checkpoint),
        }
        return Response(CheckpointCodeOutput(body).data)
