"""Contact groups, their members and lines, patrol geography (zones with their grids, routes with their
checkpoints, support points), teams and rosters, and what happened on duty (attempts, scans, the patrol log) in the
admin site, scoped like every admin page (``alliance.admin_scoping``): a police admin sees the groups of their
jurisdiction's alliances only. Calendar feeds are not shown: their addresses are secrets."""

from django import forms
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from alliance.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from config.errors import ApplicationError
from config.geojson import BoundaryError, patrol_boundary_clean
from groups.models import (
    Checkpoint,
    CheckpointScan,
    ContactGroup,
    GroupMembership,
    Message,
    PatrolAttempt,
    PatrolGrid,
    PatrolLogEntry,
    PatrolRoute,
    PatrolTeam,
    PatrolTeamMember,
    PatrolZone,
    Shift,
    ShiftSignup,
    ShiftTemplate,
    SupportPoint,
)
from groups.patrol_geometry import grid_within_zone
from groups.services.patrol_zones import support_point_rings, zone_bounding_box_set

related_only = admin.RelatedOnlyFieldListFilter


class GroupMembershipInline(ScopedTabularInline):
    model = GroupMembership
    alliance_path = "group__alliance"
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at", "last_read_seq"]


@admin.register(ContactGroup)
class ContactGroupAdmin(ScopedModelAdmin):
    # Membership of the main groups follows the alliance; police rename, archive and set who may post.
    police_may_change = True
    police_readonly_fields = ("alliance", "kind")
    list_display = ["name", "alliance", "kind", "posting_policy", "last_seq", "is_archived"]
    list_filter = ["kind", "posting_policy", "is_archived", ("alliance", related_only)]
    search_fields = ["name", "alliance__name"]
    readonly_fields = ["last_seq", "created_at"]
    autocomplete_fields = ["alliance"]
    list_select_related = ["alliance"]
    inlines = [GroupMembershipInline]


@admin.register(GroupMembership)
class GroupMembershipAdmin(ScopedModelAdmin):
    alliance_path = "group__alliance"
    list_display = ["user", "group", "role", "joined_at", "last_read_seq", "is_muted"]
    list_filter = ["role", "is_muted", "group__kind"]
    search_fields = ["user__phone", "user__display_name", "group__name"]
    autocomplete_fields = ["user", "group"]
    readonly_fields = ["joined_at", "last_read_seq"]
    list_select_related = ["user", "group"]


@admin.register(Message)
class MessageAdmin(ScopedModelAdmin):
    alliance_path = "group__alliance"
    list_display = ["group", "seq", "kind", "sender", "created_at", "is_pinned", "deleted_at"]
    list_filter = ["kind", "is_pinned", ("deleted_at", admin.EmptyFieldListFilter), ("group__alliance", related_only)]
    search_fields = ["body", "sender__phone", "sender__display_name", "group__name"]
    date_hierarchy = "created_at"
    raw_id_fields = ["sender", "deleted_by"]
    list_select_related = ["group", "sender"]
    # Messages are evidence in disputes: the admin reads them; deletion goes through the app (tombstones).
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


# --- patrol geography: police draw zones, grids, routes and points here too, checked like the API's -------------


class PatrolBoundaryFormMixin:
    """The boundary checked as the API checks it (``config.geojson.patrol_boundary_clean``), in WGS-84."""

    def clean_boundary(self):
        try:
            return patrol_boundary_clean(self.cleaned_data.get("boundary"))
        except BoundaryError as exc:
            raise forms.ValidationError(str(exc))


class PatrolZoneAdminForm(PatrolBoundaryFormMixin, forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("focus_starts"), cleaned.get("focus_ends")
        if (starts is None) != (ends is None):
            raise forms.ValidationError(_("Give both ends of the focus hours, or neither."))
        return cleaned


class PatrolGridAdminForm(PatrolBoundaryFormMixin, forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        boundary = cleaned.get("boundary")
        zone = getattr(self.instance, "zone", None)  # the zone's form has put its cleaned boundary on it
        if boundary and zone is not None and zone.boundary and not grid_within_zone(boundary, zone.boundary):
            self.add_error("boundary", _("A grid must lie within its patrol zone's boundary."))
        return cleaned


class PatrolGridInline(ScopedTabularInline):
    model = PatrolGrid
    form = PatrolGridAdminForm
    alliance_path = "zone__alliance"
    police_may_add = True
    police_may_change = True
    extra = 0
    readonly_fields = ["created_at"]


@admin.register(PatrolZone)
class PatrolZoneAdmin(ScopedModelAdmin):
    form = PatrolZoneAdminForm
    police_may_add = True
    police_may_change = True
    list_display = ["name", "alliance", "risk_grade", "focus_starts", "focus_ends", "is_archived"]
    list_filter = ["risk_grade", "is_archived", ("alliance", related_only)]
    search_fields = ["name", "alliance__name"]
    autocomplete_fields = ["alliance"]
    readonly_fields = ["min_latitude", "max_latitude", "min_longitude", "max_longitude", "created_by", "created_at"]
    list_select_related = ["alliance"]
    inlines = [PatrolGridInline]

    def save_model(self, request, obj, form, change):
        zone_bounding_box_set(obj)
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class PatrolRouteAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        zone, alliance = cleaned.get("zone"), cleaned.get("alliance") or getattr(self.instance, "alliance", None)
        if zone is not None and alliance is not None and zone.alliance_id != alliance.pk:
            self.add_error("zone", _("Choose a zone of the route's alliance."))
        return cleaned


class CheckpointInline(ScopedTabularInline):
    model = Checkpoint
    alliance_path = "route__alliance"
    police_may_add = True
    police_may_change = True
    extra = 0
    ordering = ["position"]
    # A new printed code goes through the app (groups.services.patrol_zones.checkpoint_code_reissue).
    readonly_fields = ["qr_version", "created_at"]


@admin.register(PatrolRoute)
class PatrolRouteAdmin(ScopedModelAdmin):
    form = PatrolRouteAdminForm
    police_may_add = True
    police_may_change = True
    list_display = ["name", "alliance", "zone", "is_archived"]
    list_filter = ["is_archived", ("alliance", related_only)]
    search_fields = ["name", "alliance__name"]
    autocomplete_fields = ["alliance"]
    readonly_fields = ["created_at"]
    list_select_related = ["alliance", "zone"]
    inlines = [CheckpointInline]


class SupportPointAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind:
            try:
                cleaned["ring_metres"] = support_point_rings(cleaned.get("ring_metres") or None, kind)
            except ApplicationError as exc:
                self.add_error("ring_metres", exc.message)
        return cleaned


@admin.register(SupportPoint)
class SupportPointAdmin(ScopedModelAdmin):
    form = SupportPointAdminForm
    police_may_add = True
    police_may_change = True
    list_display = ["name", "alliance", "kind", "latitude", "longitude", "ring_metres"]
    list_filter = ["kind", ("alliance", related_only)]
    search_fields = ["name", "alliance__name"]
    autocomplete_fields = ["alliance"]
    readonly_fields = ["created_at"]
    list_select_related = ["alliance"]


# --- patrol teams and rosters -------------------------------------------------------------------------------------


class PatrolTeamMemberInline(ScopedTabularInline):
    model = PatrolTeamMember
    alliance_path = "team__alliance"
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at"]


@admin.register(PatrolTeam)
class PatrolTeamAdmin(ScopedModelAdmin):
    # Teams are made in the app (they get their contact group there); police rename and archive them here.
    police_may_change = True
    police_readonly_fields = ("alliance", "contact_group")
    list_display = ["name", "alliance", "kind", "is_archived", "created_at"]
    list_filter = ["kind", "is_archived", ("alliance", related_only)]
    search_fields = ["name", "alliance__name"]
    readonly_fields = ["contact_group", "created_at"]
    autocomplete_fields = ["alliance"]
    list_select_related = ["alliance"]
    inlines = [PatrolTeamMemberInline]


@admin.register(ShiftTemplate)
class ShiftTemplateAdmin(ScopedModelAdmin):
    alliance_path = "team__alliance"
    police_may_change = True
    police_readonly_fields = ("team", "rrule", "starts_on", "start_time", "duration_minutes", "slots")
    list_display = ["name", "team", "rrule", "start_time", "duration_minutes", "is_active"]
    list_filter = ["is_active", ("team", related_only)]
    search_fields = ["name", "team__name"]
    readonly_fields = ["created_by", "created_at"]
    raw_id_fields = ["team", "zone", "route"]
    list_select_related = ["team"]


class ShiftSignupInline(ScopedTabularInline):
    model = ShiftSignup
    alliance_path = "shift__alliance"
    extra = 0
    fields = ["user", "role", "status", "attendance", "checked_in_at", "checked_out_at", "verified_seconds"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shift)
class ShiftAdmin(ScopedModelAdmin):
    """Read-mostly: places change through the app (capacity, waitlist and overlaps are checked there)."""

    list_display = ["name", "team", "zone", "starts_at", "ends_at", "status"]
    list_filter = ["status", ("team", related_only), ("zone", related_only)]
    search_fields = ["name", "team__name", "zone__name"]
    date_hierarchy = "starts_at"
    list_select_related = ["team", "zone"]
    readonly_fields = [f.name for f in Shift._meta.fields]
    inlines = [ShiftSignupInline]

    def has_add_permission(self, request):
        return False


# --- what happened on duty: records, read by police, written only by the app ---------------------------------------


def _shift_label(shift) -> str:
    return f"{shift.name} {timezone.localtime(shift.starts_at):%Y-%m-%d %H:%M}" if shift else ""


class DutyRecordAdmin(ScopedModelAdmin):
    """Check-ins, scans and log entries are the record of a patrol (statistics, disputes about who was there): the
    admin reads them and nobody edits or deletes them here. Rows go with their shift, or with the person's data."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PatrolAttempt)
class PatrolAttemptAdmin(DutyRecordAdmin):
    alliance_path = "shift__alliance"
    list_display = [
        "received_at",
        "user",
        "shift_label",
        "kind",
        "accepted",
        "refusal_code",
        "distance",
        "accuracy_metres",
        "mock_location",
        "offline",
    ]
    list_filter = ["kind", "accepted", "refusal_code", "mock_location", "offline"]
    search_fields = ["user__phone", "user__display_name"]
    date_hierarchy = "received_at"
    list_select_related = ["user", "shift"]

    @admin.display(description=_("shift"), ordering="shift__starts_at")
    def shift_label(self, attempt):
        return _shift_label(attempt.shift)

    @admin.display(description=_("distance"))
    def distance(self, attempt):
        """The figures of a refusal for being too far: from the zone at check-in, from the checkpoint at a scan."""
        detail = attempt.refusal_detail or {}
        if "metres_outside" in detail:
            return _("%(metres)s m outside the zone") % {"metres": detail["metres_outside"]}
        if "metres_away" in detail:
            return _("%(metres)s m from the checkpoint (radius %(radius)s m)") % {
                "metres": detail["metres_away"],
                "radius": detail.get("radius_metres", "?"),
            }
        return self.get_empty_value_display()


@admin.register(CheckpointScan)
class CheckpointScanAdmin(DutyRecordAdmin):
    alliance_path = "signup__shift__alliance"
    list_display = ["scanned_at", "person", "shift_label", "checkpoint", "round", "latitude", "longitude"]
    list_filter = [("checkpoint__route", related_only)]
    search_fields = ["signup__user__phone", "signup__user__display_name", "checkpoint__name"]
    date_hierarchy = "scanned_at"
    list_select_related = ["signup__user", "signup__shift", "checkpoint"]

    @admin.display(description=_("person"), ordering="signup__user")
    def person(self, scan):
        return scan.signup.user

    @admin.display(description=_("shift"), ordering="signup__shift__starts_at")
    def shift_label(self, scan):
        return _shift_label(scan.signup.shift)


@admin.register(PatrolLogEntry)
class PatrolLogEntryAdmin(DutyRecordAdmin):
    alliance_path = "signup__shift__alliance"
    list_display = ["created_at", "person", "shift_label", "kind", "note", "flyers", "people_reached", "incident"]
    list_filter = ["kind", ("incident_id", admin.EmptyFieldListFilter)]
    search_fields = ["signup__user__phone", "signup__user__display_name", "note"]
    date_hierarchy = "created_at"
    list_select_related = ["signup__user", "signup__shift"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "incident"]

    @admin.display(description=_("person"), ordering="signup__user")
    def person(self, entry):
        return entry.signup.user

    @admin.display(description=_("shift"), ordering="signup__shift__starts_at")
    def shift_label(self, entry):
        return _shift_label(entry.signup.shift)

    @admin.display(description=_("incident report"), ordering="incident_id")
    def incident(self, entry):
        """A link to the incident the hidden danger became. By the admin URL's name, not an import: the incident
        lives in ``reports``, above ``groups``; its own admin page is scoped to the viewer's jurisdiction."""
        if entry.incident_id is None:
            return self.get_empty_value_display()
        try:
            url = reverse("admin:reports_incident_change", args=[entry.incident_id])
        except NoReverseMatch:
            return f"#{entry.incident_id}"
        return format_html('<a href="{}">#{}</a>', url, entry.incident_id)
