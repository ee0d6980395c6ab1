"""HTTP endpoints for the workflow of an incident report: accept, assign, start, resolve, close, reject, reopen, rate
and merge. Each answers with the case's detail as the step left it; the rules are the services' (see
``reports.services.incident_workflow``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError
from config.serializer_fields import IdField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body
from reports.apis.incident_serializers import IncidentDetailOutput
from reports.apis.incidents import incident_detail, incident_or_404
from reports.selectors.incidents import incident_for_viewer
from reports.services import incident_workflow as services


class IncidentAcceptApi(APIView):
    @extend_schema(operation_id="incidents_accept", request=NoBodyInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        no_body(request)
        incident = services.incident_accept(actor=request.user, incident=incident_or_404(request, incident_id))
        return Response(incident_detail(request, incident))


class IncidentAssignApi(APIView):
    class IncidentAssignInput(InputSerializer):
        assignee = IdField(required=False, help_text="A responder or officer")
        team = IdField(required=False, help_text="A team group of the alliance")

        def validate(self, attrs):
            if ("assignee" in attrs) == ("team" in attrs):
                raise serializers.ValidationError({"assignee": [_("Assign to one person or one team.")]})
            return attrs

    @extend_schema(operation_id="incidents_assign", request=IncidentAssignInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        incident = incident_or_404(request, incident_id)
        data = self.IncidentAssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_assign(
            actor=request.user,
            incident=incident,
            assignee_id=data.validated_data.get("assignee"),
            team_id=data.validated_data.get("team"),
        )
        return Response(incident_detail(request, incident))


class IncidentStartApi(APIView):
    @extend_schema(operation_id="incidents_start", request=NoBodyInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        no_body(request)
        incident = services.incident_start(actor=request.user, incident=incident_or_404(request, incident_id))
        return Response(incident_detail(request, incident))


class IncidentResolveApi(APIView):
    class IncidentResolveInput(InputSerializer):
        notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="incidents_resolve", request=IncidentResolveInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        incident = incident_or_404(request, incident_id)
        data = self.IncidentResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_resolve(actor=request.user, incident=incident, notes=data.validated_data["notes"])
        return Response(incident_detail(request, incident))


class IncidentCloseApi(APIView):
    @extend_schema(operation_id="incidents_close", request=NoBodyInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        no_body(request)
        incident = services.incident_close(actor=request.user, incident=incident_or_404(request, incident_id))
        return Response(incident_detail(request, incident))


class IncidentRejectApi(APIView):
    class IncidentRejectInput(InputSerializer):
        reason = StrictCharField(max_length=500)

    @extend_schema(operation_id="incidents_reject", request=IncidentRejectInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        incident = incident_or_404(request, incident_id)
        data = self.IncidentRejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_reject(actor=request.user, incident=incident, reason=data.validated_data["reason"])
        return Response(incident_detail(request, incident))


class IncidentReopenApi(APIView):
    class IncidentReopenInput(InputSerializer):
        reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="incidents_reopen", request=IncidentReopenInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        incident = incident_or_404(request, incident_id)
        data = self.IncidentReopenInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_reopen(actor=request.user, incident=incident, reason=data.validated_data["reason"])
        return Response(incident_detail(request, incident))


class IncidentRateApi(APIView):
    class IncidentRateInput(InputSerializer):
        satisfaction = serializers.IntegerField(min_value=1, max_value=5)
        comment = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="incidents_rate", request=IncidentRateInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        incident = incident_or_404(request, incident_id)
        data = self.IncidentRateInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_rate(actor=request.user, incident=incident, **data.validated_data)
        return Response(incident_detail(request, incident))


class IncidentMergeApi(APIView):
    """This case is a duplicate: fold it into ``into``, the case that carries on."""

    class IncidentMergeInput(InputSerializer):
        into = IdField(help_text="The primary case")

    @extend_schema(operation_id="incidents_merge", request=IncidentMergeInput, responses=IncidentDetailOutput)
    def post(self, request, incident_id: int):
        duplicate = incident_or_404(request, incident_id)
        data = self.IncidentMergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        primary = incident_for_viewer(user=request.user, incident_id=data.validated_data["into"])
        if primary is None:
            raise ApplicationError.not_found(into=[_("Not found.")])
        incident = services.incident_merge(actor=request.user, duplicate=duplicate, primary=primary)
        return Response(incident_detail(request, incident))
