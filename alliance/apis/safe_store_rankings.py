"""HTTP endpoints of the Safe Store ranking: the live preview, the final rankings and their entries, a store's
score breakdown, and the alliance's weights. Who sees which figures is in ``alliance.selectors.safe_stores``."""

from __future__ import annotations

import math

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.models import SafeStoreRanking, SafeStoreRankingEntry, StoreScorePart
from alliance.models.safe_stores import SECURITY_PARTS
from alliance.permissions import can_see_safe_store_details, can_set_safe_store_weights
from alliance.selectors import safe_stores as selectors
from alliance.selectors.alliances import alliance_access_or_404
from alliance.selectors.safe_store_scores import safe_store_weights
from alliance.services.safe_store_rankings import SAFE_STORE_WEIGHT_LIMIT, WEIGHTS_REFUSAL, safe_store_weights_set
from config.errors import ApplicationError
from config.pagination import DefaultCursorPagination
from config.serializer_fields import NamedChoiceField
from config.serializers import InputSerializer

PREVIEW_DEFAULT_LIMIT = 50
PREVIEW_MAX_LIMIT = 200


def _part_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=StoreScorePart.choices, enum_name="StoreScorePartEnum", **kwargs)


class SafeStorePartScoreOutput(serializers.Serializer):
    part = _part_field()
    label = serializers.CharField()
    quantity = serializers.FloatField(help_text="What the store did in the period (events' values summed).")
    weight = serializers.FloatField()
    score = serializers.FloatField(help_text="quantity × weight")


def _parts_list(parts: dict) -> list[dict]:
    """The parts JSON ({part: {quantity, weight, score}}) as a list in the parts' fixed order."""
    return [
        {"part": part.value, "label": str(part.label), **parts[part.value]} for part in StoreScorePart if part in parts
    ]


class RankedStoreOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _SafeStoreScoreFieldsOutput(serializers.Serializer):
    """The figures of a ranked store; null for viewers who see only ranks and names."""

    score = serializers.FloatField(allow_null=True)
    security_score = serializers.FloatField(allow_null=True)
    contribution_score = serializers.FloatField(allow_null=True)
    parts = SafeStorePartScoreOutput(many=True, allow_null=True)


# --- the live preview ---------------------------------------------------------------------------------------------


class SafeStorePreviewRowOutput(_SafeStoreScoreFieldsOutput):
    position = serializers.IntegerField(help_text="1, 2, 3 ... in the order shown; pass the last as ?after=.")
    rank = serializers.IntegerField(help_text="Equal scores share a rank (1, 2, 2, 4).")
    store = RankedStoreOutput()


class SafeStorePreviewPageOutput(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    results = SafeStorePreviewRowOutput(many=True)
    next_after = serializers.IntegerField(allow_null=True, help_text="Pass as ?after= for the next page")


def _preview_row(row: selectors.PreviewRow) -> dict:
    details = row.details
    return {
        "position": row.position,
        "rank": row.rank,
        "store": {"id": row.store_id, "name": row.store_name},
        "score": details.score if details else None,
        "security_score": details.security_score if details else None,
        "contribution_score": details.contribution_score if details else None,
        "parts": _parts_list(details.parts) if details else None,
    }


class SafeStorePreviewApi(APIView):
    class PreviewFilters(serializers.Serializer):
        after = serializers.IntegerField(required=False, min_value=0, max_value=10**9, default=0)
        limit = serializers.IntegerField(
            required=False, min_value=1, max_value=PREVIEW_MAX_LIMIT, default=PREVIEW_DEFAULT_LIMIT
        )

    @extend_schema(
        operation_id="alliances_safe_stores_preview",
        parameters=[
            OpenApiParameter("after", int, description="Rows after this position (the previous page's next_after)"),
            OpenApiParameter(
                "limit", int, description=f"At most {PREVIEW_MAX_LIMIT}; {PREVIEW_DEFAULT_LIMIT} if absent"
            ),
        ],
        responses=SafeStorePreviewPageOutput,
        summary="Members: the current half-year's Safe Store ranking so far (scores for admins, police, own store)",
    )
    def get(self, request, alliance_id: int):
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        filters = self.PreviewFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        after, limit = filters.validated_data["after"], filters.validated_data["limit"]
        rows = selectors.safe_store_preview(user=request.user, access=access)
        page = [row for row in rows if row.position > after][: limit + 1]
        start, end = selectors.safe_store_current_period()
        return Response(
            {
                "period_start": start,
                "period_end": end,
                "results": [_preview_row(row) for row in page[:limit]],
                "next_after": page[limit - 1].position if len(page) > limit else None,
            }
        )


# --- final rankings -----------------------------------------------------------------------------------------------


class SafeStoreRankingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="The last day of the half-year.")
    status = NamedChoiceField(choices=SafeStoreRanking.Status.choices, enum_name="SafeStoreRankingStatusEnum")
    computed_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)
    weights = serializers.DictField(child=serializers.FloatField(), help_text="The weights it was computed with.")


class _RankingPagination(DefaultCursorPagination):
    ordering = "-period_start"


class SafeStoreRankingListApi(generics.ListAPIView):
    """The alliance's final half-year rankings, newest first: published ones for members; for its admins and
    police also those computed and not yet published."""

    serializer_class = SafeStoreRankingOutput
    pagination_class = _RankingPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SafeStoreRanking.objects.none()
        access = alliance_access_or_404(user=self.request.user, alliance_id=self.kwargs["alliance_id"])
        return selectors.safe_store_rankings_for(user=self.request.user, access=access)


def _ranking_or_404(request, alliance_id: int, ranking_id: int):
    access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
    ranking = selectors.safe_store_rankings_for(user=request.user, access=access).filter(pk=ranking_id).first()
    if ranking is None:
        raise Http404
    return access, ranking


class SafeStoreRankingDetailApi(APIView):
    @extend_schema(operation_id="alliances_safe_store_rankings_retrieve", responses=SafeStoreRankingOutput)
    def get(self, request, alliance_id: int, ranking_id: int):
        _access, ranking = _ranking_or_404(request, alliance_id, ranking_id)
        return Response(SafeStoreRankingOutput(ranking).data)

    # h5: publishing and holding back a store are operations on this ranking (their own views beside this one).


class SafeStoreRankingEntryOutput(_SafeStoreScoreFieldsOutput):
    rank = serializers.IntegerField()
    store = RankedStoreOutput()
    held_back = serializers.BooleanField(allow_null=True, help_text="For the alliance's admins and police only.")
    held_back_reason = serializers.CharField(allow_null=True)

    def to_representation(self, entry: SafeStoreRankingEntry) -> dict:
        full = self.context["sees_details"]
        mine = full or entry.store_id in self.context["own_store_ids"]
        return {
            "rank": entry.rank,
            "store": {"id": entry.store_id, "name": entry.store.name},
            "score": entry.score if mine else None,
            "security_score": entry.security_score if mine else None,
            "contribution_score": entry.contribution_score if mine else None,
            "parts": _parts_list(entry.parts) if mine else None,
            "held_back": entry.held_back if full else None,
            "held_back_reason": entry.held_back_reason if full else None,
        }


class _EntryPagination(DefaultCursorPagination):
    ordering = ("rank", "store_id")


class SafeStoreRankingEntryListApi(generics.ListAPIView):
    """A final ranking's stores, best first: ranks and names for members (of the stores they can see), the scores
    and their parts for the store's own people, the alliance's admins and its police."""

    serializer_class = SafeStoreRankingEntryOutput
    pagination_class = _EntryPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SafeStoreRankingEntry.objects.none()
        access, ranking = _ranking_or_404(self.request, self.kwargs["alliance_id"], self.kwargs["ranking_id"])
        self.access = access
        return selectors.safe_store_ranking_entries(user=self.request.user, access=access, ranking=ranking)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        access = getattr(self, "access", None)
        if access is not None:
            context["sees_details"] = can_see_safe_store_details(self.request.user, access)
            context["own_store_ids"] = (
                set()
                if context["sees_details"]
                else selectors.own_store_ids(user=self.request.user, alliance_id=access.alliance.pk)
            )
        return context


# --- a store's breakdown ------------------------------------------------------------------------------------------


class SafeStoreAdviceOutput(serializers.Serializer):
    part = _part_field()
    change = serializers.FloatField(help_text="What one more unit adds (negative: what it costs).")
    message = serializers.CharField()


class SafeStoreScoreHalfOutput(serializers.Serializer):
    score = serializers.FloatField()
    parts = SafeStorePartScoreOutput(many=True)


class SafeStoreBreakdownOutput(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    rank = serializers.IntegerField()
    store_count = serializers.IntegerField()
    score = serializers.FloatField()
    security_status = SafeStoreScoreHalfOutput()
    contribution = SafeStoreScoreHalfOutput()
    what_would_raise_it = SafeStoreAdviceOutput(many=True, help_text="The most helpful first; costs last.")


class StoreSafeStoreScoreApi(APIView):
    @extend_schema(
        operation_id="stores_safe_store_score",
        responses=SafeStoreBreakdownOutput,
        summary="The store's people, admins and police: its score this half-year, part by part, and what would "
        "raise it",
    )
    def get(self, request, store_id: int):
        found = selectors.store_safety_record_access(user=request.user, store_id=store_id)
        breakdown = selectors.store_safe_store_breakdown(store_access=found)
        return Response(
            {
                "period_start": breakdown.period_start,
                "period_end": breakdown.period_end,
                "rank": breakdown.rank,
                "store_count": breakdown.store_count,
                "score": breakdown.score,
                "security_status": {
                    "score": breakdown.security_score,
                    "parts": [vars(part) for part in breakdown.security_parts],
                },
                "contribution": {
                    "score": breakdown.contribution_score,
                    "parts": [vars(part) for part in breakdown.contribution_parts],
                },
                "what_would_raise_it": [vars(advice) for advice in breakdown.advice],
            }
        )


# --- weights ------------------------------------------------------------------------------------------------------


class SafeStoreWeightOutput(serializers.Serializer):
    part = _part_field()
    label = serializers.CharField()
    half = serializers.ChoiceField(choices=["security_status", "contribution"])
    weight = serializers.FloatField()


class SafeStoreWeightsOutput(serializers.Serializer):
    weights = SafeStoreWeightOutput(many=True)


def _weights_payload(weights: dict[str, float]) -> dict:
    return {
        "weights": [
            {
                "part": part.value,
                "label": str(part.label),
                "half": "security_status" if part in SECURITY_PARTS else "contribution",
                "weight": weights[part.value],
            }
            for part in StoreScorePart
        ]
    }


def _weight_field(part: StoreScorePart) -> serializers.FloatField:
    return serializers.FloatField(
        required=False, min_value=-SAFE_STORE_WEIGHT_LIMIT, max_value=SAFE_STORE_WEIGHT_LIMIT, help_text=part.label
    )


class SafeStoreWeightsInput(InputSerializer):
    """Any of the parts, each a weight from -100 to 100; parts not named keep their weight."""

    incident_nearby = _weight_field(StoreScorePart.INCIDENT_NEARBY)
    hidden_danger_fixed = _weight_field(StoreScorePart.HIDDEN_DANGER_FIXED)
    hidden_danger_overdue = _weight_field(StoreScorePart.HIDDEN_DANGER_OVERDUE)
    inspection_passed = _weight_field(StoreScorePart.INSPECTION_PASSED)
    inspection_failed = _weight_field(StoreScorePart.INSPECTION_FAILED)
    report_accepted = _weight_field(StoreScorePart.REPORT_ACCEPTED)
    flag_handled_well = _weight_field(StoreScorePart.FLAG_HANDLED_WELL)
    patrol_hours = _weight_field(StoreScorePart.PATROL_HOURS)
    alert_acknowledged = _weight_field(StoreScorePart.ALERT_ACKNOWLEDGED)
    group_participation = _weight_field(StoreScorePart.GROUP_PARTICIPATION)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(_("Name at least one part."))
        for part, weight in attrs.items():
            if not math.isfinite(weight):
                raise serializers.ValidationError({part: [_("Enter a number.")]})
        return attrs


class SafeStoreWeightsApi(APIView):
    @extend_schema(
        operation_id="alliances_safe_store_weights",
        responses=SafeStoreWeightsOutput,
        summary="Members: the weight of each part of the Safe Store score",
    )
    def get(self, request, alliance_id: int):
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        return Response(_weights_payload(safe_store_weights(alliance_ids=[access.alliance.pk])[access.alliance.pk]))

    @extend_schema(
        operation_id="alliances_safe_store_weights_set",
        request=SafeStoreWeightsInput,
        responses=SafeStoreWeightsOutput,
        summary="Police admins of the jurisdiction: set weights (-100 to 100); the current preview follows at once",
    )
    def put(self, request, alliance_id: int):
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        if not can_set_safe_store_weights(request.user, access):
            raise ApplicationError.permission_denied(str(WEIGHTS_REFUSAL))
        data = SafeStoreWeightsInput(data=request.data)
        data.is_valid(raise_exception=True)
        weights = safe_store_weights_set(actor=request.user, access=access, weights=dict(data.validated_data))
        return Response(_weights_payload(weights))
