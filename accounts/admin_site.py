"""The admin site: police admins run their jurisdiction in it, superusers everything.

Who gets in is :func:`accounts.permissions.can_use_admin_site`; what each page shows a police admin is scoped to
their jurisdiction by ``alliance.admin_scoping.JurisdictionScopedAdmin``.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.permissions import can_use_admin_site


class PinganAdminAuthenticationForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user):
        # Django's form asks for is_staff; here the same rule as every admin page decides.
        if not can_use_admin_site(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class PinganAdminSite(admin.AdminSite):
    site_header = _("Ping'an Alliance administration")
    site_title = _("Ping'an Alliance")
    index_title = _("Administration")
    login_form = PinganAdminAuthenticationForm

    def has_permission(self, request):
        return can_use_admin_site(request.user)
