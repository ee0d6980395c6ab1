"""How the admin site shows a police admin their jurisdiction and nothing else.

Every ModelAdmin and inline of the alliance, groups and reports apps takes :class:`JurisdictionScopedAdmin`, which
for anyone but a superuser (superusers see and do everything, as Django's admin always did):

- lists and opens only rows of the admin's jurisdiction (``alliance.selectors.alliances.jurisdiction_filter``): another
  jurisdiction's object by id is "not found", exactly like an id that does not exist;
- offers, and accepts, only choices of the jurisdiction in every foreign key (a store cannot be moved to another
  station's alliance): the choices are the related model's own admin queryset, so the rule lives in one place;
- lets police admins in by their role (``accounts.permissions.can_use_admin_site``), not Django model permissions;
  what they may change is declared per admin (``police_may_add``, ``police_may_change``,
  ``police_readonly_fields``); deleting is the superuser's: history is kept and removals go through the app.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.db.models import QuerySet

from accounts.permissions import can_use_admin_site
from alliance.selectors.alliances import jurisdiction_filter


def is_police_admin_view(request) -> bool:
    """A police admin (not a superuser) on the admin site: the pages are scoped to their jurisdiction."""
    return not request.user.is_superuser and can_use_admin_site(request.user)


def related_choices(admin_site, model, request) -> QuerySet:
    """The rows of ``model`` a police admin may pick: what that model's admin shows them. A model without an admin
    that scopes itself offers nothing (fail closed)."""
    try:
        related_admin = admin_site.get_model_admin(model)
    except NotRegistered:
        return model._default_manager.none()
    if not getattr(related_admin, "scoped_to_jurisdiction", False):
        return model._default_manager.none()
    return related_admin.get_queryset(request)


class JurisdictionScopedAdmin:
    """Mixin for ``admin.ModelAdmin`` and inlines. Set ``alliance_path`` (the way from the model to its alliance,
    "" for Alliance itself), or ``station_path`` for police units and postings; a model reached two ways (a case
    photo belongs to a dispute or to an incident) lists them all in ``alliance_paths``."""

    scoped_to_jurisdiction = True
    alliance_path: str | None = "alliance"
    alliance_paths: tuple[str, ...] = ()
    station_path: str | None = None
    police_may_add = False
    police_may_change = False
    police_readonly_fields: tuple[str, ...] | list[str] = ()

    def jurisdiction_q(self, user):
        if self.station_path is not None:
            return jurisdiction_filter(user=user, station_path=self.station_path)
        paths = self.alliance_paths or (self.alliance_path,)
        condition = jurisdiction_filter(user=user, alliance_path=paths[0])
        for path in paths[1:]:
            condition |= jurisdiction_filter(user=user, alliance_path=path)
        return condition

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        if not can_use_admin_site(request.user):
            return queryset.none()
        return queryset.filter(self.jurisdiction_q(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser and "queryset" not in kwargs:
            kwargs["queryset"] = related_choices(self.admin_site, db_field.remote_field.model, request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += [name for name in self.police_readonly_fields if name not in readonly]
        return readonly

    # Permissions: superusers keep Django's (all of them); police admins get what the admin class declares.

    def has_module_permission(self, request):
        if request.user.is_superuser:
            return super().has_module_permission(request)
        return is_police_admin_view(request)

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_view_permission(request, obj)
        return is_police_admin_view(request)

    def has_add_permission(self, request, *args):
        if request.user.is_superuser:
            return super().has_add_permission(request, *args)
        return self.police_may_add and is_police_admin_view(request)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)
        return self.police_may_change and is_police_admin_view(request)

    def has_delete_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_delete_permission(request, obj)
        return False


class ScopedModelAdmin(JurisdictionScopedAdmin, admin.ModelAdmin):
    pass


class ScopedTabularInline(JurisdictionScopedAdmin, admin.TabularInline):
    pass
