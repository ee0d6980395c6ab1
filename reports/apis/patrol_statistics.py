"""HTTP endpoints for patrol statistics, per alliance, per police unit and per patrol team, as JSON and as a CSV
spreadsheet, with the period parameters, access rules and spreadsheet of the case statistics
(``reports/apis/statistics.py``). Anyone who may not see them gets 404, so an id tells nothing. The figures come
from ``reports.statistics.patrol``."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.selectors.alliances import alliance_access_for
from config.csv_download import CsvDownloadMixin, csv_response
from groups.models import PatrolTeam, PatrolTeamMember
from reports.apis.statistics import (
    PERIOD_PARAMETERS,
    FigureChangeOutput,
    NumberField,
    PeriodOutput,
    Scope,
    ScopeAllianceOutput,
    alliance_scope_or_404,
    period_from_query,
    station_scope_or_404,
)
from reports.permissions import can_view_patrol_statistics
from reports.selectors.police import police_posted_to_alliance
from reports.statistics.patrol import PatrolScope, patrol_figure_list, patrol_statistics
from reports.statistics.periods import Period
from reports.statistics.spreadsheet import statistics_table


def _team_scope_or_404(request, team_id: int) -> Scope:
    team = PatrolTeam.objects.select_related("alliance").filter(pk=team_id).first()
    if team is None:
        raise Http404
    leads = PatrolTeamMember.objects.filter(team=team, user=request.user, role=PatrolTeamMember.Role.LEADER).exists()
    access = alliance_access_for(user=request.user, alliance=team.alliance)
    if not can_view_patrol_statistics(request.user, access, leads_team=leads):
        posted = police_posted_to_alliance(user=request.user, alliance=team.alliance)
        if not can_view_patrol_statistics(request.user, access, posted=posted):
            raise Http404
    return Scope("team", team.pk, team.name, [team.alliance])


def _statistics(scope: Scope, period: Period) -> dict:
    if scope.kind == "team":
        patrol_scope = PatrolScope(team_id=scope.id)
    else:
        patrol_scope = PatrolScope(alliance_ids=tuple(a.pk for a in scope.alliances))
    stats = patrol_statistics(scope=patrol_scope, start=period.first_day, end=period.last_day)
    return {
        "scope": {
            "kind": scope.kind,
            "id": scope.id,
            "name": scope.name,
            "alliances": [{"id": a.pk, "name": a.name} for a in sorted(scope.alliances, key=lambda a: a.pk)],
        },
        **stats,
    }


def _csv(scope: Scope, period: Period):
    stats = _statistics(scope, period)
    section = _("Checkpoint coverage per route")
    routes = []
    for route in stats["checkpoints"]["by_route"]:
        name = route["route"]["name"]
        routes += [
            [section, _("%(route)s: checkpoint-rounds scanned") % {"route": name}, route["scanned"]],
            [section, _("%(route)s: checkpoint-rounds expected") % {"route": name}, route["expected"]],
            [section, _("%(route)s: coverage (%%)") % {"route": name}, route["coverage_pct"]],
        ]
    rows = statistics_table(stats, figures=patrol_figure_list(), extra_rows=routes)
    filename = f"pingan-patrol-{scope.kind}-{scope.id}-{period.first_day:%Y%m%d}-{period.last_day:%Y%m%d}.csv"
    return csv_response(rows, filename=filename)


# --- output -------------------------------------------------------------------------------------------------------


class PatrolScopeOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["alliance", "station", "team"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    alliances = ScopeAllianceOutput(many=True, help_text="The alliances whose patrols are counted")


class ShiftFiguresOutput(serializers.Serializer):
    planned = serializers.IntegerField()
    run = serializers.IntegerField(help_text="Shifts with at least one check-in")


class PlaceFiguresOutput(serializers.Serializer):
    planned = serializers.IntegerField()
    filled = serializers.IntegerField()
    filled_pct = NumberField()


class AttendanceFiguresOutput(serializers.Serializer):
    expected = serializers.IntegerField(help_text="Places filled on shifts that have started")
    no_shows = serializers.IntegerField()
    no_show_pct = NumberField()
    verified_hours = NumberField()


class RouteRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RouteCoverageOutput(serializers.Serializer):
    route = RouteRefOutput()
    scanned = serializers.IntegerField()
    expected = serializers.IntegerField()
    coverage_pct = NumberField()


class CheckpointFiguresOutput(serializers.Serializer):
    scanned = serializers.IntegerField()
    expected = serializers.IntegerField()
    coverage_pct = NumberField()
    by_route = RouteCoverageOutput(many=True)


class LogFiguresOutput(serializers.Serializer):
    hidden_dangers = serializers.IntegerField()
    hidden_dangers_fixed = serializers.IntegerField()
    disputes_mediated = serializers.IntegerField()
    people_helped = serializers.IntegerField()
    flyers = serializers.IntegerField()
    people_reached = serializers.IntegerField()


class PatrolStatisticsOutput(serializers.Serializer):
    scope = PatrolScopeOutput()
    period = PeriodOutput()
    previous_period = PeriodOutput()
    last_year_period = PeriodOutput()
    shifts = ShiftFiguresOutput()
    places = PlaceFiguresOutput()
    attendance = AttendanceFiguresOutput()
    checkpoints = CheckpointFiguresOutput()
    log = LogFiguresOutput()
    changes = serializers.DictField(
        child=FigureChangeOutput(), help_text='Every figure by its path (e.g. "attendance.no_show_pct")'
    )
    definitions = serializers.DictField(child=serializers.CharField(), help_text="What each figure means")


# --- views --------------------------------------------------------------------------------------------------------

_CSV = {(200, "text/csv"): OpenApiTypes.BINARY}


class AlliancePatrolStatisticsApi(APIView):
    @extend_schema(
        operation_id="alliances_patrol_statistics",
        parameters=PERIOD_PARAMETERS,
        responses=PatrolStatisticsOutput,
        summary="Patrol statistics of an alliance",
    )
    def get(self, request, alliance_id: int):
        scope = alliance_scope_or_404(request, alliance_id)
        return Response(PatrolStatisticsOutput(_statistics(scope, period_from_query(request))).data)


class AlliancePatrolStatisticsCsvApi(CsvDownloadMixin, APIView):
    @extend_schema(
        operation_id="alliances_patrol_statistics_csv",
        parameters=PERIOD_PARAMETERS,
        responses=_CSV,
        summary="Patrol statistics of an alliance as a spreadsheet (CSV, UTF-8 with BOM)",
    )
    def get(self, request, alliance_id: int):
        return _csv(alliance_scope_or_404(request, alliance_id), period_from_query(request))


class StationPatrolStatisticsApi(APIView):
    @extend_schema(
        operation_id="stations_patrol_statistics",
        parameters=PERIOD_PARAMETERS,
        responses=PatrolStatisticsOutput,
        summary="Patrol statistics of every alliance under a police unit",
    )
    def get(self, request, station_id: int):
        scope = station_scope_or_404(request, station_id)
        return Response(PatrolStatisticsOutput(_statistics(scope, period_from_query(request))).data)


class StationPatrolStatisticsCsvApi(CsvDownloadMixin, APIView):
    @extend_schema(
        operation_id="stations_patrol_statistics_csv",
        parameters=PERIOD_PARAMETERS,
        responses=_CSV,
        summary="Patrol statistics of every alliance under a police unit as a spreadsheet (CSV, UTF-8 with BOM)",
    )
    def get(self, request, station_id: int):
        return _csv(station_scope_or_404(request, station_id), period_from_query(request))


class TeamPatrolStatisticsApi(APIView):
    @extend_schema(
        operation_id="patrol_teams_statistics",
        parameters=PERIOD_PARAMETERS,
        responses=PatrolStatisticsOutput,
        summary="Patrol statistics of a patrol team",
    )
    def get(self, request, team_id: int):
        scope = _team_scope_or_404(request, team_id)
        return Response(PatrolStatisticsOutput(_statistics(scope, period_from_query(request))).data)


class TeamPatrolStatisticsCsvApi(CsvDownloadMixin, APIView):
    @extend_schema(
        operation_id="patrol_teams_statistics_csv",
        parameters=PERIOD_PARAMETERS,
        responses=_CSV,
        summary="Patrol statistics of a patrol team as a spreadsheet (CSV, UTF-8 with BOM)",
    )
    def get(self, request, team_id: int):
        return _csv(_team_scope_or_404(request, team_id), period_from_query(request))
