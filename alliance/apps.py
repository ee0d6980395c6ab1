from importlib import import_module

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class AllianceConfig(AppConfig):
    name = "alliance"
    verbose_name = _("Alliances")

    def ready(self) -> None:
        # Register this app's share of the personal-data export and account deletion (accounts/personal_data.py),
        # and who is in a police admin's jurisdiction (accounts/jurisdiction.py: accounts does not import alliance).
        from alliance import jurisdiction, personal_data  # noqa: F401

        # A person's cached audience keys follow their memberships and the places (alliance/alert_audience_cache.py).
        from alliance.alert_audience_cache import alert_keys_follow
        from alliance.demo_city import demo_city_part_register
        from alliance.demo_safe_stores import seed_rewards_and_safe_stores
        from alliance.models import Alliance, AllianceMembership, Station, Store, StoreStaff

        # Acknowledged alerts earn points: the ledger's evidence source lives with the alert services.
        from alliance.services import alerts  # noqa: F401

        for model in (AllianceMembership, StoreStaff):
            alert_keys_follow(model, person_field="user_id")
        for model in (Station, Alliance, Store):
            alert_keys_follow(model)

        # The demo city's rewards and Fengming Golden Street's last half-year ranking (manage.py seed_demo).
        demo_city_part_register("Safe Stores of Fengming Golden Street (凤鸣金街)", seed_rewards_and_safe_stores)
        # The starter safety-tip library and Qingguo Lane's evening tip schedule (alliance/tip_library.py).
        from alliance.tip_library import seed_tips

        demo_city_part_register("Safety tips of Qingguo Lane (青果巷)", seed_tips)
        from alliance.demo_alerts import seed_alerts

        # An anti-fraud warning and a wanted notice in the inboxes, and two merchants' phones for push.
        demo_city_part_register("Alerts (防诈预警, 协查通报)", seed_alerts)

        # Points evidence sources named by the environment (the tests' and the benchmark's, in the worker processes
        # they start); the apps above register theirs from their own ready().
        for module in settings.POINTS_EVIDENCE_MODULES:
            import_module(module)
