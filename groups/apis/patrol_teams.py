"""HTTP endpoints for patrol teams and their members, and the team's shift templates.

Whoever can see the alliance (its members, the police admins of its jurisdiction) reads its teams; another
alliance's team id answers 404."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.apis.outputs import AlliancePersonOutput, person_context
from alliance.selectors.alliances import alliance_access_or_404
from config.serializer_fields import IdField, NamedChoiceField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body
from groups.models import PatrolTeam, PatrolTeamMember, ShiftTemplate
from groups.selectors import patrol_rosters as selectors
from groups.services import patrol_teams as services
from groups.services import shifts as shift_services


def _kind_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=PatrolTeam.Kind.choices, enum_name="PatrolTeamKindEnum", **kwargs)


def _team_role_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=PatrolTeamMember.Role.choices, enum_name="PatrolTeamRoleEnum", **kwargs)


class PatrolTeamLeaderOutput(serializers.Serializer):
    id = serializers.IntegerField(source="user.id")
    display_name = serializers.CharField(source="user.display_name")


class PatrolTeamOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = serializers.IntegerField(source="alliance_id")
    name = serializers.CharField()
    kind = _kind_field()
    contact_group = serializers.IntegerField(source="contact_group_id", allow_null=True)
    is_archived = serializers.BooleanField()
    member_count = serializers.IntegerField()
    leaders = PatrolTeamLeaderOutput(many=True)
    created_at = serializers.DateTimeField()


def _team_output(team: PatrolTeam) -> dict:
    """One team as the list shows it (leaders and member count read again for the single answer)."""
    [annotated] = selectors.patrol_teams_for_alliance(alliance=team.alliance).filter(pk=team.pk)
    return PatrolTeamOutput(annotated).data


class PatrolTeamMemberOutput(serializers.Serializer):
    user = AlliancePersonOutput()
    role = _team_role_field()
    joined_at = serializers.DateTimeField()


class PatrolTeamListApi(generics.ListAPIView):
    serializer_class = PatrolTeamOutput

    class PatrolTeamCreateInput(InputSerializer):
        name = StrictCharField(max_length=100)
        kind = _kind_field()
        leaders = serializers.ListField(child=IdField(), max_length=20, required=False)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PatrolTeam.objects.none()
        access = alliance_access_or_404(user=self.request.user, alliance_id=self.kwargs["alliance_id"])
        return selectors.patrol_teams_for_alliance(alliance=access.alliance)

    @extend_schema(
        operation_id="patrol_teams_create",
        request=PatrolTeamCreateInput,
        responses={201: PatrolTeamOutput},
        summary="Alliance admins and police admins: a patrol team, with its own contact group",
    )
    def post(self, request, alliance_id: int):
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.PatrolTeamCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        team = services.patrol_team_create(
            actor=request.user,
            access=access,
            name=values["name"],
            kind=values["kind"],
            leader_ids=values.get("leaders", []),
        )
        return Response(_team_output(team), status=status.HTTP_201_CREATED)


class PatrolTeamDetailApi(APIView):
    class PatrolTeamUpdateInput(InputSerializer):
        name = StrictCharField(max_length=100, required=False)
        kind = _kind_field(required=False)
        is_archived = serializers.BooleanField(required=False)

    @extend_schema(operation_id="patrol_teams_retrieve", responses=PatrolTeamOutput)
    def get(self, request, team_id: int):
        return Response(_team_output(selectors.team_access_or_404(user=request.user, team_id=team_id).team))

    @extend_schema(operation_id="patrol_teams_update", request=PatrolTeamUpdateInput, responses=PatrolTeamOutput)
    def patch(self, request, team_id: int):
        team_access = selectors.team_access_or_404(user=request.user, team_id=team_id)
        data = self.PatrolTeamUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        team = services.patrol_team_update(actor=request.user, team_access=team_access, **data.validated_data)
        return Response(_team_output(team))


class PatrolTeamMemberListApi(generics.ListAPIView):
    serializer_class = PatrolTeamMemberOutput

    class PatrolTeamMemberAddInput(InputSerializer):
        user = IdField()
        role = _team_role_field(required=False)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PatrolTeamMember.objects.none()
        team_access = selectors.team_access_or_404(user=self.request.user, team_id=self.kwargs["team_id"])
        return selectors.patrol_team_members(team=team_access.team)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **person_context(self.request)}

    @extend_schema(
        operation_id="patrol_teams_members_add",
        request=PatrolTeamMemberAddInput,
        responses={201: PatrolTeamMemberOutput},
        summary="Team leaders: add a member (volunteers, mall managers, police liaisons, police of the alliance)",
    )
    def post(self, request, team_id: int):
        team_access = selectors.team_access_or_404(user=request.user, team_id=team_id)
        data = self.PatrolTeamMemberAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.patrol_team_member_add(
            actor=request.user,
            team_access=team_access,
            user_id=data.validated_data["user"],
            role=data.validated_data.get("role", PatrolTeamMember.Role.MEMBER),
        )
        return Response(
            PatrolTeamMemberOutput(member, context=person_context(request)).data, status=status.HTTP_201_CREATED
        )


class PatrolTeamMemberDetailApi(APIView):
    class PatrolTeamMemberRoleInput(InputSerializer):
        role = _team_role_field()

    @extend_schema(
        operation_id="patrol_teams_members_role_set",
        request=PatrolTeamMemberRoleInput,
        responses=PatrolTeamMemberOutput,
    )
    def patch(self, request, team_id: int, user_id: int):
        team_access = selectors.team_access_or_404(user=request.user, team_id=team_id)
        data = self.PatrolTeamMemberRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.patrol_team_member_set_role(
            actor=request.user, team_access=team_access, user_id=user_id, role=data.validated_data["role"]
        )
        return Response(PatrolTeamMemberOutput(member, context=person_context(request)).data)

    @extend_schema(
        operation_id="patrol_teams_members_remove",
        request=NoBodyInput,
        responses={204: None},
        summary="Team leaders remove a member; a member may leave",
    )
    def delete(self, request, team_id: int, user_id: int):
        no_body(request)
        team_access = selectors.team_access_or_404(user=request.user, team_id=team_id)
        services.patrol_team_member_remove(actor=request.user, team_access=team_access, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- shift templates ----------------------------------------------------------------------------------------------


class ShiftTemplateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.IntegerField(source="team_id")
    name = serializers.CharField()
    rrule = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)
    start_time = serializers.SerializerMethodField()
    duration_minutes = serializers.IntegerField()
    zone = serializers.IntegerField(source="zone_id")
    route = serializers.IntegerField(source="route_id", allow_null=True)
    slots = serializers.DictField(child=serializers.IntegerField())
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()

    @extend_schema_field({"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "example": "22:00"})
    def get_start_time(self, template) -> str:
        """Local wall-clock time (Asia/Shanghai), "HH:MM": not an RFC 3339 time, which would need an offset."""
        return template.start_time.strftime("%H:%M")


class _ShiftTemplateFieldsInput(InputSerializer):
    name = StrictCharField(max_length=100)
    rrule = StrictCharField(max_length=300, help_text=_("RFC 5545 RRULE in local time, e.g. FREQ=DAILY."))
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    start_time = serializers.TimeField(help_text=_("Local time (Asia/Shanghai)."))
    duration_minutes = serializers.IntegerField(min_value=15, max_value=24 * 60)
    zone = IdField()
    route = IdField(required=False, allow_null=True)
    slots = serializers.DictField(child=serializers.IntegerField(min_value=0, max_value=50), allow_empty=False)


def _template_values(validated: dict) -> dict:
    values = dict(validated)
    if "zone" in values:
        values["zone_id"] = values.pop("zone")
    if "route" in values:
        values["route_id"] = values.pop("route")
    return values


class ShiftTemplateListApi(generics.ListAPIView):
    serializer_class = ShiftTemplateOutput

    class ShiftTemplateCreateInput(_ShiftTemplateFieldsInput):
        pass

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ShiftTemplate.objects.none()
        team_access = selectors.team_access_or_404(user=self.request.user, team_id=self.kwargs["team_id"])
        return selectors.shift_templates_for_team(team=team_access.team)

    @extend_schema(
        operation_id="shift_templates_create",
        request=ShiftTemplateCreateInput,
        responses={201: ShiftTemplateOutput},
        summary="Team leaders: a recurring shift; its shifts over the horizon are made at once",
    )
    def post(self, request, team_id: int):
        team_access = selectors.team_access_or_404(user=request.user, team_id=team_id)
        data = self.ShiftTemplateCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = shift_services.shift_template_create(
            actor=request.user, team_access=team_access, **_template_values(data.validated_data)
        )
        return Response(ShiftTemplateOutput(template).data, status=status.HTTP_201_CREATED)


class ShiftTemplateDetailApi(APIView):
    class ShiftTemplateUpdateInput(_ShiftTemplateFieldsInput):
        is_active = serializers.BooleanField(required=False)

    @extend_schema(operation_id="shift_templates_retrieve", responses=ShiftTemplateOutput)
    def get(self, request, template_id: int):
        template, _team_access = selectors.template_access_or_404(user=request.user, template_id=template_id)
        return Response(ShiftTemplateOutput(template).data)

    @extend_schema(
        operation_id="shift_templates_update",
        request=ShiftTemplateUpdateInput,
        responses=ShiftTemplateOutput,
        summary="Team leaders: change a template; future shifts nobody signed up for are made again",
    )
    def patch(self, request, template_id: int):
        template, team_access = selectors.template_access_or_404(user=request.user, template_id=template_id)
        data = self.ShiftTemplateUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = _template_values(data.validated_data)
        template = shift_services.shift_template_update(
            actor=request.user, template=template, team_access=team_access, **values
        )
        return Response(ShiftTemplateOutput(template).data)

    @extend_schema(
        operation_id="shift_templates_deactivate",
        request=NoBodyInput,
        responses={204: None},
        summary="Team leaders: no more shifts from this template (shifts with people on them stay)",
    )
    def delete(self, request, template_id: int):
        no_body(request)
        template, team_access = selectors.template_access_or_404(user=request.user, template_id=template_id)
        shift_services.shift_template_deactivate(actor=request.user, template=template, team_access=team_access)
        return Response(status=status.HTTP_204_NO_CONTENT)
