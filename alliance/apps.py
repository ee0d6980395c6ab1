from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllianceConfig(AppConfig):
    name = "alliance"
    verbose_name = _("Alliances")

    def ready(self) -> None:
        # Register this app's share of the personal-data export and account deletion (accounts/personal_data.py),
        # and who is in a police admin's jurisdiction (accounts/jurisdiction.py: accounts does not import alliance).
        from alliance import jurisdiction, personal_data  # noqa: F401
