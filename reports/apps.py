from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Incidents and disputes")

    def ready(self) -> None:
        # Registers this app's share of the personal-data export and account deletion (accounts/personal_data.py).
        from reports import personal_data  # noqa: F401
