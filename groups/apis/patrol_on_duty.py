"""Who is on duty in an alliance now, nearest first: ``GET /alliances/{id}/on-duty``.

The police's on-duty screen reads it once and then follows the live ``on_duty`` events (groups/services/
patrol_on_duty.py), whose ``responder`` is one row of this list.
"""

from __future__ import annotations

import math

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import is_police
from alliance.models import Alliance
from alliance.selectors.alliances import alliance_access, alliance_access_for
from config.coordinates import COORDINATE_SYSTEMS, WGS84, to_wgs84
from config.errors import ApplicationError
from config.serializer_fields import IdField
from groups.models import PatrolZone
from groups.permissions import can_see_on_duty
from groups.presentation import on_duty_responder_payload
from groups.selectors.patrol_on_duty import police_posted_over, responders_on_duty_counted

# One page, the nearest ``limit``, cut in the database (an alliance has a few dozen people on duty; a whole city,
# bench/dispatch_lookup.py, about 2,500); ``count`` says how many there are in all.
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class OnDutyQuery(serializers.Serializer):
    zone = IdField(required=False)
    near = serializers.CharField(required=False, max_length=100)
    coordinate_system = serializers.ChoiceField(choices=COORDINATE_SYSTEMS, default=WGS84)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)

    def validate_near(self, value: str) -> tuple[float, float]:
        message = _("Send the position as latitude,longitude in degrees, e.g. 30.918,121.474.")
        parts = value.split(",")
        if len(parts) != 2:
            raise serializers.ValidationError(message)
        try:
            latitude, longitude = float(parts[0]), float(parts[1])
        except ValueError:
            raise serializers.ValidationError(message) from None
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            raise serializers.ValidationError(message)
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise serializers.ValidationError(_("Latitude runs from -90 to 90 and longitude from -180 to 180."))
        return latitude, longitude


class OnDutyPersonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class OnDutyLocationOutput(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()


class OnDutyResponderOutput(serializers.Serializer):
    """The same shape as the ``responder`` of a live ``on_duty`` event (groups/presentation.py)."""

    user = OnDutyPersonOutput()
    kind = serializers.ChoiceField(choices=["police", "police_liaison", "mall_manager", "volunteer"])
    role = serializers.CharField(help_text="The alliance role; for a volunteer, the place on the shift.")
    since = serializers.DateTimeField(allow_null=True, help_text="On duty or checked in since.")
    location = OnDutyLocationOutput(allow_null=True, help_text="WGS-84; null when unknown.")
    distance_metres = serializers.IntegerField(allow_null=True, help_text="From `near`; null when unknown.")
    shift = serializers.IntegerField(allow_null=True)
    zone = serializers.IntegerField(allow_null=True)


class OnDutyPageOutput(serializers.Serializer):
    count = serializers.IntegerField(help_text="Everyone on duty that matched, of whom `results` are the first.")
    results = OnDutyResponderOutput(many=True)


def _alliance_for_on_duty_or_404(user, alliance_id: int) -> Alliance:
    """The alliance if ``user`` may see who is on duty in it: 404 for those who cannot see the alliance at all, 403
    for its members who are not told (merchants). Police may watch it through their posts without being members,
    so for them the alliance is read first (once), then their membership and posts."""
    if is_police(user):
        alliance = Alliance.objects.filter(pk=alliance_id).first()
        if alliance is None:
            raise Http404
        access = alliance_access_for(user=user, alliance=alliance)
        if can_see_on_duty(user, access) or police_posted_over(user=user, alliance=alliance):
            return alliance
    else:
        access = alliance_access(user=user, alliance_id=alliance_id)
        if access is not None and can_see_on_duty(user, access):
            return access.alliance
    if access is None:
        raise Http404
    raise ApplicationError.permission_denied(_("Only the police, the alliance's admins and its responders see this."))


class AllianceOnDutyApi(APIView):
    @extend_schema(
        operation_id="alliances_on_duty_list",
        parameters=[
            OpenApiParameter("zone", OpenApiTypes.INT, description="Only volunteers on a shift in this patrol zone."),
            OpenApiParameter(
                "near", OpenApiTypes.STR, description="latitude,longitude: nearest first, with distances."
            ),
            OpenApiParameter("coordinate_system", OpenApiTypes.STR, enum=list(COORDINATE_SYSTEMS)),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"At most {MAX_LIMIT}; {DEFAULT_LIMIT} if absent."),
        ],
        responses=OnDutyPageOutput,
        summary="Police, admins and responders: who is on duty now, nearest first",
    )
    def get(self, request, alliance_id: int):
        alliance = _alliance_for_on_duty_or_404(request.user, alliance_id)
        query = OnDutyQuery(data={name: value for name, value in request.query_params.items() if value != ""})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        zone_id = params.get("zone")
        if zone_id is not None and not PatrolZone.objects.filter(pk=zone_id, alliance=alliance).exists():
            raise ApplicationError.not_found(zone=[_("Not found.")])
        near = params.get("near")
        if near is not None:
            near = to_wgs84(*near, params["coordinate_system"])
        responders, total = responders_on_duty_counted(
            alliance_id=alliance.pk, zone_id=zone_id, near=near, limit=params["limit"]
        )
        return Response({"count": total, "results": [on_duty_responder_payload(r) for r in responders]})
