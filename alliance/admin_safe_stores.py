"""The Safe Store ranking in the admin site (registered from ``alliance/admin.py``): inspections (police add them,
through the service, so each scores the store), weights (police set them), and the final rankings with their
entries: a ranking is written by the job only; police publish it and hold a store back through the services.
"""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from alliance.models import SafeStoreRanking, SafeStoreRankingEntry, SafeStoreWeight, StoreInspection
from alliance.services.safe_store_awards import (
    safe_store_entry_hold_back,
    safe_store_entry_release,
    safe_store_ranking_publish,
)
from alliance.services.safe_store_rankings import SAFE_STORE_WEIGHT_LIMIT
from alliance.services.store_inspections import INSPECTED_IN_THE_FUTURE, store_inspection_create
from config.errors import ApplicationError
from config.filters import EARLIEST
from config.serializer_fields import BoundedDateTimeField

related_only = admin.RelatedOnlyFieldListFilter


class StoreInspectionAdminForm(forms.ModelForm):
    class Meta:
        model = StoreInspection
        fields = ["store", "kind", "result", "note", "inspected_at"]

    def clean_inspected_at(self):
        inspected_at = self.cleaned_data["inspected_at"]
        if inspected_at and inspected_at > timezone.now():
            raise forms.ValidationError(INSPECTED_IN_THE_FUTURE)
        # Year 1 local is 1 BC in UTC: stored, it broke every read of the store's inspections.
        if inspected_at and timezone.localtime(inspected_at).replace(tzinfo=None) < EARLIEST:
            raise forms.ValidationError(BoundedDateTimeField.default_error_messages["out_of_range"])
        return inspected_at


@admin.register(StoreInspection)
class StoreInspectionAdmin(ScopedModelAdmin):
    """Police add inspections; a recorded one is not edited (its score is counted), a wrong one is answered by
    another inspection."""

    form = StoreInspectionAdminForm
    alliance_path = "store__alliance"
    police_may_add = True
    list_display = ["store", "kind", "result", "inspected_at", "recorded_by"]
    list_filter = ["kind", "result", ("store__alliance", related_only)]
    search_fields = ["store__name", "note"]
    autocomplete_fields = ["store"]
    readonly_fields = ["recorded_by"]
    list_select_related = ["store", "recorded_by"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # The app's way: the inspection and its scored event together. The admin's object takes the saved row.
        saved = store_inspection_create(
            store=obj.store,
            recorded_by=request.user,
            kind=obj.kind,
            result=obj.result,
            note=obj.note,
            inspected_at=obj.inspected_at,
        )
        obj.pk, obj.recorded_by = saved.pk, request.user
        obj._state.adding = False


class SafeStoreWeightAdminForm(forms.ModelForm):
    class Meta:
        model = SafeStoreWeight
        fields = ["alliance", "part", "weight"]

    def clean_weight(self):
        weight = self.cleaned_data["weight"]
        if weight is not None and not -SAFE_STORE_WEIGHT_LIMIT <= weight <= SAFE_STORE_WEIGHT_LIMIT:
            raise forms.ValidationError(_("Enter a weight from %(low)s to %(high)s.") % {"low": -100, "high": 100})
        return weight


@admin.register(SafeStoreWeight)
class SafeStoreWeightAdmin(ScopedModelAdmin):
    form = SafeStoreWeightAdminForm
    police_may_add = True
    police_may_change = True
    police_readonly_fields = ("alliance", "part")
    list_display = ["alliance", "part", "weight", "updated_by", "updated_at"]
    list_filter = ["part", ("alliance", related_only)]
    autocomplete_fields = ["alliance"]
    readonly_fields = ["updated_by", "updated_at"]
    list_select_related = ["alliance", "updated_by"]

    def get_readonly_fields(self, request, obj=None):
        # Police choose the alliance and part of a new weight; once there, only its value changes.
        readonly = super().get_readonly_fields(request, obj)
        return readonly if obj is not None else [name for name in readonly if name not in ("alliance", "part")]

    def save_model(self, request, obj, form, change):
        obj.updated_by, obj.updated_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)


class SafeStoreRankingEntryInline(ScopedTabularInline):
    model = SafeStoreRankingEntry
    alliance_path = "ranking__alliance"
    fields = ["rank", "store", "score", "security_score", "contribution_score", "held_back", "held_back_reason"]
    readonly_fields = fields
    ordering = ["rank", "store_id"]
    extra = 0
    can_delete = False
    show_change_link = True


# Publishing and holding back go through the services (alliance.services.safe_store_awards), which check the
# police admin's jurisdiction and refuse a hold-back once published.


@admin.action(description=_("Publish the selected rankings (badges, fee reductions, winners told)"))
def safe_store_rankings_publish(modeladmin, request, queryset):
    for ranking in queryset.select_related("alliance"):
        try:
            safe_store_ranking_publish(ranking=ranking, by=request.user)
        except ApplicationError as refused:
            modeladmin.message_user(request, f"{ranking}: {refused.message}", level=messages.ERROR)
        else:
            modeladmin.message_user(request, _("%(ranking)s is published.") % {"ranking": ranking})


@admin.register(SafeStoreRanking)
class SafeStoreRankingAdmin(ScopedModelAdmin):
    """The job computes a ranking once per alliance and half-year; police publish it (an action) and hold stores
    back on the entry's page."""

    list_display = ["alliance", "period_start", "period_end", "status", "computed_at", "published_at", "published_by"]
    list_filter = ["status", "period_start", ("alliance", related_only)]
    readonly_fields = [
        "alliance",
        "period_start",
        "period_end",
        "status",
        "weights",
        "computed_at",
        "published_at",
        "published_by",
    ]
    list_select_related = ["alliance", "published_by"]
    inlines = [SafeStoreRankingEntryInline]
    actions = [safe_store_rankings_publish]


class SafeStoreEntryAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("held_back") and not (cleaned.get("held_back_reason") or "").strip():
            self.add_error("held_back_reason", _("Say why the store is held back."))
        if self.changed_data and self.instance.ranking.status == SafeStoreRanking.Status.PUBLISHED:
            raise forms.ValidationError(_("The ranking is published: its Safe Stores are final."))
        return cleaned


@admin.register(SafeStoreRankingEntry)
class SafeStoreRankingEntryAdmin(ScopedModelAdmin):
    """Police hold a store back here (tick "held back" and say why) or release it, before the ranking is
    published; the rest of an entry is the computation's."""

    alliance_path = "ranking__alliance"
    police_may_change = True
    form = SafeStoreEntryAdminForm
    fields = [
        "ranking",
        "store",
        "rank",
        "score",
        "security_score",
        "contribution_score",
        "parts",
        "held_back",
        "held_back_reason",
        "held_back_by",
        "held_back_at",
    ]
    readonly_fields = [
        "ranking",
        "store",
        "rank",
        "score",
        "security_score",
        "contribution_score",
        "parts",
        "held_back_by",
        "held_back_at",
    ]
    list_display = ["ranking", "rank", "store", "score", "security_score", "contribution_score", "held_back"]
    list_filter = ["held_back", ("ranking__alliance", related_only)]
    search_fields = ["store__name"]
    list_select_related = ["ranking__alliance", "store", "held_back_by"]
    ordering = ["-ranking__period_start", "rank", "store_id"]

    def has_add_permission(self, request):
        return False  # entries are the ranking computation's

    def save_model(self, request, obj, form, change):
        if not {"held_back", "held_back_reason"} & set(form.changed_data):
            return
        reason = form.cleaned_data.get("held_back_reason", "")
        if obj.held_back:
            if "held_back" not in form.changed_data:  # a new reason for a store already held back: start again
                safe_store_entry_release(entry=obj, by=request.user)
            safe_store_entry_hold_back(entry=obj, reason=reason, by=request.user)
        else:
            safe_store_entry_release(entry=obj, by=request.user)
