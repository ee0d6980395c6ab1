"""HTTP endpoints for case statistics, per alliance and per police unit, as JSON and as a CSV spreadsheet.

Who may see them: ``reports.permissions.can_view_case_statistics`` (the alliance's admins, the police posted to
its units, the police admins of its jurisdiction; for a unit, the police posted to it or above it). Anyone else
gets 404, so an id tells nothing. The figures themselves come from the ``reports.statistics`` package.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.models import Alliance, Station
from alliance.selectors.alliances import alliance_access_for
from config.csv_download import CsvDownloadMixin, csv_response
from reports.permissions import can_view_case_statistics
from reports.selectors.police import police_posted_to_alliance
from reports.statistics.access import alliances_under_station, police_posted_to_station
from reports.statistics.catalogue import case_statistics
from reports.statistics.periods import EARLIEST_DAY, LATEST_DAY, Period, default_period, latest_last_day
from reports.statistics.spreadsheet import statistics_table

# --- the query: which days ----------------------------------------------------------------------------------------


class PeriodInput(serializers.Serializer):
    """``from`` and ``to``: Asia/Shanghai calendar days (``from`` is a Python keyword, hence :meth:`get_fields`)."""

    to = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])

    def get_fields(self):
        return {"from": serializers.DateField(required=False, input_formats=["%Y-%m-%d"]), **super().get_fields()}

    def validate(self, attrs):
        default = default_period()
        last_day = attrs.get("to", default.last_day)
        first_day = attrs.get("from", last_day - (default.last_day - default.first_day))
        for name, day in (("from", first_day), ("to", last_day)):
            if not EARLIEST_DAY <= day <= LATEST_DAY:
                raise serializers.ValidationError(
                    {
                        name: [
                            _("Enter a date from %(earliest)s to %(latest)s.")
                            % {"earliest": EARLIEST_DAY, "latest": LATEST_DAY}
                        ]
                    }
                )
        if first_day > last_day:
            raise serializers.ValidationError({"from": [_("The start date must not be after the end date.")]})
        if last_day > latest_last_day(first_day):
            raise serializers.ValidationError({"to": [_("A period may cover at most two years.")]})
        return {"from": first_day, "to": last_day}


PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description="First day (Asia/Shanghai), YYYY-MM-DD. Default (also when empty): 29 days before `to`.",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.DATE,
        description=(
            "Last day (Asia/Shanghai), included, YYYY-MM-DD. Default (also when empty): today. "
            "At most two years after `from`."
        ),
    ),
]


def period_from_query(request) -> Period:
    # An empty parameter (?from=), as forms send it, means the default, as it means "no filter" on the lists.
    data = PeriodInput(data={name: value for name, value in request.query_params.items() if value != ""})
    data.is_valid(raise_exception=True)
    return Period(data.validated_data["from"], data.validated_data["to"])


# --- whose cases --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    kind: str
    id: int
    name: str
    alliances: list[Alliance]


def alliance_scope_or_404(request, alliance_id: int) -> Scope:
    alliance = Alliance.objects.filter(pk=alliance_id).first()
    if alliance is None:
        raise Http404
    access = alliance_access_for(user=request.user, alliance=alliance)
    if not can_view_case_statistics(request.user, access):  # not an admin of it, nor of its jurisdiction
        posted = police_posted_to_alliance(user=request.user, alliance=alliance)
        if not can_view_case_statistics(request.user, access, posted=posted):
            raise Http404
    return Scope("alliance", alliance.pk, alliance.name, [alliance])


def station_scope_or_404(request, station_id: int) -> Scope:
    station = Station.objects.select_related("parent").filter(pk=station_id).first()
    if station is None:
        raise Http404
    posted = police_posted_to_station(user=request.user, station=station)
    if not can_view_case_statistics(request.user, None, posted=posted):
        raise Http404
    return Scope("station", station.pk, station.name, alliances_under_station(station=station))


def _statistics(scope: Scope, period: Period) -> dict:
    stats = case_statistics(alliance_ids=[a.pk for a in scope.alliances], start=period.first_day, end=period.last_day)
    return {
        "scope": {
            "kind": scope.kind,
            "id": scope.id,
            "name": scope.name,
            "alliances": [{"id": a.pk, "name": a.name} for a in sorted(scope.alliances, key=lambda a: a.pk)],
        },
        **stats,
    }


# --- output -------------------------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberField(serializers.Field):
    """A count (integer) or a rate or time (decimal), passed through as it is; null when there is none."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value


def _counts(help_text: str) -> serializers.DictField:
    return serializers.DictField(child=serializers.IntegerField(), help_text=help_text)


class PeriodOutput(serializers.Serializer):
    to = serializers.DateField()
    days = serializers.IntegerField()

    def get_fields(self):
        return {"from": serializers.DateField(), **super().get_fields()}


class ScopeAllianceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ScopeOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["alliance", "station"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    alliances = ScopeAllianceOutput(many=True, help_text="The alliances whose cases are counted")


class DurationOutput(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many cases reached this step")
    median_seconds = NumberField()
    p90_seconds = NumberField()


class RepeatOutput(serializers.Serializer):
    count = serializers.IntegerField()
    of = serializers.IntegerField()
    rate_pct = NumberField()


class CaseFiguresOutput(serializers.Serializer):
    total = serializers.IntegerField()
    repeat = RepeatOutput()


class HandledWithinOutput(serializers.Serializer):
    count = serializers.IntegerField()
    of = serializers.IntegerField()
    share_pct = NumberField()


class DisputeFiguresOutput(serializers.Serializer):
    total = serializers.IntegerField()
    by_category = _counts("Per category")
    by_status = _counts("Per status")
    by_level_reached = _counts("Per highest rung reached: mall, office, station")
    by_outcome = _counts("Per outcome of the resolved flags")
    time_to_acknowledge = DurationOutput()
    time_to_arrive = DurationOutput()
    time_to_resolve = DurationOutput()
    handled_within_5_minutes = HandledWithinOutput()


class ClosureOutput(serializers.Serializer):
    closed = serializers.IntegerField()
    of = serializers.IntegerField()
    rate_pct = NumberField()


class SatisfactionOutput(serializers.Serializer):
    responses = serializers.IntegerField()
    average = NumberField()
    distribution = _counts("Per rating, 1 to 5")


class IncidentFiguresOutput(serializers.Serializer):
    total = serializers.IntegerField()
    by_category = _counts("Per category")
    by_status = _counts("Per status")
    merged = serializers.IntegerField()
    closure = ClosureOutput()
    time_to_accept = DurationOutput()
    time_to_resolve = DurationOutput()
    satisfaction = SatisfactionOutput()


class HotspotOutput(serializers.Serializer):
    latitude = serializers.FloatField(help_text="Centre of the grid cell")
    longitude = serializers.FloatField(help_text="Centre of the grid cell")
    cases = serializers.IntegerField()
    disputes = serializers.IntegerField()
    incidents = serializers.IntegerField()


class ChangeOutput(serializers.Serializer):
    value = NumberField(help_text="The figure in the base period")
    change = NumberField(help_text="This period's value minus the base")
    change_pct = NumberField(help_text="The change in percent of the base; null when the base is 0 or missing")


class FigureChangeOutput(serializers.Serializer):
    value = NumberField()
    previous_period = ChangeOutput()
    last_year = ChangeOutput()


class StatisticsOutput(serializers.Serializer):
    scope = ScopeOutput()
    period = PeriodOutput()
    previous_period = PeriodOutput()
    last_year_period = PeriodOutput()
    cases = CaseFiguresOutput()
    disputes = DisputeFiguresOutput()
    incidents = IncidentFiguresOutput()
    hotspots = HotspotOutput(many=True)
    changes = serializers.DictField(
        child=FigureChangeOutput(), help_text='Every figure by its path (e.g. "incidents.closure.rate_pct")'
    )
    definitions = serializers.DictField(child=serializers.CharField(), help_text="What each figure means")


# --- views --------------------------------------------------------------------------------------------------------


def _filename(scope: Scope, period: Period) -> str:
    return f"pingan-statistics-{scope.kind}-{scope.id}-{period.first_day:%Y%m%d}-{period.last_day:%Y%m%d}.csv"


class AllianceStatisticsApi(APIView):
    @extend_schema(
        operation_id="alliances_statistics",
        parameters=PERIOD_PARAMETERS,
        responses=StatisticsOutput,
        summary="Case statistics of an alliance",
    )
    def get(self, request, alliance_id: int):
        scope = alliance_scope_or_404(request, alliance_id)
        return Response(StatisticsOutput(_statistics(scope, period_from_query(request))).data)


class AllianceStatisticsCsvApi(CsvDownloadMixin, APIView):
    @extend_schema(
        operation_id="alliances_statistics_csv",
        parameters=PERIOD_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        summary="Case statistics of an alliance as a spreadsheet (CSV, UTF-8 with BOM)",
    )
    def get(self, request, alliance_id: int):
        scope = alliance_scope_or_404(request, alliance_id)
        period = period_from_query(request)
        return csv_response(statistics_table(_statistics(scope, period)), filename=_filename(scope, period))


class StationStatisticsApi(APIView):
    @extend_schema(
        operation_id="stations_statistics",
        parameters=PERIOD_PARAMETERS,
        responses=StatisticsOutput,
        summary="Case statistics of every alliance under a police unit",
    )
    def get(self, request, station_id: int):
        scope = station_scope_or_404(request, station_id)
        return Response(StatisticsOutput(_statistics(scope, period_from_query(request))).data)


class StationStatisticsCsvApi(CsvDownloadMixin, APIView):
    @extend_schema(
        operation_id="stations_statistics_csv",
        parameters=PERIOD_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        summary="Case statistics of every alliance under a police unit as a spreadsheet (CSV, UTF-8 with BOM)",
    )
    def get(self, request, station_id: int):
        scope = station_scope_or_404(request, station_id)
        period = period_from_query(request)
        return csv_response(statistics_table(_statistics(scope, period)), filename=_filename(scope, period))
