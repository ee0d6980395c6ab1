from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("Groups and live channel")

    def ready(self) -> None:
        # Registers this app's share of the personal-data export and account deletion (accounts/personal_data.py).
        from groups import personal_data  # noqa: F401
