"""Contact groups, their members and lines in the admin site, scoped like every admin page
(``alliance.admin_scoping``): a police admin sees the groups of their jurisdiction's alliances only."""

from django.contrib import admin

from alliance.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from groups.models import (
    ContactGroup,
    GroupMembership,
    Message,
    PatrolTeam,
    PatrolTeamMember,
    Shift,
    ShiftSignup,
    ShiftTemplate,
)

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
