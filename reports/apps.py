from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Incidents and disputes")

    def ready(self) -> None:
        # Register this app's share of the personal-data export and account deletion (accounts/personal_data.py),
        # the live channel's ``flag`` frame (groups/socket_frames.py: groups does not import reports), and the
        # incident a hidden danger logged on patrol becomes (groups/patrol_hooks.py), and the cases' evidence for the
        # points ledger (alliance/points_evidence.py).
        from reports import patrol_hooks, personal_data, points_evidence, socket_frames  # noqa: F401
