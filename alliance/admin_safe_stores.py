"""The Safe Store ranking in the admin site (registered from ``alliance/admin.py``): inspections (police add them,
through the service, so each scores the store), weights (police set them), and the final rankings with their
entries, read-only: a ranking is written by the job only. Publishing and holding back a store are actions that
arrive on :class:`SafeStoreRankingAdmin` (issue 12, the publishing side).
"""

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from alliance.models import SafeStoreRanking, SafeStoreRankingEntry, SafeStoreWeight, StoreInspection
from alliance.services.safe_store_rankings import SAFE_STORE_WEIGHT_LIMIT
from alliance.services.store_inspections import INSPECTED_IN_THE_FUTURE, store_inspection_create

related_only = admin.RelatedOnlyFieldListFilter


class StoreInspectionAdminForm(forms.ModelForm):
    class Meta:
        model = StoreInspection
        fields = ["store", "kind", "result", "note", "inspected_at"]

    def clean_inspected_at(self):
        inspected_at = self.cleaned_data["inspected_at"]
        if inspected_at and inspected_at > timezone.now():
            raise forms.ValidationError(INSPECTED_IN_THE_FUTURE)
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


@admin.register(SafeStoreRanking)
class SafeStoreRankingAdmin(ScopedModelAdmin):
    """Read-only: the job computes a ranking once per alliance and half-year."""

    list_display = ["alliance", "period_start", "period_end", "status", "computed_at", "published_at"]
    list_filter = ["status", "period_start", ("alliance", related_only)]
    readonly_fields = ["alliance", "period_start", "period_end", "status", "weights", "computed_at"]
    list_select_related = ["alliance"]
    inlines = [SafeStoreRankingEntryInline]
    # Issue 12's publishing side adds its actions here: publish the ranking, hold back a store with a reason.


@admin.register(SafeStoreRankingEntry)
class SafeStoreRankingEntryAdmin(ScopedModelAdmin):
    alliance_path = "ranking__alliance"
    list_display = ["ranking", "rank", "store", "score", "security_score", "contribution_score", "held_back"]
    list_filter = ["held_back", ("ranking__alliance", related_only)]
    search_fields = ["store__name"]
    readonly_fields = ["ranking", "store", "rank", "score", "security_score", "contribution_score", "parts"]
    list_select_related = ["ranking__alliance", "store"]
    ordering = ["-ranking__period_start", "rank", "store_id"]
