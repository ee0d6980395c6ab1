"""The admin site: police admins run their jurisdiction in it, superusers everything.

Who gets in is :func:`accounts.permissions.can_use_admin_site`; what each page shows a police admin is scoped to
their jurisdiction by ``alliance.admin_scoping.JurisdictionScopedAdmin``.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.adapter import phone_normalise
from accounts.error_codes import AccountErrorCode
from accounts.permissions import can_use_admin_site


class PinganAdminAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        """The password is checked by allauth's adapter, as the app's login checks it, not by Django's
        ``authenticate``: wrong passwords here count in the same buckets (per address, per number and address, per
        number) and a lockout refuses this login too, with allauth's message. Otherwise the admin site would be an
        unthrottled way to guess a police admin's password."""
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        try:
            phone = phone_normalise(username)
        except forms.ValidationError:
            raise self.get_invalid_login_error() from None
        # Raises the lockout's ValidationError ("too many failed login attempts") before looking at the password.
        self.user_cache = get_adapter(self.request).authenticate(self.request, phone=phone, password=password)
        if self.user_cache is None:
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def confirm_login_allowed(self, user):
        # Django's form asks for is_staff; here the same rule as every admin page decides.
        if not can_use_admin_site(user):
            raise ValidationError(
                self.error_messages[AccountErrorCode.INVALID_LOGIN],
                code=AccountErrorCode.INVALID_LOGIN,
                params={"username": self.username_field.verbose_name},
            )


class PinganAdminSite(admin.AdminSite):
    site_header = _("Ping'an Alliance administration")
    site_title = _("Ping'an Alliance")
    index_title = _("Administration")
    login_form = PinganAdminAuthenticationForm

    def has_permission(self, request):
        return can_use_admin_site(request.user)
