"""Dispute flags, incidents and escalation times in the admin site, scoped like every admin page
(``alliance.admin_scoping``): a police admin sees their jurisdiction's cases only.

A case's state, level and timeline move only through the app (acknowledge, escalate, accept, assign, ...), which
writes the timeline and tells the people following it; here police read the whole case and keep its notes.
"""

from django.contrib import admin
from django.utils import timezone

from alliance.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from reports.models import CaseEvent, CasePhoto, Dispute, DisputeResponder, EscalationPolicy, Incident, IncidentComment

related_only = admin.RelatedOnlyFieldListFilter


class CaseEventInline(ScopedTabularInline):
    model = CaseEvent
    alliance_paths = ("dispute__alliance", "incident__alliance")
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "data"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class DisputeResponderInline(ScopedTabularInline):
    model = DisputeResponder
    alliance_path = "dispute__alliance"
    extra = 0
    readonly_fields = ["responder", "acknowledged_at", "eta_minutes", "arrived_at"]
    can_delete = False


# Police keep a case's notes in the admin; everything else is the case's history, changed through the app.
_DISPUTE_NOTES = ("resolution_notes", "mediation_record", "parties")
_INCIDENT_NOTES = ("resolution_notes",)


@admin.register(Dispute)
class DisputeAdmin(ScopedModelAdmin):
    police_may_change = True
    police_readonly_fields = tuple(f.name for f in Dispute._meta.fields if f.name not in (*_DISPUTE_NOTES, "id"))
    list_display = [
        "id",
        "alliance",
        "category",
        "status",
        "level",
        "flagged_at",
        "acknowledged_at",
        "resolved_at",
        "outcome",
    ]
    list_filter = ["status", "category", "level", "outcome", ("alliance", related_only)]
    search_fields = ["note", "reporter__phone", "store__name", "resolution_notes"]
    date_hierarchy = "flagged_at"
    raw_id_fields = ["reporter", "store", "card_message", "source_message"]
    readonly_fields = ["flagged_at", "acknowledged_at", "arrived_at", "resolved_at", "escalate_at"]
    list_select_related = ["alliance"]
    inlines = [DisputeResponderInline, CaseEventInline]


@admin.register(Incident)
class IncidentAdmin(ScopedModelAdmin):
    police_may_change = True
    police_readonly_fields = tuple(f.name for f in Incident._meta.fields if f.name not in (*_INCIDENT_NOTES, "id"))
    list_display = ["id", "alliance", "category", "status", "is_anonymous", "created_at", "assignee", "satisfaction"]
    list_filter = ["status", "category", "is_anonymous", ("alliance", related_only)]
    search_fields = ["description", "reporter__phone", "rejection_reason"]
    date_hierarchy = "created_at"
    raw_id_fields = ["reporter", "assignee", "assigned_team", "merged_into", "source_message", "card_message"]
    readonly_fields = ["created_at", "accepted_at", "resolved_at", "closed_at"]
    list_select_related = ["alliance", "assignee"]
    inlines = [CaseEventInline]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(ScopedModelAdmin):
    police_may_add = True  # an alliance nobody has set times for has no row yet
    police_may_change = True
    list_display = ["alliance", "acknowledge_seconds", "resolve_seconds", "updated_by", "updated_at"]
    list_filter = [("alliance__station", related_only)]
    search_fields = ["alliance__name"]
    autocomplete_fields = ["alliance"]
    # Who set the times and when is their audit: filled in on save, never typed.
    readonly_fields = ["updated_by", "updated_at"]
    list_select_related = ["alliance", "updated_by"]

    def get_readonly_fields(self, request, obj=None):
        # Once a policy exists it stays with its alliance; a new one picks its alliance.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly + ["alliance"] if obj is not None else readonly

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(IncidentComment)
class IncidentCommentAdmin(ScopedModelAdmin):
    alliance_path = "incident__alliance"
    list_display = ["incident", "author", "created_at"]
    search_fields = ["body"]
    raw_id_fields = ["incident", "author"]
    readonly_fields = ["created_at"]
    list_select_related = ["incident", "author"]


@admin.register(CasePhoto)
class CasePhotoAdmin(ScopedModelAdmin):
    alliance_paths = ("dispute__alliance", "incident__alliance")
    list_display = ["id", "dispute", "incident", "uploaded_by", "created_at"]
    raw_id_fields = ["dispute", "incident", "uploaded_by"]
    readonly_fields = ["created_at"]
    list_select_related = ["dispute", "incident", "uploaded_by"]
