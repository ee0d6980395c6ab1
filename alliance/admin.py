from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from alliance.models import (
    Alliance,
    AllianceInvite,
    AllianceJoinRequest,
    AllianceMembership,
    Station,
    StationStaff,
    Store,
    StoreStaff,
)


class StationStaffInline(admin.TabularInline):
    model = StationStaff
    fk_name = "station"
    extra = 0
    autocomplete_fields = ["user", "granted_by"]


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "city", "district", "phone"]
    list_filter = ["kind", "city"]
    search_fields = ["name", "city", "district", "address"]
    autocomplete_fields = ["parent"]
    inlines = [StationStaffInline]


@admin.register(StationStaff)
class StationStaffAdmin(admin.ModelAdmin):
    list_display = ["user", "station", "granted_by", "created_at"]
    list_filter = ["station__kind", "station__city"]
    search_fields = ["user__phone", "user__display_name", "station__name"]
    autocomplete_fields = ["user", "station", "granted_by"]
    list_select_related = ["user", "station", "granted_by"]


class MembershipInline(admin.TabularInline):
    model = AllianceMembership
    fk_name = "alliance"
    extra = 0
    autocomplete_fields = ["user", "added_by"]
    readonly_fields = ["on_duty_since"]


@admin.register(Alliance)
class AllianceAdmin(admin.ModelAdmin):
    list_display = ["name", "station", "office", "status", "created_at"]
    list_filter = ["status", "station__city"]
    search_fields = ["name", "slug", "area_description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["station", "office", "created_by"]
    list_select_related = ["station", "office"]
    inlines = [MembershipInline]


@admin.register(AllianceMembership)
class AllianceMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "alliance", "role", "on_duty", "joined_at"]
    list_filter = ["role", "on_duty", "alliance"]
    search_fields = ["user__phone", "user__display_name", "alliance__name"]
    autocomplete_fields = ["user", "alliance", "added_by"]
    list_select_related = ["user", "alliance"]


@admin.register(AllianceInvite)
class AllianceInviteAdmin(admin.ModelAdmin):
    list_display = ["code", "alliance", "role", "auto_approve", "use_count", "max_uses", "expires_at", "is_revoked"]
    list_filter = ["auto_approve", "role", "alliance"]
    search_fields = ["code", "alliance__name"]
    autocomplete_fields = ["alliance", "created_by", "revoked_by"]
    readonly_fields = ["code", "use_count", "created_at"]
    list_select_related = ["alliance"]

    @admin.display(boolean=True, description=_("revoked"))
    def is_revoked(self, invite: AllianceInvite) -> bool:
        return invite.revoked_at is not None


@admin.register(AllianceJoinRequest)
class AllianceJoinRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "alliance", "role", "status", "created_at", "decided_by", "decided_at"]
    list_filter = ["status", "role", "alliance"]
    search_fields = ["user__phone", "user__display_name", "alliance__name"]
    autocomplete_fields = ["alliance", "user", "invite", "decided_by"]
    list_select_related = ["user", "alliance", "decided_by"]


class StoreStaffInline(admin.TabularInline):
    model = StoreStaff
    fk_name = "store"
    extra = 0
    autocomplete_fields = ["user", "added_by"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "alliance", "category", "owner", "is_verified", "verified_at"]
    list_filter = ["category", "is_verified", "alliance"]
    search_fields = ["name", "address", "business_licence_number", "owner__phone"]
    autocomplete_fields = ["alliance", "owner", "verified_by"]
    list_select_related = ["alliance", "owner"]
    inlines = [StoreStaffInline]


@admin.register(StoreStaff)
class StoreStaffAdmin(admin.ModelAdmin):
    list_display = ["user", "store", "added_by", "created_at"]
    list_filter = ["store__alliance"]
    search_fields = ["user__phone", "user__display_name", "store__name"]
    autocomplete_fields = ["store", "user", "added_by"]
    list_select_related = ["user", "store"]
