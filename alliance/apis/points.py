"""HTTP endpoints of the points ledger: my points and history, an alliance's leaderboards, rules, ledger, and the
police's corrections and merchant contributions."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.presentation import MaskedPhoneField
from alliance.apis.outputs import AlliancePersonOutput, AllianceRefOutput, person_context
from alliance.models import PointsAccount, PointsEntry, PointsReason
from alliance.models.points import RULED_REASONS
from alliance.permissions import can_read_points_ledger
from alliance.selectors import alliances as alliance_selectors
from alliance.selectors import points as selectors
from alliance.services.points_corrections import (
    POINTS_RULE_MAX_AMOUNT,
    POINTS_RULE_MAX_DAILY_CAP,
    points_correct,
    points_merchant_contribution_award,
    points_rule_set,
)
from config.errors import ApplicationError
from config.filters import IdFilter
from config.pagination import DefaultCursorPagination
from config.serializer_fields import IdField, NamedChoiceField, StrictCharField
from config.serializers import InputSerializer

REASON_CHOICES = PointsReason.choices
RULED_CHOICES = [(reason.value, reason.label) for reason in RULED_REASONS]


class PointsAccountOutput(serializers.Serializer):
    alliance = AllianceRefOutput()
    balance = serializers.IntegerField()
    held = serializers.IntegerField(help_text="Held back for pending reward requests.")
    available = serializers.IntegerField(help_text="balance - held: what can be spent now.")
    updated_at = serializers.DateTimeField()


class PointsEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = AllianceRefOutput()
    amount = serializers.IntegerField()
    reason = NamedChoiceField(choices=REASON_CHOICES, enum_name="PointsReasonEnum")
    reason_label = serializers.CharField(source="get_reason_display")
    note = serializers.CharField()
    source_type = serializers.CharField()
    source_id = serializers.IntegerField(allow_null=True)
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True)
    earned_on = serializers.DateField()
    created_at = serializers.DateTimeField()


class PointsLedgerEntryOutput(PointsEntryOutput):
    user = AlliancePersonOutput()
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)


class MyPointsListApi(generics.ListAPIView):
    """My points in each alliance: the balance, what pending reward requests hold, and what is available."""

    serializer_class = PointsAccountOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PointsAccount.objects.none()
        return selectors.points_accounts_of_user(user=self.request.user)


class MyPointsHistoryFilter(django_filters.FilterSet):
    alliance = IdFilter(field_name="alliance_id")


class MyPointsHistoryApi(generics.ListAPIView):
    """My ledger entries, newest first: what earned or cost points, when and why."""

    serializer_class = PointsEntryOutput
    filterset_class = MyPointsHistoryFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PointsEntry.objects.none()
        return selectors.points_history_of_user(user=self.request.user)


class PointsLedgerFilter(django_filters.FilterSet):
    user = IdFilter(field_name="user_id")


class AlliancePointsLedgerApi(generics.ListAPIView):
    """Police admins of the jurisdiction: the alliance's ledger, newest first (``?user=`` for one person)."""

    serializer_class = PointsLedgerEntryOutput
    filterset_class = PointsLedgerFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PointsEntry.objects.none()
        access = alliance_selectors.alliance_access_or_404(
            user=self.request.user, alliance_id=self.kwargs["alliance_id"]
        )
        if not can_read_points_ledger(self.request.user, access):
            raise ApplicationError.permission_denied(_("Only police admins of the alliance's jurisdiction see this."))
        return selectors.points_ledger_of_alliance(alliance=access.alliance)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **person_context(self.request)}


# --- leaderboards -------------------------------------------------------------------------------------------------


class LeaderboardQuery(serializers.Serializer):
    period = serializers.ChoiceField(choices=["month", "half_year"], default="month")
    role = serializers.ChoiceField(choices=["volunteer", "merchant"], default="volunteer")
    month = serializers.CharField(max_length=7, required=False)
    half = serializers.CharField(max_length=6, required=False)


LEADERBOARD_PARAMETERS = [
    OpenApiParameter("period", OpenApiTypes.STR, enum=["month", "half_year"], description="Default: month."),
    OpenApiParameter("role", OpenApiTypes.STR, enum=["volunteer", "merchant"], description="Default: volunteer."),
    OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM (period=month); default the current month."),
    OpenApiParameter("half", OpenApiTypes.STR, description="YYYYH1 or YYYYH2 (period=half_year); default now."),
]


def _board(request, alliance_id: int):
    access = alliance_selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
    query = LeaderboardQuery(
        data={k: v for k, v in request.query_params.items() if k in LeaderboardQuery().fields and v != ""}
    )
    query.is_valid(raise_exception=True)
    params = query.validated_data
    period = selectors.board_period(kind=params["period"], month=params.get("month"), half=params.get("half"))
    return access, params["role"], period


class LeaderboardPagination(PageNumberPagination):
    """Pages by number: a board is ranked by points, which a cursor over ids cannot follow."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    get_page_size = DefaultCursorPagination.get_page_size


class LeaderboardPersonOutput(serializers.Serializer):
    id = serializers.IntegerField(source="user_id")
    display_name = serializers.CharField()
    phone = MaskedPhoneField()


class LeaderboardRowOutput(serializers.Serializer):
    rank = serializers.IntegerField(help_text="Equal points share a rank; the next rank skips (1, 2, 2, 4).")
    points = serializers.IntegerField(help_text="Earned in the period (redemptions do not count).")
    user = LeaderboardPersonOutput(source="*")


class AllianceLeaderboardApi(generics.ListAPIView):
    """The alliance's volunteers or merchants ranked by points earned in the month or half-year (Asia/Shanghai).
    Mobile numbers are masked for everyone but the police, as in member lists."""

    serializer_class = LeaderboardRowOutput
    pagination_class = LeaderboardPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PointsEntry.objects.none()
        access, role, period = _board(self.request, self.kwargs["alliance_id"])
        return selectors.points_leaderboard(alliance=access.alliance, role=role, period=period)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **person_context(self.request)}

    @extend_schema(operation_id="alliances_points_leaderboard", parameters=LEADERBOARD_PARAMETERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyLeaderboardRankOutput(serializers.Serializer):
    period = serializers.CharField(help_text="2026-11 or 2026H2")
    role = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True, help_text="Null when I am not on this board.")
    points = serializers.IntegerField()


class AllianceLeaderboardMeApi(APIView):
    @extend_schema(
        operation_id="alliances_points_leaderboard_me",
        parameters=LEADERBOARD_PARAMETERS,
        responses=MyLeaderboardRankOutput,
        summary="My rank and points on the alliance's board",
    )
    def get(self, request, alliance_id: int):
        access, role, period = _board(request, alliance_id)
        rank, points = selectors.points_leaderboard_rank_of(
            alliance=access.alliance, role=role, period=period, user=request.user
        )
        return Response({"period": period.label, "role": role, "rank": rank, "points": points})


# --- rules --------------------------------------------------------------------------------------------------------


class PointsRuleOutput(serializers.Serializer):
    reason = NamedChoiceField(choices=RULED_CHOICES, enum_name="PointsRuledReasonEnum")
    amount = serializers.IntegerField(help_text="Points per unit (an hour, a report).")
    daily_cap = serializers.IntegerField(allow_null=True, help_text="At most this many points a day; null: none.")
    is_default = serializers.BooleanField(help_text="The platform's default: the alliance has not set its own.")


class PointsRulesOutput(serializers.Serializer):
    rules = PointsRuleOutput(many=True)


class PointsRuleInput(InputSerializer):
    reason = NamedChoiceField(choices=RULED_CHOICES, enum_name="PointsRuledReasonEnum")
    amount = serializers.IntegerField(min_value=0, max_value=POINTS_RULE_MAX_AMOUNT)
    daily_cap = serializers.IntegerField(min_value=0, max_value=POINTS_RULE_MAX_DAILY_CAP, allow_null=True)


class AlliancePointsRulesApi(APIView):
    class PointsRulesInput(InputSerializer):
        rules = PointsRuleInput(many=True, allow_empty=False, max_length=len(RULED_REASONS))

    @extend_schema(operation_id="alliances_points_rules", responses=PointsRulesOutput)
    def get(self, request, alliance_id: int):
        access = alliance_selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        return Response(PointsRulesOutput({"rules": selectors.points_rules_of_alliance(alliance=access.alliance)}).data)

    @extend_schema(
        operation_id="alliances_points_rules_set",
        request=PointsRulesInput,
        responses=PointsRulesOutput,
        summary="Police admins of the jurisdiction: set points per unit and daily caps",
    )
    def put(self, request, alliance_id: int):
        access = alliance_selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.PointsRulesInput(data=request.data)
        data.is_valid(raise_exception=True)
        for rule in data.validated_data["rules"]:
            points_rule_set(actor=request.user, access=access, **rule)
        return Response(PointsRulesOutput({"rules": selectors.points_rules_of_alliance(alliance=access.alliance)}).data)


# --- the police's entries -----------------------------------------------------------------------------------------


class AlliancePointsCorrectionApi(APIView):
    class PointsCorrectionInput(InputSerializer):
        user = IdField()
        amount = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000, required=False)
        reverses = IdField(required=False, help_text="An award to reverse: the correction takes its opposite.")
        note = StrictCharField(max_length=500)

    @extend_schema(
        operation_id="alliances_points_correct",
        request=PointsCorrectionInput,
        responses={201: PointsEntryOutput},
        summary="Police admins of the jurisdiction: correct a person's points, with the reason",
    )
    def post(self, request, alliance_id: int):
        access = alliance_selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.PointsCorrectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        entry = points_correct(
            actor=request.user,
            access=access,
            user_id=values["user"],
            amount=values.get("amount"),
            reverses_id=values.get("reverses"),
            note=values["note"],
        )
        entry.alliance = access.alliance
        return Response(PointsEntryOutput(entry).data, status=status.HTTP_201_CREATED)


class AlliancePointsContributionApi(APIView):
    class PointsContributionInput(InputSerializer):
        user = IdField()
        note = StrictCharField(max_length=500)

    @extend_schema(
        operation_id="alliances_points_contribution",
        request=PointsContributionInput,
        responses={201: PointsEntryOutput},
        summary="Alliance admins and police admins: award a merchant for a contribution (the alliance's rule)",
    )
    def post(self, request, alliance_id: int):
        access = alliance_selectors.alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.PointsContributionInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = points_merchant_contribution_award(
            actor=request.user, access=access, user_id=data.validated_data["user"], note=data.validated_data["note"]
        )
        entry.alliance = access.alliance
        return Response(PointsEntryOutput(entry).data, status=status.HTTP_201_CREATED)
