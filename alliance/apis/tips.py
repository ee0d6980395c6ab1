"""HTTP endpoints for safety tips: the tip library (a unit's own tips and the city-wide ones) and the schedules that
send them, with each schedule's record of runs. Police admins only, within their jurisdiction: another's tip or
schedule is "not found", like one that does not exist."""

from __future__ import annotations

import re
from datetime import date

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.alert_audience import AudienceSpec
from alliance.apis.alerts import AudienceInput
from alliance.models import Station, Tip, TipOccurrence, TipSchedule, TipTopic
from alliance.selectors import tips as selectors
from alliance.services import tips as services
from config.errors import ApplicationError
from config.filters import EARLIEST, LATEST, IdFilter, StrictBooleanFilter
from config.pagination import DefaultCursorPagination
from config.serializer_fields import IdField, NamedChoiceField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body


def _topic_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=TipTopic.choices, enum_name="TipTopicEnum", **kwargs)


# --- output ----


class TipOutput(serializers.Serializer):
    id = serializers.IntegerField()
    station = serializers.IntegerField(source="station_id", allow_null=True, help_text="null: the city-wide library")
    topic = _topic_field()
    title_zh = serializers.CharField()
    body_zh = serializers.CharField()
    title_en = serializers.CharField()
    body_en = serializers.CharField()
    is_active = serializers.BooleanField(help_text="In rotation; false: retired")
    created_at = serializers.DateTimeField()


class AudienceSpecOutput(serializers.Serializer):
    stations = serializers.ListField(child=serializers.IntegerField())
    alliances = serializers.ListField(child=serializers.IntegerField())
    zones = serializers.ListField(child=serializers.IntegerField())
    groups = serializers.ListField(child=serializers.IntegerField())
    roles = serializers.ListField(child=serializers.CharField())


class TipScheduleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    station = serializers.IntegerField(source="station_id")
    name = serializers.CharField()
    topics = serializers.ListField(child=_topic_field(), help_text="Empty: every topic")
    audience = serializers.SerializerMethodField()
    time_of_day = serializers.SerializerMethodField()
    weekdays = serializers.ListField(
        child=serializers.IntegerField(), help_text="ISO: 1 Monday to 7 Sunday; empty: daily"
    )
    starts_on = serializers.DateField(allow_null=True)
    ends_on = serializers.DateField(allow_null=True)
    is_active = serializers.BooleanField(help_text="false: paused")
    next_run_at = serializers.DateTimeField(allow_null=True, help_text="null: paused, or no run left")
    last_tip = serializers.IntegerField(source="last_tip_id", allow_null=True)
    created_at = serializers.DateTimeField()

    @extend_schema_field({"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "example": "19:00"})
    def get_time_of_day(self, schedule) -> str:
        """Local wall-clock time (Asia/Shanghai), "HH:MM": not an RFC 3339 time, which would need an offset."""
        return schedule.time_of_day.strftime("%H:%M")

    @extend_schema_field(AudienceSpecOutput)
    def get_audience(self, schedule) -> dict:
        return AudienceSpec.from_json(schedule.audience).as_json()


class OccurrenceTipOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title_zh = serializers.CharField()
    topic = _topic_field()


class TipOccurrenceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    scheduled_for = serializers.DateTimeField()
    tip = OccurrenceTipOutput(allow_null=True, help_text="null: no tip of its topics was in use")
    alert = serializers.IntegerField(source="alert_id", allow_null=True, help_text="The safety-tip alert it sent")
    created_at = serializers.DateTimeField(help_text="When it was sent")


# --- input ----

LOCAL_MINUTE = re.compile(r"[0-9]{2}:[0-9]{2}(:00)?")


def _bounded_date(value: date | None) -> date | None:
    if value is not None and not EARLIEST.date() <= value <= LATEST.date():
        raise serializers.ValidationError(_("Enter a date between the years 2000 and 2100."))
    return value


class _TipTextInput(InputSerializer):
    topic = _topic_field()
    title_zh = StrictCharField(max_length=120)
    body_zh = StrictCharField(max_length=5000)
    title_en = StrictCharField(max_length=120, required=False, allow_blank=True)
    body_en = StrictCharField(max_length=5000, required=False, allow_blank=True)


class TipCreateInput(_TipTextInput):
    station = IdField(help_text="The police unit whose library it joins (one in your jurisdiction)")


class TipUpdateInput(_TipTextInput):
    is_active = serializers.BooleanField(required=False, help_text="false retires the tip from every rotation")


class LocalTimeField(serializers.TimeField):
    """A Shanghai wall-clock minute, "HH:MM" (":00" seconds allowed). DRF would also take "11:00Z" and "19:00:30":
    Django's parser drops the offset without a word (11:00Z would run at 11:00 here), and the "HH:MM" shown back
    would hide the seconds."""

    def to_internal_value(self, value):
        if isinstance(value, str) and not LOCAL_MINUTE.fullmatch(value):
            raise serializers.ValidationError(_("Enter the local time (Asia/Shanghai) as HH:MM, without an offset."))
        return super().to_internal_value(value)


class _TipScheduleInput(InputSerializer):
    name = StrictCharField(max_length=100)
    topics = serializers.ListField(
        child=_topic_field(), required=False, max_length=len(TipTopic.values), help_text="Empty: every topic"
    )
    audience = AudienceInput()
    time_of_day = LocalTimeField(help_text="HH:MM, local time (Asia/Shanghai)")
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7),
        required=False,
        max_length=7,
        help_text="ISO: 1 Monday to 7 Sunday; empty: every day",
    )
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False, help_text="false pauses it; true resumes from now")

    def validate_starts_on(self, value):
        return _bounded_date(value)

    def validate_ends_on(self, value):
        return _bounded_date(value)

    def changes(self) -> dict:
        data = dict(self.validated_data)
        if "audience" in data:
            data["audience"] = AudienceSpec(**data["audience"])
        return data


class TipScheduleCreateInput(_TipScheduleInput):
    station = IdField(help_text="The police unit it sends for (one in your jurisdiction)")


class TipScheduleUpdateInput(_TipScheduleInput):
    pass


def _station_or_404(station_id: int) -> Station:
    """The unit named in a body; the service then refuses one outside the caller's jurisdiction as not found."""
    station = Station.objects.filter(pk=station_id).first()
    if station is None:
        raise ApplicationError.not_found(station=[_("Not found.")])
    return station


class TipFilter(django_filters.FilterSet):
    topic = django_filters.ChoiceFilter(choices=TipTopic.choices)
    is_active = StrictBooleanFilter()
    station = IdFilter(field_name="station_id")
    city_wide = StrictBooleanFilter(field_name="station", lookup_expr="isnull", help_text="true: the city-wide library")


class TipScheduleFilter(django_filters.FilterSet):
    is_active = StrictBooleanFilter()
    station = IdFilter(field_name="station_id")


class TipPagination(DefaultCursorPagination):
    ordering = "-id"


# --- the library ----


class TipListApi(generics.ListAPIView):
    """Police admins: the tips of the units in their jurisdiction and the city-wide library, newest first."""

    serializer_class = TipOutput
    pagination_class = TipPagination
    filterset_class = TipFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Tip.objects.none()
        return selectors.tips_managed_by(user=self.request.user)

    @extend_schema(
        operation_id="tips_create",
        request=TipCreateInput,
        responses={201: TipOutput},
        summary="Police admins: add a tip (zh-hans, and English if you have it) to a unit's library",
    )
    def post(self, request):
        data = TipCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        station = _station_or_404(fields.pop("station"))
        tip = services.tip_create(actor=request.user, station=station, **fields)
        return Response(TipOutput(tip).data, status=status.HTTP_201_CREATED)


class TipDetailApi(APIView):
    @extend_schema(operation_id="tips_retrieve", responses=TipOutput)
    def get(self, request, tip_id: int):
        return Response(TipOutput(selectors.managed_tip_or_404(user=request.user, tip_id=tip_id)).data)

    @extend_schema(
        operation_id="tips_update",
        request=TipUpdateInput,
        responses=TipOutput,
        summary="Police admins: change a tip of their units, or retire it (is_active false); city-wide tips are the "
        "superuser's (403)",
    )
    def patch(self, request, tip_id: int):
        tip = selectors.managed_tip_or_404(user=request.user, tip_id=tip_id)
        data = TipUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        tip = services.tip_update(actor=request.user, tip=tip, **data.validated_data)
        return Response(TipOutput(tip).data)


# --- schedules ----


class TipScheduleListApi(generics.ListAPIView):
    """Police admins: the tip schedules of the units in their jurisdiction, newest first."""

    serializer_class = TipScheduleOutput
    pagination_class = TipPagination
    filterset_class = TipScheduleFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TipSchedule.objects.none()
        return selectors.tip_schedules_managed_by(user=self.request.user)

    @extend_schema(
        operation_id="tip_schedules_create",
        request=TipScheduleCreateInput,
        responses={201: TipScheduleOutput},
        summary="Police admins: send the next tip of some topics at a local time on some weekdays to an audience "
        "(checked as an alert's: alert_audience_empty, alert_audience_outside); tip_schedule_never_runs when its "
        "dates leave no run",
    )
    def post(self, request):
        data = TipScheduleCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        changes = data.changes()
        station = _station_or_404(changes.pop("station"))
        schedule = services.tip_schedule_create(
            actor=request.user, station=station, values=services.TipScheduleFields(**changes)
        )
        return Response(TipScheduleOutput(schedule).data, status=status.HTTP_201_CREATED)


def _schedule(request, schedule_id: int) -> TipSchedule:
    return selectors.managed_tip_schedule_or_404(user=request.user, schedule_id=schedule_id)


class TipScheduleDetailApi(APIView):
    @extend_schema(operation_id="tip_schedules_retrieve", responses=TipScheduleOutput)
    def get(self, request, schedule_id: int):
        return Response(TipScheduleOutput(_schedule(request, schedule_id)).data)

    @extend_schema(
        operation_id="tip_schedules_update",
        request=TipScheduleUpdateInput,
        responses=TipScheduleOutput,
        summary="Police admins: change a schedule, pause it (is_active false) or resume it; the next run is worked "
        "out again from now",
    )
    def patch(self, request, schedule_id: int):
        schedule = _schedule(request, schedule_id)
        data = TipScheduleUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        schedule = services.tip_schedule_update(actor=request.user, schedule=schedule, **data.changes())
        return Response(TipScheduleOutput(schedule).data)

    @extend_schema(
        operation_id="tip_schedules_delete",
        request=NoBodyInput,
        responses={204: None},
        summary="Police admins: delete a schedule (the tips it sent stay in the inboxes)",
    )
    def delete(self, request, schedule_id: int):
        no_body(request)
        services.tip_schedule_delete(actor=request.user, schedule=_schedule(request, schedule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TipOccurrenceListApi(generics.ListAPIView):
    """Police admins: a schedule's runs, newest first, each with the tip and the alert it sent."""

    serializer_class = TipOccurrenceOutput
    pagination_class = TipPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TipOccurrence.objects.none()
        return selectors.tip_occurrences_of(schedule=_schedule(self.request, self.kwargs["schedule_id"]))
