from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # Registers this app's share of the personal-data export and account deletion (accounts/personal_data.py).
        from accounts import personal_data  # noqa: F401
        from accounts.user_cache import connect_signals

        connect_signals()  # a change to a user or their roles makes their cached entry stale (accounts/user_cache.py)


class PinganAdminConfig(admin_apps.AdminConfig):
    """Stands in for ``django.contrib.admin`` in INSTALLED_APPS so that ``admin.site`` is the site police admins use
    (``accounts.admin_site.PinganAdminSite``). Here, not in admin_site.py: this module loads before the models."""

    default = False  # named in INSTALLED_APPS; AccountsConfig stays the accounts app's own config
    default_site = "accounts.admin_site.PinganAdminSite"
