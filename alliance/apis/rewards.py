"""HTTP endpoints for the alliance's rewards: the catalogue, redeeming a reward for points, the admins' queue of
requests and its decisions (approve, reject, hand over), the requester's cancel, and one's own requests."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.apis.outputs import AlliancePersonOutput, AllianceRefOutput, person_context
from alliance.models import Redemption, Reward
from alliance.selectors import rewards as selectors
from alliance.selectors.alliances import alliance_access_or_404, alliance_manager_access_or_403
from alliance.services import rewards as services
from config.filters import IdFilter, StrictBooleanFilter
from config.pagination import DefaultCursorPagination
from config.serializer_fields import NamedChoiceField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body

MAX_PRICE = 1_000_000
MAX_STOCK = 1_000_000
MAX_PER_PERSON = 10_000


def _kind_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=Reward.Kind.choices, enum_name="RewardKindEnum", **kwargs)


def _status_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=Redemption.Status.choices, enum_name="RedemptionStatusEnum", **kwargs)


class RewardOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = serializers.IntegerField(source="alliance_id")
    kind = _kind_field()
    name = serializers.CharField()
    description = serializers.CharField()
    price = serializers.IntegerField(help_text="In points")
    stock = serializers.IntegerField(allow_null=True, help_text="Units left; null: no limit")
    per_person_limit = serializers.IntegerField(allow_null=True, help_text="null: no limit")
    is_active = serializers.BooleanField(help_text="Offered; false: withdrawn (seen only by the alliance's admins)")
    created_at = serializers.DateTimeField()


class RedemptionRewardOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = _kind_field()


class RedemptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = AllianceRefOutput()
    reward = RedemptionRewardOutput()
    user = AlliancePersonOutput()
    points = serializers.IntegerField(help_text="Held while requested, spent once approved")
    status = _status_field()
    requested_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="A request undecided by then expires")
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    fulfilled_at = serializers.DateTimeField(allow_null=True)
    granted_for = serializers.CharField(help_text="Set when the reward was granted without points (a Safe Store)")


class RewardPagination(DefaultCursorPagination):
    ordering = ("price", "id")


class RewardFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Reward.Kind.choices)
    is_active = StrictBooleanFilter()
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte", min_value=0, max_value=MAX_PRICE)


class RedemptionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Redemption.Status.choices)
    reward = IdFilter(field_name="reward_id")


class MyRedemptionFilter(RedemptionFilter):
    alliance = IdFilter(field_name="alliance_id")


class _RewardFieldsInput(InputSerializer):
    kind = _kind_field()
    name = StrictCharField(max_length=100)
    description = StrictCharField(max_length=2000, required=False, allow_blank=True)
    price = serializers.IntegerField(min_value=1, max_value=MAX_PRICE, help_text="In points")
    stock = serializers.IntegerField(
        min_value=0, max_value=MAX_STOCK, required=False, allow_null=True, help_text="Units left; null: no limit"
    )
    per_person_limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PER_PERSON, required=False, allow_null=True, help_text="null: no limit"
    )
    is_active = serializers.BooleanField(required=False, help_text="false withdraws the reward")


class RedemptionNoteInput(InputSerializer):
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class AllianceRewardListApi(generics.ListAPIView):
    """The alliance's rewards, cheapest first: members see those on offer, its admins and police every one."""

    serializer_class = RewardOutput
    pagination_class = RewardPagination
    filterset_class = RewardFilter

    class RewardCreateInput(_RewardFieldsInput):
        pass

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Reward.objects.none()
        access = alliance_access_or_404(user=self.request.user, alliance_id=self.kwargs["alliance_id"])
        return selectors.rewards_for_access(user=self.request.user, access=access)

    @extend_schema(
        operation_id="alliances_rewards_create",
        request=RewardCreateInput,
        responses={201: RewardOutput},
        summary="Alliance admins and police admins: add a reward to the catalogue",
    )
    def post(self, request, alliance_id: int):
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.RewardCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        reward = services.reward_create(actor=request.user, access=access, **data.validated_data)
        return Response(RewardOutput(reward).data, status=status.HTTP_201_CREATED)


class AllianceRewardDetailApi(APIView):
    class RewardUpdateInput(_RewardFieldsInput):
        pass

    def _found(self, request, alliance_id: int, reward_id: int):
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        return access, selectors.reward_for_access_or_404(user=request.user, access=access, reward_id=reward_id)

    @extend_schema(operation_id="alliances_rewards_retrieve", responses=RewardOutput)
    def get(self, request, alliance_id: int, reward_id: int):
        return Response(RewardOutput(self._found(request, alliance_id, reward_id)[1]).data)

    @extend_schema(
        operation_id="alliances_rewards_update",
        request=RewardUpdateInput,
        responses=RewardOutput,
        summary="Alliance admins and police admins: change a reward, or withdraw it (is_active false)",
    )
    def patch(self, request, alliance_id: int, reward_id: int):
        access, reward = self._found(request, alliance_id, reward_id)
        data = self.RewardUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        reward = services.reward_update(actor=request.user, access=access, reward=reward, **data.validated_data)
        return Response(RewardOutput(reward).data)

    @extend_schema(
        operation_id="alliances_rewards_delete",
        request=NoBodyInput,
        responses={204: None},
        summary="Remove a reward nobody has asked for yet (code reward_redeemed otherwise: withdraw it instead)",
    )
    def delete(self, request, alliance_id: int, reward_id: int):
        no_body(request)
        access, reward = self._found(request, alliance_id, reward_id)
        services.reward_delete(actor=request.user, access=access, reward=reward)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RewardRedemptionCreateApi(APIView):
    @extend_schema(
        operation_id="alliances_rewards_redeem",
        request=NoBodyInput,
        responses={201: RedemptionOutput},
        summary=(
            "Members: ask for one unit of a reward; its price is held until an admin decides. Refusals: "
            "not_enough_points (figures: available, price), out_of_stock, redemption_limit_reached, reward_not_offered"
        ),
    )
    def post(self, request, alliance_id: int, reward_id: int):
        no_body(request)
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        # The service finds the reward itself, under its lock; a withdrawn one answers reward_not_offered, so a
        # member who saw it on offer a moment ago is told why rather than "not found".
        redemption = services.redemption_request(user=request.user, access=access, reward_id=reward_id)
        return Response(_redemption_body(request, redemption), status=status.HTTP_201_CREATED)


def _redemption_body(request, redemption: Redemption) -> dict:
    shown = selectors.alliance_redemptions(alliance=redemption.alliance_id).get(pk=redemption.pk)
    return RedemptionOutput(shown, context=person_context(request)).data


class AllianceRedemptionListApi(generics.ListAPIView):
    """Alliance admins and police admins: the alliance's reward requests, newest first (``?status=requested``: the
    queue to decide)."""

    serializer_class = RedemptionOutput
    filterset_class = RedemptionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Redemption.objects.none()
        access = alliance_manager_access_or_403(user=self.request.user, alliance_id=self.kwargs["alliance_id"])
        return selectors.alliance_redemptions(alliance=access.alliance)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **person_context(self.request)}


class MyRedemptionListApi(generics.ListAPIView):
    """The person's own reward requests in every alliance, newest first."""

    serializer_class = RedemptionOutput
    filterset_class = MyRedemptionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Redemption.objects.none()
        return selectors.redemptions_of_user(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "full_phones": True}  # one's own number


def _redemption_found(request, alliance_id: int, redemption_id: int):
    access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
    return access, selectors.redemption_for_access_or_404(user=request.user, access=access, redemption_id=redemption_id)


class RedemptionApproveApi(APIView):
    @extend_schema(
        operation_id="alliances_redemptions_approve",
        request=RedemptionNoteInput,
        responses=RedemptionOutput,
        summary="Alliance admins and police admins: approve a request (its points are spent)",
    )
    def post(self, request, alliance_id: int, redemption_id: int):
        data = RedemptionNoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        access, redemption = _redemption_found(request, alliance_id, redemption_id)
        redemption = services.redemption_approve(
            actor=request.user, access=access, redemption=redemption, note=data.validated_data["note"]
        )
        return Response(_redemption_body(request, redemption))


class RedemptionRejectApi(APIView):
    @extend_schema(
        operation_id="alliances_redemptions_reject",
        request=RedemptionNoteInput,
        responses=RedemptionOutput,
        summary="Alliance admins and police admins: reject a request with a note (points and stock return)",
    )
    def post(self, request, alliance_id: int, redemption_id: int):
        data = RedemptionNoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        access, redemption = _redemption_found(request, alliance_id, redemption_id)
        redemption = services.redemption_reject(
            actor=request.user, access=access, redemption=redemption, note=data.validated_data["note"]
        )
        return Response(_redemption_body(request, redemption))


class RedemptionFulfilApi(APIView):
    @extend_schema(
        operation_id="alliances_redemptions_fulfil",
        request=NoBodyInput,
        responses=RedemptionOutput,
        summary="Alliance admins and police admins: the approved reward was handed over",
    )
    def post(self, request, alliance_id: int, redemption_id: int):
        no_body(request)
        access, redemption = _redemption_found(request, alliance_id, redemption_id)
        redemption = services.redemption_fulfil(actor=request.user, access=access, redemption=redemption)
        return Response(_redemption_body(request, redemption))


class RedemptionCancelApi(APIView):
    @extend_schema(
        operation_id="alliances_redemptions_cancel",
        request=NoBodyInput,
        responses=RedemptionOutput,
        summary="The requester: take back a request nobody has decided yet (points and stock return)",
    )
    def post(self, request, alliance_id: int, redemption_id: int):
        no_body(request)
        _access, redemption = _redemption_found(request, alliance_id, redemption_id)
        redemption = services.redemption_cancel(user=request.user, redemption=redemption)
        return Response(_redemption_body(request, redemption))
