from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("Groups and live channel")

    def ready(self) -> None:
        from alliance.hooks import alliance_duty_hooks, alliance_membership_hooks

        # Registers this app's share of the personal-data export and account deletion (accounts/personal_data.py).
        from groups import personal_data  # noqa: F401
        from groups.alliance_membership import contact_groups_follow_membership

        # The contact groups follow the alliance's membership (alliance/hooks.py: alliance does not import groups).
        alliance_membership_hooks.register(contact_groups_follow_membership)
        # The police see live who goes on or off duty by the switch (alliance/hooks.py), as they see check-ins.
        from groups.services.patrol_on_duty import on_duty_follows_duty_switch

        alliance_duty_hooks.register(on_duty_follows_duty_switch)
