from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import DeviceRegistration, IdempotencyRecord, RoleGrant, User
from accounts.permissions import can_use_admin_site
from accounts.selectors import devices_for_police_admin, users_for_police_admin


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    fk_name = "user"
    extra = 0
    fields = ["role", "granted_by", "granted_at", "reason", "revoked_by", "revoked_at"]
    readonly_fields = ["granted_by", "granted_at", "revoked_by", "revoked_at"]
    can_delete = False  # grants are the audit trail


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Superusers manage accounts. Police admins look up the people of their jurisdiction, read-only (roles are
    granted in the app, audited), so that the alliance and store forms can offer them as choices."""

    scoped_to_jurisdiction = True  # alliance.admin_scoping offers this admin's queryset as the user choices
    ordering = ["-date_joined"]
    list_display = ["phone", "display_name", "is_real_name_verified", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_real_name_verified", "is_active", "is_staff", "role_grants__role"]
    search_fields = ["phone", "display_name", "email"]
    readonly_fields = ["date_joined", "last_login", "deleted_at", "real_name_verified_by", "real_name_verified_at"]
    inlines = [RoleGrantInline]
    fieldsets = (
        (None, {"fields": ("phone", "phone_verified", "password")}),
        (_("Profile"), {"fields": ("display_name", "email")}),
        (_("Verification"), {"fields": ("is_real_name_verified", "real_name_verified_by", "real_name_verified_at")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("date_joined", "last_login", "deleted_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("phone", "password1", "password2")}),)

    def get_queryset(self, request):
        if request.user.is_superuser:
            return super().get_queryset(request)
        if not can_use_admin_site(request.user):
            return User.objects.none()
        return users_for_police_admin(admin=request.user).order_by(*self.ordering)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return tuple(fieldset for fieldset in fieldsets if fieldset[0] != _("Access"))

    def get_list_filter(self, request):
        return self.list_filter if request.user.is_superuser else ["is_real_name_verified", "role_grants__role"]

    def has_module_permission(self, request):
        return request.user.is_superuser or can_use_admin_site(request.user)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or can_use_admin_site(request.user)


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "granted_by", "granted_at", "revoked_at"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__phone", "user__display_name", "reason"]
    autocomplete_fields = ["user", "granted_by", "revoked_by"]
    date_hierarchy = "granted_at"

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["scope", "key", "method", "path", "status_code", "created_at"]
    search_fields = ["scope", "key", "path"]
    list_filter = ["method", "status_code"]
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]


@admin.register(DeviceRegistration)
class DeviceRegistrationAdmin(admin.ModelAdmin):
    """Which phones get push notifications. Police admins see those of their jurisdiction's people, read-only (a
    person registers and removes their own devices in the app); superusers may delete one."""

    list_display = ["user", "platform", "provider", "short_token", "registered_at"]
    list_filter = ["platform", "provider"]
    search_fields = ["user__phone", "user__display_name", "token"]
    list_select_related = ["user"]
    readonly_fields = ["user", "platform", "provider", "token", "registered_at"]
    ordering = ["-registered_at", "-id"]

    @admin.display(description=_("token"))
    def short_token(self, device: DeviceRegistration) -> str:
        return device.token[:12] + "…" if len(device.token) > 12 else device.token

    def get_queryset(self, request):
        if request.user.is_superuser:
            return super().get_queryset(request)
        if not can_use_admin_site(request.user):
            return DeviceRegistration.objects.none()
        return devices_for_police_admin(admin=request.user).select_related("user").order_by(*self.ordering)

    def has_module_permission(self, request):
        return request.user.is_superuser or can_use_admin_site(request.user)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or can_use_admin_site(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
