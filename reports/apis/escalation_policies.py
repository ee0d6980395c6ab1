"""HTTP endpoint for an alliance's escalation times: how long a flag waits before the ladder climbs.

Police admins of the alliance's jurisdiction read and set them; a member who is not gets 403, anyone who cannot
see the alliance 404.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.selectors.alliances import AllianceAccess, alliance_access_or_404
from config.serializers import InputSerializer
from reports.models import ACKNOWLEDGE_SECONDS_RANGE, RESOLVE_SECONDS_RANGE
from reports.selectors.escalation_policies import escalation_policy_of
from reports.services import escalation_policies as services


class EscalationPolicyOutput(serializers.Serializer):
    alliance = serializers.IntegerField(source="alliance_id")
    acknowledge_seconds = serializers.IntegerField(help_text="A flag nobody acknowledged climbs after this long")
    resolve_seconds = serializers.IntegerField(help_text="An acknowledged flag climbs this long after it was raised")
    updated_by = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField(allow_null=True, help_text="null while the defaults apply")

    def get_updated_by(self, policy) -> dict | None:
        if policy.updated_by_id is None:
            return None
        return {"id": policy.updated_by_id, "display_name": policy.updated_by.display_name}


def _police_admin_access(request, alliance_id: int) -> AllianceAccess:
    access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
    services.escalation_policy_check_admin(actor=request.user, access=access)
    return access


class EscalationPolicyApi(APIView):
    class EscalationPolicyUpdateInput(InputSerializer):
        acknowledge_seconds = serializers.IntegerField(
            required=False, min_value=ACKNOWLEDGE_SECONDS_RANGE[0], max_value=ACKNOWLEDGE_SECONDS_RANGE[1]
        )
        resolve_seconds = serializers.IntegerField(
            required=False, min_value=RESOLVE_SECONDS_RANGE[0], max_value=RESOLVE_SECONDS_RANGE[1]
        )

    @extend_schema(
        operation_id="alliances_escalation_policy_retrieve",
        responses=EscalationPolicyOutput,
        summary="Police admins: the alliance's escalation times",
    )
    def get(self, request, alliance_id: int):
        access = _police_admin_access(request, alliance_id)
        return Response(EscalationPolicyOutput(escalation_policy_of(alliance=access.alliance)).data)

    @extend_schema(
        operation_id="alliances_escalation_policy_update",
        request=EscalationPolicyUpdateInput,
        responses=EscalationPolicyOutput,
        summary="Police admins: set the alliance's escalation times",
    )
    def patch(self, request, alliance_id: int):
        access = _police_admin_access(request, alliance_id)
        data = self.EscalationPolicyUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.escalation_policy_update(actor=request.user, access=access, **data.validated_data)
        return Response(EscalationPolicyOutput(escalation_policy_of(alliance=access.alliance)).data)
