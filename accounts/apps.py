from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # Registers this app's share of the personal-data export and account deletion (accounts/personal_data.py).
        from accounts import personal_data  # noqa: F401
