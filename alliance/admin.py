"""Police units, alliances, members, invites, join requests, stores and rewards in the admin site.

A police admin sees and edits their own jurisdiction only (``alliance.admin_scoping``); superusers see all.
Structure that has rules of its own (founding an alliance with its contact groups, members joining, postings of
officers) is done in the app, whose services check those rules; here police correct and look things up.
"""

from django import forms
from django.contrib import admin, messages
from django.core.validators import MaxValueValidator
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from alliance.models import (
    Alliance,
    AllianceInvite,
    AllianceJoinRequest,
    AllianceMembership,
    PointsAccount,
    PointsEntry,
    PointsRule,
    Redemption,
    Reward,
    Station,
    StationStaff,
    Store,
    StoreStaff,
)
from alliance.permissions import can_go_on_duty, can_go_on_duty_by_switch
from alliance.selectors.alliances import alliance_access_for
from alliance.services.alliances import office_fits_station
from alliance.services.members import alliance_duty_set
from alliance.services.points_corrections import POINTS_RULE_MAX_AMOUNT, POINTS_RULE_MAX_DAILY_CAP
from alliance.services.rewards import REWARD_FIELDS, REWARD_FOR_NOTHING, redemption_approve, redemption_reject
from config.errors import ApplicationError

related_only = admin.RelatedOnlyFieldListFilter  # a filter's choices come from the rows listed: nobody else's


class StationStaffInline(ScopedTabularInline):
    model = StationStaff
    fk_name = "station"
    station_path = "station"
    extra = 0
    autocomplete_fields = ["user", "granted_by"]
    readonly_fields = ["created_at"]


@admin.register(Station)
class StationAdmin(ScopedModelAdmin):
    station_path = "pk"
    police_may_change = True
    # Which tier a unit is and where it hangs decide jurisdictions: the superuser's to change.
    police_readonly_fields = ("kind", "parent")
    list_display = ["name", "kind", "parent", "city", "district", "phone"]
    list_filter = ["kind", "city"]
    search_fields = ["name", "city", "district", "address"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]
    inlines = [StationStaffInline]


@admin.register(StationStaff)
class StationStaffAdmin(ScopedModelAdmin):
    station_path = "station"
    list_display = ["user", "station", "granted_by", "created_at"]
    list_filter = ["station__kind", ("station", related_only)]
    search_fields = ["user__phone", "user__display_name", "station__name"]
    autocomplete_fields = ["user", "station", "granted_by"]
    readonly_fields = ["created_at"]
    list_select_related = ["user", "station", "granted_by"]


class MembershipInline(ScopedTabularInline):
    model = AllianceMembership
    fk_name = "alliance"
    extra = 0
    autocomplete_fields = ["user", "added_by"]
    # Duty is set on the membership's own page, which applies the app's rule (AllianceMembershipAdmin).
    readonly_fields = ["on_duty", "on_duty_since"]


class AllianceAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        office = cleaned.get("office")
        # (a police admin's form has no station field: it is read-only for them, so check against the stored one)
        station = cleaned.get("station") or (self.instance.station if self.instance.station_id else None)
        if office is not None and station is not None and not office_fits_station(office=office, station=station):
            self.add_error(
                "office", _("Choose a community police office or workstation of the alliance's police station.")
            )
        return cleaned


@admin.register(Alliance)
class AllianceAdmin(ScopedModelAdmin):
    form = AllianceAdminForm
    alliance_path = ""
    police_may_change = True
    # The station is fixed when the alliance is founded (alliance_create checks it is a police station): level 3 of
    # the escalation ladder depends on it. The office may change, within the station (AllianceAdminForm).
    police_readonly_fields = ("slug", "station", "created_by", "created_at")
    ordering = ["name"]  # the member count groups the rows, which drops the model's own ordering
    list_display = ["name", "station", "office", "status", "member_count", "created_at"]
    list_filter = ["status", ("station", related_only)]
    search_fields = ["name", "slug", "area_description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["station", "office", "created_by"]
    list_select_related = ["station", "office"]
    inlines = [MembershipInline]

    def get_prepopulated_fields(self, request, obj=None):
        return {} if "slug" in self.get_readonly_fields(request, obj) else super().get_prepopulated_fields(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members=Count("memberships", distinct=True))

    @admin.display(description=_("members"), ordering="members")
    def member_count(self, alliance: Alliance) -> int:
        return alliance.members


class AllianceMembershipAdminForm(forms.ModelForm):
    def clean_on_duty(self):
        on_duty = self.cleaned_data.get("on_duty")
        member = self.instance
        if on_duty and not member.on_duty and member.pk and not can_go_on_duty(member.user, member):
            raise forms.ValidationError(_("Only police, mall managers and volunteers go on duty."))
        if on_duty and not member.on_duty and member.pk and not can_go_on_duty_by_switch(member.user, member):
            raise forms.ValidationError(_("Volunteers go on duty by checking in to their patrol shift."))
        return on_duty


@admin.register(AllianceMembership)
class AllianceMembershipAdmin(ScopedModelAdmin):
    # Roles and removals go through the app, which keeps an admin in every alliance and checks platform roles.
    police_may_change = True
    police_readonly_fields = ("user", "alliance", "role", "added_by", "joined_at")
    list_display = ["user", "alliance", "role", "on_duty", "joined_at"]
    list_filter = ["role", "on_duty", ("alliance", related_only)]
    search_fields = ["user__phone", "user__display_name", "alliance__name"]
    autocomplete_fields = ["user", "alliance", "added_by"]
    readonly_fields = ["on_duty_since"]
    list_select_related = ["user", "alliance"]

    form = AllianceMembershipAdminForm

    def save_model(self, request, obj, form, change):
        if change and "on_duty" in form.changed_data:
            # The app's own step: who may be dispatched (checked by the form too) and since when they are on duty.
            access = alliance_access_for(user=obj.user, alliance=obj.alliance)
            obj.on_duty_since = alliance_duty_set(user=obj.user, access=access, on_duty=obj.on_duty).on_duty_since
        super().save_model(request, obj, form, change)


@admin.register(AllianceInvite)
class AllianceInviteAdmin(ScopedModelAdmin):
    list_display = ["code", "alliance", "role", "auto_approve", "use_count", "max_uses", "expires_at", "is_revoked"]
    list_filter = ["auto_approve", "role", ("alliance", related_only)]
    search_fields = ["code", "alliance__name"]
    autocomplete_fields = ["alliance", "created_by", "revoked_by"]
    readonly_fields = ["code", "use_count", "created_at", "created_by", "revoked_at", "revoked_by"]
    list_select_related = ["alliance"]

    @admin.display(boolean=True, description=_("revoked"))
    def is_revoked(self, invite: AllianceInvite) -> bool:
        return invite.revoked_at is not None


@admin.register(AllianceJoinRequest)
class AllianceJoinRequestAdmin(ScopedModelAdmin):
    list_display = ["user", "alliance", "role", "status", "created_at", "decided_by", "decided_at"]
    list_filter = ["status", "role", ("alliance", related_only)]
    search_fields = ["user__phone", "user__display_name", "alliance__name"]
    autocomplete_fields = ["alliance", "user", "invite", "decided_by"]
    readonly_fields = ["created_at", "decided_by", "decided_at"]
    list_select_related = ["user", "alliance", "decided_by"]


class StoreStaffInline(ScopedTabularInline):
    model = StoreStaff
    fk_name = "store"
    alliance_path = "store__alliance"
    extra = 0
    autocomplete_fields = ["user", "added_by"]
    readonly_fields = ["created_at"]


@admin.register(Store)
class StoreAdmin(ScopedModelAdmin):
    police_may_change = True
    # A store changes hands or alliances through the app, which checks membership and the merchant role.
    police_readonly_fields = ("alliance", "owner")
    list_display = ["name", "alliance", "category", "owner", "is_verified", "verified_at"]
    list_filter = ["category", "is_verified", ("alliance", related_only)]
    search_fields = ["name", "address", "business_licence_number", "owner__phone"]
    autocomplete_fields = ["alliance", "owner"]
    # Who verified a store and when is the audit of the verification: set from the checkbox, never typed.
    readonly_fields = ["verified_by", "verified_at", "created_at"]
    list_select_related = ["alliance", "owner"]
    inlines = [StoreStaffInline]

    def save_model(self, request, obj, form, change):
        if "is_verified" in form.changed_data:
            obj.verified_by = request.user if obj.is_verified else None
            obj.verified_at = timezone.now() if obj.is_verified else None
        super().save_model(request, obj, form, change)


@admin.register(StoreStaff)
class StoreStaffAdmin(ScopedModelAdmin):
    alliance_path = "store__alliance"
    list_display = ["user", "store", "added_by", "created_at"]
    list_filter = [("store__alliance", related_only)]
    search_fields = ["user__phone", "user__display_name", "store__name"]
    autocomplete_fields = ["store", "user", "added_by"]
    readonly_fields = ["created_at"]
    list_select_related = ["user", "store", "added_by"]


# --- rewards ------------------------------------------------------------------------------------------------------


class RewardAdminForm(forms.ModelForm):
    """Requests take units from the stock while the page is open; the stock as the page showed it comes back with
    the form, so a figure left alone is not written over them, and a figure changed over them is refused."""

    stock_when_opened = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stock_when_opened"].initial = self.instance.stock

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_active") and cleaned.get("price") is not None and cleaned["price"] < 1:
            self.add_error("price", REWARD_FOR_NOTHING)
        opened, now = cleaned.get("stock_when_opened"), self.instance.stock
        if self.instance.pk and "stock" in cleaned and cleaned["stock"] != opened and opened != now:
            self.add_error(
                "stock", _("Requests changed the stock while you edited it: now %(stock)s.") % {"stock": now}
            )
        return cleaned

    def stock_left_alone(self) -> bool:
        return self.cleaned_data.get("stock") == self.cleaned_data.get("stock_when_opened")


@admin.register(Reward)
class RewardAdmin(ScopedModelAdmin):
    form = RewardAdminForm
    police_may_add = True
    police_may_change = True
    # Moving a reward to another alliance would carry its requests and their held points along: never.
    police_readonly_fields = ("alliance",)
    list_display = ["name", "alliance", "kind", "price", "stock", "per_person_limit", "is_active"]
    list_filter = ["kind", "is_active", ("alliance", related_only)]
    search_fields = ["name", "alliance__name"]
    autocomplete_fields = ["alliance"]
    readonly_fields = ["created_by", "created_at"]
    list_select_related = ["alliance"]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # Police choose the alliance of a new reward (within their jurisdiction), then it stays.
        return [name for name in readonly if name != "alliance"] if obj is None else readonly

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            obj.save()
            return
        # Only the fields changed in the form, and the stock only when the admin typed a new figure: one left alone
        # is not written back over the units that requests reserved since the page was opened.
        changed = [name for name in form.changed_data if name in REWARD_FIELDS]
        if form.stock_left_alone() and "stock" in changed:
            changed.remove("stock")
        if changed:
            obj.save(update_fields=changed)


def _decide(modeladmin, request, queryset, decide, done_message) -> None:
    done = 0
    for redemption in queryset.select_related("alliance", "reward"):
        access = alliance_access_for(user=request.user, alliance=redemption.alliance)
        try:
            decide(actor=request.user, access=access, redemption=redemption)
        except ApplicationError as refusal:
            modeladmin.message_user(request, f"{redemption}: {refusal.message}", level=messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, level=messages.SUCCESS)


@admin.action(description=_("Approve the selected requests (their points are spent)"))
def approve_redemptions(modeladmin, request, queryset):
    _decide(modeladmin, request, queryset, redemption_approve, _("%(count)s requests approved."))


@admin.action(description=_("Reject the selected requests (points and stock return)"))
def reject_redemptions(modeladmin, request, queryset):
    _decide(modeladmin, request, queryset, redemption_reject, _("%(count)s requests rejected."))


@admin.register(Redemption)
class RedemptionAdmin(ScopedModelAdmin):
    # Read-only: every change of a request moves points or stock, so it goes through the services (the actions).
    list_display = ["reward", "user", "alliance", "points", "status", "requested_at", "expires_at", "decided_by"]
    list_filter = ["status", ("alliance", related_only)]
    search_fields = ["reward__name", "user__phone", "user__display_name", "alliance__name"]
    list_select_related = ["reward", "user", "alliance", "decided_by"]
    actions = [approve_redemptions, reject_redemptions]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Redemption._meta.concrete_fields]

    def has_add_permission(self, request, *args):
        return False  # a request is made by the member, with its points held: in the app

    def has_delete_permission(self, request, obj=None):
        return False  # its ledger entry names it; undecided ones are rejected instead


# The Safe Store ranking's admins live beside these, in a module of their own.
import alliance.admin_safe_stores  # noqa: E402, F401

# --- the points ledger ------------------------------------------------------------------------------------------
# The ledger is append-only for everyone, superusers included: an entry is corrected by another entry, written by
# the app (a police admin's correction with its reason), and a balance only ever moves with an entry.


class _ReadOnlyLedgerAdmin(ScopedModelAdmin):
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PointsEntry)
class PointsEntryAdmin(_ReadOnlyLedgerAdmin):
    list_display = ["created_at", "user", "alliance", "amount", "reason", "earned_on", "unique_key", "created_by"]
    list_filter = ["reason", ("alliance", related_only)]
    search_fields = ["user__phone", "user__display_name", "unique_key"]
    list_select_related = ["user", "alliance", "created_by"]
    date_hierarchy = "earned_on"


@admin.register(PointsAccount)
class PointsAccountAdmin(_ReadOnlyLedgerAdmin):
    list_display = ["user", "alliance", "balance", "held", "updated_at"]
    list_filter = [("alliance", related_only)]
    search_fields = ["user__phone", "user__display_name"]
    list_select_related = ["user", "alliance"]


class PointsRuleAdminForm(forms.ModelForm):
    """The API's bounds: the model's fields would take two billion points an hour."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, highest in (("amount", POINTS_RULE_MAX_AMOUNT), ("daily_cap", POINTS_RULE_MAX_DAILY_CAP)):
            if name in self.fields:
                self.fields[name].validators.append(MaxValueValidator(highest))
                self.fields[name].widget.attrs["max"] = highest


@admin.register(PointsRule)
class PointsRuleAdmin(ScopedModelAdmin):
    form = PointsRuleAdminForm
    police_may_add = True
    police_may_change = True
    list_display = ["alliance", "reason", "amount", "daily_cap", "updated_by", "updated_at"]
    list_filter = ["reason", ("alliance", related_only)]
    autocomplete_fields = ["alliance"]
    readonly_fields = ["updated_by", "updated_at"]
    list_select_related = ["alliance", "updated_by"]

    def save_model(self, request, obj, form, change):
        obj.updated_by, obj.updated_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)


# Alerts, safety tips and their schedules (issue 13), in a module of their own.
import alliance.admin_alerts  # noqa: E402, F401
