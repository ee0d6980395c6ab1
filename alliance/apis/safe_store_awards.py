"""HTTP endpoints for the Safe Store awards: publishing a ranking, holding a store back, the current Safe Stores,
and a badge's certificate (PDF)."""

from __future__ import annotations

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.models import SafeStoreBadge
from alliance.permissions import can_have_safe_store_certificate
from alliance.selectors import alliances as alliance_selectors
from alliance.selectors import safe_store_awards as selectors
from alliance.services.safe_store_awards import (
    safe_store_certificate_make,
    safe_store_entry_hold_back,
    safe_store_entry_release,
    safe_store_ranking_publish,
)
from config.pagination import DefaultCursorPagination
from config.serializer_fields import StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body


class SafeStoreShownOutput(serializers.Serializer):
    """The Safe Store badge a store shows now (its ``safe_store``)."""

    badge_id = serializers.IntegerField(source="pk")
    period = serializers.SerializerMethodField(help_text='The half-year the store was ranked in, e.g. "2026H1".')
    place = serializers.IntegerField(help_text="Its place among the alliance's Safe Stores of that half-year, 1..10.")
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()

    def get_period(self, badge) -> str:
        return selectors.period_label(badge.ranking.period_start)


class SafeStoreStoreOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()


class SafeStoreOutput(SafeStoreShownOutput):
    store = SafeStoreStoreOutput()
    ranking_id = serializers.IntegerField()


class SafeStoreRankingPublishedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.SerializerMethodField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    status = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    safe_stores = serializers.SerializerMethodField()

    def get_period(self, ranking) -> str:
        return selectors.period_label(ranking.period_start)

    @extend_schema_field(SafeStoreOutput(many=True))
    def get_safe_stores(self, ranking) -> list[dict]:
        return SafeStoreOutput(self.context["badges"], many=True).data


class SafeStoreEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    ranking_id = serializers.IntegerField()
    store = SafeStoreStoreOutput()
    rank = serializers.IntegerField()
    score = serializers.FloatField()
    held_back = serializers.BooleanField()
    held_back_reason = serializers.CharField()
    held_back_at = serializers.DateTimeField(allow_null=True)


class SafeStoreRankingPublishApi(APIView):
    @extend_schema(
        operation_id="alliances_safe_store_rankings_publish",
        request=NoBodyInput,
        responses=SafeStoreRankingPublishedOutput,
        summary="Police admins: publish a Safe Store ranking (badges, property-fee reductions, winners told)",
    )
    def post(self, request, alliance_id: int, ranking_id: int):
        no_body(request)
        ranking = selectors.safe_store_ranking_access_or_404(
            user=request.user, alliance_id=alliance_id, ranking_id=ranking_id
        )
        ranking = safe_store_ranking_publish(ranking=ranking, by=request.user)
        badges = selectors.safe_store_ranking_badges(ranking=ranking)
        return Response(SafeStoreRankingPublishedOutput(ranking, context={"badges": badges}).data)


class SafeStoreEntryHoldBackApi(APIView):
    class HoldBackInput(InputSerializer):
        reason = StrictCharField(max_length=500)

    def _entry(self, request, alliance_id: int, ranking_id: int, entry_id: int):
        ranking = selectors.safe_store_ranking_access_or_404(
            user=request.user, alliance_id=alliance_id, ranking_id=ranking_id
        )
        return selectors.safe_store_entry_or_404(ranking=ranking, entry_id=entry_id)

    @extend_schema(
        operation_id="alliances_safe_store_rankings_entries_hold_back",
        request=HoldBackInput,
        responses=SafeStoreEntryOutput,
        summary="Police admins: hold a store back from the Safe Stores of an unpublished ranking, saying why",
    )
    def post(self, request, alliance_id: int, ranking_id: int, entry_id: int):
        data = self.HoldBackInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = self._entry(request, alliance_id, ranking_id, entry_id)
        entry = safe_store_entry_hold_back(entry=entry, reason=data.validated_data["reason"], by=request.user)
        return Response(SafeStoreEntryOutput(entry).data)

    @extend_schema(
        operation_id="alliances_safe_store_rankings_entries_release",
        request=NoBodyInput,
        responses={204: None},
        summary="Police admins: release a held-back store before the ranking is published",
    )
    def delete(self, request, alliance_id: int, ranking_id: int, entry_id: int):
        no_body(request)
        safe_store_entry_release(entry=self._entry(request, alliance_id, ranking_id, entry_id), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SafeStoreListApi(generics.ListAPIView):
    """The alliance's Safe Stores now (the badges valid today), by place: to its members and its police."""

    serializer_class = SafeStoreOutput

    class Pagination(DefaultCursorPagination):
        ordering = ("place", "id")

    pagination_class = Pagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SafeStoreBadge.objects.none()
        access = alliance_selectors.alliance_access_or_404(
            user=self.request.user, alliance_id=self.kwargs["alliance_id"]
        )
        return selectors.safe_stores_current(alliance=access.alliance)


def _filename_safe(name: str) -> str:
    """A store's name as part of a file name: no path separators, quotes or control characters."""
    return "".join("_" if char in '/\\"' or not char.isprintable() else char for char in name).strip() or "store"


class SafeStoreCertificateApi(APIView):
    """A badge's certificate (PDF): to the store's owner and staff, the alliance's admins and the police admins of
    its jurisdiction; 404 for anyone else. Made on first download if the background job has not made it yet."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)  # the PDF whatever ``Accept`` says

    @extend_schema(
        operation_id="stores_safe_store_badges_certificate",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        summary="The Safe Store certificate of a store's badge (PDF)",
    )
    def get(self, request, store_id: int, badge_id: int):
        found = selectors.safe_store_badge_access_or_404(user=request.user, store_id=store_id, badge_id=badge_id)
        store_access = found.store_access
        if not can_have_safe_store_certificate(
            request.user, store_access.store, store_access.access, is_store_staff=store_access.is_store_staff
        ):
            raise Http404
        badge = safe_store_certificate_make(badge=found.badge)
        period = selectors.period_label(badge.ranking.period_start)
        try:
            file = badge.certificate.open("rb")
        except FileNotFoundError:
            raise Http404
        response = FileResponse(
            file,
            content_type="application/pdf",
            as_attachment=True,
            filename=f"平安门店证书-{period}-{_filename_safe(badge.store.name)}.pdf",
        )
        response["Cache-Control"] = "private, no-store"
        return response
