from django.contrib import admin

from reports.models import CaseEvent, CasePhoto, Dispute, DisputeResponder, EscalationPolicy, Incident, IncidentComment


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "data"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class DisputeResponderInline(admin.TabularInline):
    model = DisputeResponder
    extra = 0
    readonly_fields = ["responder", "acknowledged_at", "eta_minutes", "arrived_at"]
    can_delete = False


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
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
    list_filter = ["status", "category", "level", "outcome", "alliance"]
    search_fields = ["note", "reporter__phone", "store__name", "resolution_notes"]
    date_hierarchy = "flagged_at"
    raw_id_fields = ["reporter", "store", "card_message", "source_message"]
    readonly_fields = ["flagged_at", "acknowledged_at", "arrived_at", "resolved_at", "escalate_at"]
    inlines = [DisputeResponderInline, CaseEventInline]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["id", "alliance", "category", "status", "is_anonymous", "created_at", "assignee", "satisfaction"]
    list_filter = ["status", "category", "is_anonymous", "alliance"]
    search_fields = ["description", "reporter__phone", "rejection_reason"]
    date_hierarchy = "created_at"
    raw_id_fields = ["reporter", "assignee", "assigned_team", "merged_into", "source_message", "card_message"]
    inlines = [CaseEventInline]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["alliance", "acknowledge_seconds", "resolve_seconds"]
    autocomplete_fields = ["alliance"]


@admin.register(IncidentComment)
class IncidentCommentAdmin(admin.ModelAdmin):
    list_display = ["incident", "author", "created_at"]
    search_fields = ["body"]
    raw_id_fields = ["incident", "author"]


@admin.register(CasePhoto)
class CasePhotoAdmin(admin.ModelAdmin):
    list_display = ["id", "dispute", "incident", "uploaded_by", "created_at"]
    raw_id_fields = ["dispute", "incident", "uploaded_by"]
