from django.contrib import admin

from alliance.models import Alliance, AllianceMembership, Station, Store


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "city", "district", "phone"]
    list_filter = ["kind", "city"]
    search_fields = ["name", "city", "district", "address"]


class MembershipInline(admin.TabularInline):
    model = AllianceMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Alliance)
class AllianceAdmin(admin.ModelAdmin):
    list_display = ["name", "station", "office", "status", "created_at"]
    list_filter = ["status", "station__city"]
    search_fields = ["name", "slug", "area_description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["station", "office"]
    inlines = [MembershipInline]


@admin.register(AllianceMembership)
class AllianceMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "alliance", "role", "joined_at"]
    list_filter = ["role", "alliance"]
    search_fields = ["user__phone", "user__display_name", "alliance__name"]
    autocomplete_fields = ["user", "alliance"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "alliance", "category", "owner", "is_verified"]
    list_filter = ["category", "is_verified", "alliance"]
    search_fields = ["name", "address", "business_licence_number", "owner__phone"]
    autocomplete_fields = ["alliance", "owner"]
