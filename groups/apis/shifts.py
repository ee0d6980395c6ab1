"""HTTP endpoints for shifts and places on them: the alliance's shifts with places filled per role, a shift's
roster, ad-hoc shifts and cancelling, signing up (or assigning), giving up, the waitlist's offers, swaps, and the
person's own shifts and calendar address."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.apis.outputs import AlliancePersonOutput, person_context
from alliance.selectors.alliances import alliance_access_or_404
from config.filters import IdFilter
from config.pagination import DefaultCursorPagination
from config.serializer_fields import BoundedDateTimeField, IdField, NamedChoiceField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body
from groups.models import Shift, ShiftSignup, ShiftSwapRequest, SlotRole
from groups.selectors import patrol_rosters as selectors
from groups.services import calendar_feeds
from groups.services import shift_signups as signups
from groups.services import shifts as services

MY_SHIFTS_PAST_DAYS = 30


def _slot_role_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=SlotRole.choices, enum_name="ShiftSlotRoleEnum", **kwargs)


class ShiftPlacesOutput(serializers.Serializer):
    role = _slot_role_field()
    capacity = serializers.IntegerField()
    filled = serializers.IntegerField()


class ShiftOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = serializers.IntegerField(source="alliance_id")
    team = serializers.IntegerField(source="team_id")
    team_name = serializers.CharField(source="team.name")
    template = serializers.IntegerField(source="template_id", allow_null=True)
    name = serializers.CharField()
    zone = serializers.IntegerField(source="zone_id")
    zone_name = serializers.CharField(source="zone.name")
    route = serializers.IntegerField(source="route_id", allow_null=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    status = NamedChoiceField(choices=Shift.Status.choices, enum_name="ShiftStatusEnum")
    places = serializers.SerializerMethodField()
    waitlisted = serializers.IntegerField()

    @extend_schema_field(ShiftPlacesOutput(many=True))
    def get_places(self, shift) -> list[dict]:
        held = getattr(shift, "held_signups", None)
        if held is None:
            held = list(shift.signups.filter(status__in=signups.PLACE_HOLDING))
        return [
            {"role": role, "capacity": capacity, "filled": sum(1 for s in held if s.role == role)}
            for role, capacity in shift.slots.items()
        ]


class ShiftSignupOutput(serializers.Serializer):
    id = serializers.IntegerField()
    shift = serializers.IntegerField(source="shift_id")
    user = AlliancePersonOutput()
    role = _slot_role_field()
    status = NamedChoiceField(choices=ShiftSignup.Status.choices, enum_name="ShiftSignupStatusEnum")
    attendance = NamedChoiceField(choices=ShiftSignup.Attendance.choices, enum_name="ShiftAttendanceEnum")
    created_at = serializers.DateTimeField()
    offered_at = serializers.DateTimeField(allow_null=True)
    checked_in_at = serializers.DateTimeField(allow_null=True)
    checked_out_at = serializers.DateTimeField(allow_null=True)


class ShiftDetailOutput(ShiftOutput):
    roster = ShiftSignupOutput(many=True)


class MyShiftOutput(serializers.Serializer):
    signup = serializers.IntegerField(source="id")
    role = _slot_role_field()
    status = NamedChoiceField(choices=ShiftSignup.Status.choices, enum_name="ShiftSignupStatusEnum")
    attendance = NamedChoiceField(choices=ShiftSignup.Attendance.choices, enum_name="ShiftAttendanceEnum")
    shift = serializers.IntegerField(source="shift.id")
    name = serializers.CharField(source="shift.name")
    team_name = serializers.CharField(source="shift.team.name")
    zone = serializers.IntegerField(source="shift.zone_id")
    zone_name = serializers.CharField(source="shift.zone.name")
    starts_at = serializers.DateTimeField(source="shift.starts_at")
    ends_at = serializers.DateTimeField(source="shift.ends_at")
    shift_status = NamedChoiceField(source="shift.status", choices=Shift.Status.choices, enum_name="ShiftStatusEnum")


class SwapRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    signup = serializers.IntegerField(source="signup_id")
    to_user = serializers.IntegerField(source="to_user_id")
    status = NamedChoiceField(choices=ShiftSwapRequest.Status.choices, enum_name="ShiftSwapStatusEnum")
    decided_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class ShiftPagination(DefaultCursorPagination):
    ordering = ("starts_at", "id")


class MyShiftPagination(DefaultCursorPagination):
    ordering = ("shift_starts_at", "id")


class ShiftFilter(django_filters.FilterSet):
    zone = IdFilter(field_name="zone_id")
    team = IdFilter(field_name="team_id")


def _shift_detail(request, shift: Shift) -> dict:
    [shown] = selectors.shifts_for_alliance(alliance=shift.alliance, starts_from=None, starts_to=None).filter(
        pk=shift.pk
    )
    shown.roster = list(selectors.shift_roster(shift=shift))
    return ShiftDetailOutput(shown, context=person_context(request)).data


class AllianceShiftListApi(generics.ListAPIView):
    """The alliance's shifts overlapping [from, to) (default: from now), with filled and capacity per role."""

    serializer_class = ShiftOutput
    pagination_class = ShiftPagination
    filterset_class = ShiftFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Shift.objects.none()
        access = alliance_access_or_404(user=self.request.user, alliance_id=self.kwargs["alliance_id"])
        window = _window_from(self.request.query_params)
        return selectors.shifts_for_alliance(
            alliance=access.alliance, starts_from=window.get("from", timezone.now()), starts_to=window.get("to")
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATETIME, description="Shifts still running at or after (default now)"
            ),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="Shifts starting before"),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _window_from(query) -> dict:
    """``from`` and ``to`` (ISO 8601) of the query string, each optional; a bad one is a 400 naming it."""
    window, errors = {}, {}
    for name in ("from", "to"):
        if name in query:
            try:
                window[name] = serializers.DateTimeField().run_validation(query[name])
            except serializers.ValidationError as error:
                errors[name] = error.detail
    if errors:
        raise serializers.ValidationError(errors)
    return window


class PatrolTeamShiftCreateApi(APIView):
    class ShiftCreateInput(InputSerializer):
        name = StrictCharField(max_length=100)
        starts_at = BoundedDateTimeField()
        ends_at = BoundedDateTimeField()
        zone = IdField()
        route = IdField(required=False, allow_null=True)
        slots = serializers.DictField(child=serializers.IntegerField(min_value=0, max_value=50), allow_empty=False)

    @extend_schema(
        operation_id="patrol_teams_shifts_create",
        request=ShiftCreateInput,
        responses={201: ShiftDetailOutput},
        summary="Team leaders: an ad-hoc shift outside any template",
    )
    def post(self, request, team_id: int):
        team_access = selectors.team_access_or_404(user=request.user, team_id=team_id)
        data = self.ShiftCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        shift = services.shift_create(
            actor=request.user,
            team_access=team_access,
            zone_id=values.pop("zone"),
            route_id=values.pop("route", None),
            **values,
        )
        return Response(_shift_detail(request, shift), status=status.HTTP_201_CREATED)


class ShiftDetailApi(APIView):
    @extend_schema(operation_id="shifts_retrieve", responses=ShiftDetailOutput, summary="A shift with its roster")
    def get(self, request, shift_id: int):
        shift, _team_access = selectors.shift_access_or_404(user=request.user, shift_id=shift_id)
        return Response(_shift_detail(request, shift))


class ShiftCancelApi(APIView):
    @extend_schema(
        operation_id="shifts_cancel",
        request=NoBodyInput,
        responses=ShiftDetailOutput,
        summary="Team leaders: cancel a shift; everyone on it is told",
    )
    def post(self, request, shift_id: int):
        no_body(request)
        shift, team_access = selectors.shift_access_or_404(user=request.user, shift_id=shift_id)
        shift = services.shift_cancel(actor=request.user, shift=shift, team_access=team_access)
        return Response(_shift_detail(request, shift))


class ShiftSignupCreateApi(APIView):
    class ShiftSignupInput(InputSerializer):
        role = _slot_role_field()
        user = IdField(required=False)

    @extend_schema(
        operation_id="shifts_signups_create",
        request=ShiftSignupInput,
        responses={201: ShiftSignupOutput},
        summary="Sign up for a place (or the waitlist when full); leaders name a ``user`` to assign them",
    )
    def post(self, request, shift_id: int):
        shift, team_access = selectors.shift_access_or_404(user=request.user, shift_id=shift_id)
        data = self.ShiftSignupInput(data=request.data)
        data.is_valid(raise_exception=True)
        role, user_id = data.validated_data["role"], data.validated_data.get("user")
        if user_id is None or user_id == request.user.pk and not team_access.may_lead:
            signup = signups.shift_signup(actor=request.user, shift=shift, role=role)
        else:
            signup = signups.shift_assign(
                actor=request.user, shift=shift, team_access=team_access, user_id=user_id, role=role
            )
        return Response(ShiftSignupOutput(signup, context=person_context(request)).data, status=status.HTTP_201_CREATED)


class ShiftSignupDetailApi(APIView):
    @extend_schema(
        operation_id="shift_signups_cancel",
        request=NoBodyInput,
        responses={204: None},
        summary="Give up one's own place (until the cutoff), or, for leaders, remove someone",
    )
    def delete(self, request, signup_id: int):
        no_body(request)
        signup, team_access = selectors.signup_access_or_404(user=request.user, signup_id=signup_id)
        if signup.user_id == request.user.pk:
            signups.shift_signup_cancel(actor=request.user, signup=signup)
        else:
            signups.shift_remove(actor=request.user, signup=signup, team_access=team_access)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ShiftOfferAcceptApi(APIView):
    @extend_schema(operation_id="shift_signups_accept", request=NoBodyInput, responses=ShiftSignupOutput)
    def post(self, request, signup_id: int):
        no_body(request)
        signup, _team_access = selectors.signup_access_or_404(user=request.user, signup_id=signup_id)
        signup = signups.shift_offer_accept(actor=request.user, signup=signup)
        return Response(ShiftSignupOutput(signup, context=person_context(request)).data)


class ShiftOfferDeclineApi(APIView):
    @extend_schema(operation_id="shift_signups_decline", request=NoBodyInput, responses=ShiftSignupOutput)
    def post(self, request, signup_id: int):
        no_body(request)
        signup, _team_access = selectors.signup_access_or_404(user=request.user, signup_id=signup_id)
        signup = signups.shift_offer_decline(actor=request.user, signup=signup)
        return Response(ShiftSignupOutput(signup, context=person_context(request)).data)


class ShiftSwapRequestCreateApi(APIView):
    class SwapRequestInput(InputSerializer):
        to_user = IdField()

    @extend_schema(
        operation_id="shift_signups_swap_request",
        request=SwapRequestInput,
        responses={201: SwapRequestOutput},
        summary="Ask to hand one's place to someone else; the team leader approves",
    )
    def post(self, request, signup_id: int):
        signup, _team_access = selectors.signup_access_or_404(user=request.user, signup_id=signup_id)
        data = self.SwapRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        swap = signups.shift_swap_request(actor=request.user, signup=signup, to_user_id=data.validated_data["to_user"])
        return Response(SwapRequestOutput(swap).data, status=status.HTTP_201_CREATED)


class SwapRequestDecisionApi(APIView):
    """``decision`` is fixed per route: approve, reject (team leaders), withdraw (the person who asked)."""

    decision = ""

    @extend_schema(request=NoBodyInput, responses=SwapRequestOutput)
    def post(self, request, swap_id: int):
        no_body(request)
        swap, team_access = selectors.swap_access_or_404(user=request.user, swap_id=swap_id)
        if self.decision == "approve":
            swap = signups.shift_swap_approve(actor=request.user, swap=swap, team_access=team_access)
        elif self.decision == "reject":
            swap = signups.shift_swap_reject(actor=request.user, swap=swap, team_access=team_access)
        else:
            swap = signups.shift_swap_withdraw(actor=request.user, swap=swap)
        return Response(SwapRequestOutput(swap).data)


class SwapRequestApproveApi(SwapRequestDecisionApi):
    decision = "approve"

    @extend_schema(operation_id="swap_requests_approve", request=NoBodyInput, responses=SwapRequestOutput)
    def post(self, request, swap_id: int):
        return super().post(request, swap_id)


class SwapRequestRejectApi(SwapRequestDecisionApi):
    decision = "reject"

    @extend_schema(operation_id="swap_requests_reject", request=NoBodyInput, responses=SwapRequestOutput)
    def post(self, request, swap_id: int):
        return super().post(request, swap_id)


class SwapRequestWithdrawApi(SwapRequestDecisionApi):
    decision = "withdraw"

    @extend_schema(operation_id="swap_requests_withdraw", request=NoBodyInput, responses=SwapRequestOutput)
    def post(self, request, swap_id: int):
        return super().post(request, swap_id)


class MyShiftListApi(generics.ListAPIView):
    """The person's places on shifts from 30 days ago onwards (held or waiting), earliest first."""

    serializer_class = MyShiftOutput
    pagination_class = MyShiftPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ShiftSignup.objects.none()
        since = timezone.now() - timedelta(days=MY_SHIFTS_PAST_DAYS)
        return selectors.shifts_of_user(user=self.request.user, since=since)


class CalendarFeedOutput(serializers.Serializer):
    url = serializers.CharField()
    horizon_days = serializers.IntegerField()


class MyCalendarFeedApi(APIView):
    @extend_schema(
        operation_id="me_calendar_feed_create",
        request=NoBodyInput,
        responses={201: CalendarFeedOutput},
        summary="A secret calendar address for one's shifts (shown once; any previous one stops working)",
    )
    def post(self, request):
        no_body(request)
        token = calendar_feeds.calendar_feed_create(user=request.user)
        url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"token": token}))
        body = {"url": url, "horizon_days": settings.PATROL_SHIFT_HORIZON_DAYS}
        return Response(CalendarFeedOutput(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="me_calendar_feed_revoke", request=NoBodyInput, responses={204: None})
    def delete(self, request):
        no_body(request)
        calendar_feeds.calendar_feed_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
