"""The shapes of incident reports in the API: input fields shared by reporting from the app and from a group
message, and every output (a case in a list, its detail with timeline, comments and photos, possible duplicates).

Who looks decides what is shown: the serializers take :func:`incident_context` (an anonymous report's reporter for
police admins and themself only; phone numbers in full for the police only).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.permissions import can_see_full_phone_numbers
from accounts.presentation import MaskedPhoneField
from config.serializer_fields import NamedChoiceField
from config.serializers import InputSerializer, OutputModelSerializer
from reports.apis.case_photos import case_photo_links
from reports.models import Incident
from reports.permissions import can_see_incident_reporter
from reports.presentation import incident_awaiting_rating

# --- fields ------------------------------------------------------------------------------------------------------


def incident_category_field(**kwargs) -> NamedChoiceField:
    # Named enums: dispute flags also have a "category" and a "status", with other choices.
    return NamedChoiceField(choices=Incident.Category.choices, enum_name="IncidentCategoryEnum", **kwargs)


def incident_status_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=Incident.Status.choices, enum_name="IncidentStatusEnum", **kwargs)


class CoordinateField(serializers.DecimalField):
    """Degrees, rounded to 6 decimal places (about 10 cm): phones send GPS fixes with more digits than that, and a
    fix is not wrong for being precise."""

    def __init__(self, *, limit: int, **kwargs):
        super().__init__(max_digits=9, decimal_places=6, min_value=-limit, max_value=limit, **kwargs)

    def validate_precision(self, value):
        try:
            value = value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        except InvalidOperation:
            self.fail("max_whole_digits", max_whole_digits=self.max_whole_digits)
        return super().validate_precision(value)


class LocationInputMixin(InputSerializer):
    latitude = CoordinateField(limit=90, required=False)
    longitude = CoordinateField(limit=180, required=False)

    def validate(self, attrs):
        if ("latitude" in attrs) != ("longitude" in attrs):
            raise serializers.ValidationError({"latitude": [_("Send both latitude and longitude, or neither.")]})
        return attrs


# --- output ------------------------------------------------------------------------------------------------------


class IncidentLocationOutput(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()


class IncidentReporterOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    # read_only=False: only for the schema, where this answer's fields have never been marked read-only.
    phone = MaskedPhoneField(
        read_only=False, help_text="In full for the police, masked (138****1234) for everyone else"
    )


class IncidentAssigneeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class IncidentTeamOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class IncidentSourceOutput(serializers.Serializer):
    group = serializers.IntegerField()
    seq = serializers.IntegerField()


class IncidentActorOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null for the reporter of an anonymous report")
    display_name = serializers.CharField()
    is_reporter = serializers.BooleanField()


def incident_context(viewer, **extra) -> dict:
    """What the incident serializers need to know about who looks: the viewer (anonymous reporters, "is mine") and
    whether they see full phone numbers (decided once per request)."""
    return {"viewer": viewer, "full_phones": can_see_full_phone_numbers(viewer), **extra}


def _viewer(serializer):
    return serializer.context["viewer"]


def _person(user_id, user, incident: Incident, viewer) -> dict | None:
    """Someone who acted on the case, as ``viewer`` may see them: the reporter of an anonymous report appears as
    "Anonymous reporter" to everyone but police admins and themself."""
    if user_id is None:
        return None
    is_reporter = user_id == incident.reporter_id
    if is_reporter and not can_see_incident_reporter(viewer, incident):
        return {"id": None, "display_name": _("Anonymous reporter"), "is_reporter": True}
    return {"id": user_id, "display_name": user.display_name if user else "", "is_reporter": is_reporter}


class IncidentOutput(OutputModelSerializer):
    category = incident_category_field()
    status = incident_status_field()
    category_label = serializers.CharField(source="get_category_display")
    status_label = serializers.CharField(source="get_status_display")
    reporter = serializers.SerializerMethodField()
    is_mine = serializers.SerializerMethodField()
    location = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    assigned_team = serializers.SerializerMethodField()
    awaiting_rating = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()
    group = serializers.IntegerField(source="card_message.group_id", default=None, allow_null=True)
    card_seq = serializers.IntegerField(source="card_message.seq", default=None, allow_null=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "alliance",
            "category",
            "category_label",
            "status",
            "status_label",
            "is_anonymous",
            "reporter",
            "is_mine",
            "description",
            "location",
            "occurred_at",
            "created_at",
            "accepted_at",
            "resolved_at",
            "closed_at",
            "rejection_reason",
            "resolution_notes",
            "assignee",
            "assigned_team",
            "satisfaction",
            "satisfaction_comment",
            "awaiting_rating",
            "merged_into",
            "source",
            "group",
            "card_seq",
        ]

    @extend_schema_field(IncidentReporterOutput(allow_null=True))
    def get_reporter(self, incident) -> dict | None:
        if incident.reporter_id is None or not can_see_incident_reporter(_viewer(self), incident):
            return None
        reporter = incident.reporter
        # A deleted account has no number: "" as ever (the field would leave None as null).
        shown = {"id": reporter.pk, "display_name": reporter.display_name, "phone": reporter.phone or ""}
        return IncidentReporterOutput(shown, context=self.context).data

    def get_is_mine(self, incident) -> bool:
        return incident.reporter_id is not None and incident.reporter_id == _viewer(self).pk

    @extend_schema_field(IncidentLocationOutput)
    def get_location(self, incident) -> dict:
        return {"latitude": float(incident.latitude), "longitude": float(incident.longitude)}

    @extend_schema_field(IncidentAssigneeOutput(allow_null=True))
    def get_assignee(self, incident) -> dict | None:
        if incident.assignee_id is None:
            return None
        return {"id": incident.assignee_id, "display_name": incident.assignee.display_name}

    @extend_schema_field(IncidentTeamOutput(allow_null=True))
    def get_assigned_team(self, incident) -> dict | None:
        if incident.assigned_team_id is None:
            return None
        return {"id": incident.assigned_team_id, "name": incident.assigned_team.name}

    def get_awaiting_rating(self, incident) -> bool:
        return incident_awaiting_rating(incident)

    @extend_schema_field(IncidentSourceOutput(allow_null=True))
    def get_source(self, incident) -> dict | None:
        message = incident.source_message
        return None if message is None else {"group": message.group_id, "seq": message.seq}


class IncidentDuplicateOutput(serializers.Serializer):
    """A possible duplicate, without its reporter or description: enough to say "this may already be reported"."""

    id = serializers.IntegerField()
    category = incident_category_field()
    status = incident_status_field()
    status_label = serializers.CharField(source="get_status_display")
    occurred_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    distance_m = serializers.FloatField(help_text="Metres from this case")


class IncidentCreatedOutput(IncidentOutput):
    duplicates = IncidentDuplicateOutput(many=True, read_only=True, source="duplicate_suggestions")

    class Meta(IncidentOutput.Meta):
        fields = [*IncidentOutput.Meta.fields, "duplicates"]


class IncidentTimelineEntryOutput(serializers.Serializer):
    kind = serializers.CharField()
    actor = serializers.SerializerMethodField()
    data = serializers.DictField()
    at = serializers.DateTimeField()

    @extend_schema_field(IncidentActorOutput(allow_null=True))
    def get_actor(self, event) -> dict | None:
        return _person(event.actor_id, event.actor, self.context["incident"], _viewer(self))


class IncidentCommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.SerializerMethodField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(IncidentActorOutput(allow_null=True))
    def get_author(self, comment) -> dict | None:
        return _person(comment.author_id, comment.author, self.context["incident"], _viewer(self))


class IncidentPhotoOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    thumbnail_url = serializers.CharField()


class IncidentDetailOutput(IncidentOutput):
    timeline = serializers.SerializerMethodField()
    comments = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    duplicates = IncidentDuplicateOutput(
        many=True,
        read_only=True,
        source="duplicate_suggestions",
        help_text="For the reporter and the police; empty for everyone else",
    )

    class Meta(IncidentOutput.Meta):
        fields = [*IncidentOutput.Meta.fields, "timeline", "comments", "photos", "duplicates"]

    def _nested(self, incident) -> dict:
        return {**self.context, "incident": incident}

    @extend_schema_field(IncidentTimelineEntryOutput(many=True))
    def get_timeline(self, incident) -> list[dict]:
        return IncidentTimelineEntryOutput(incident.events.all(), many=True, context=self._nested(incident)).data

    @extend_schema_field(IncidentCommentOutput(many=True))
    def get_comments(self, incident) -> list[dict]:
        return IncidentCommentOutput(incident.comments.all(), many=True, context=self._nested(incident)).data

    @extend_schema_field(IncidentPhotoOutput(many=True))
    def get_photos(self, incident) -> list[dict]:
        return case_photo_links(incident.photos.all(), base=f"/api/v1/incidents/{incident.pk}/photos")
