"""Contact groups, their members and lines in the admin site, scoped like every admin page
(``alliance.admin_scoping``): a police admin sees the groups of their jurisdiction's alliances only."""

from django.contrib import admin

from alliance.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from groups.models import ContactGroup, GroupMembership, Message

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
