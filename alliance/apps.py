from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllianceConfig(AppConfig):
    name = "alliance"
    verbose_name = _("Alliances")

    def ready(self) -> None:
        # Registers this app's share of the personal-data export and account deletion (accounts/personal_data.py).
        from alliance import personal_data  # noqa: F401
