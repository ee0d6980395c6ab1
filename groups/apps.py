from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("Groups and live channel")

    def ready(self) -> None:
        from alliance.demo_city import demo_city_part_register
        from alliance.hooks import alliance_duty_hooks, alliance_membership_hooks

        # Registers this app's share of the personal-data export and account deletion (accounts/personal_data.py).
        from groups import personal_data  # noqa: F401
        from groups.alliance_membership import contact_groups_follow_membership
        from groups.demo_patrol import seed_fengming_patrol

        # The contact groups follow the alliance's membership (alliance/hooks.py: alliance does not import groups).
        alliance_membership_hooks.register(contact_groups_follow_membership)
        # The demo city's patrol (manage.py seed_demo, alliance/demo_city.py).
        demo_city_part_register("Patrol of Fengming Golden Street (凤鸣金街)", seed_fengming_patrol)
        # Then last week's nights of its team, settled into the points ledger (groups/demo_points.py).
        from groups.demo_points import seed_fengming_points

        demo_city_part_register("Points of Fengming Golden Street's volunteers", seed_fengming_points)
        # The police see live who goes on or off duty by the switch (alliance/hooks.py), as they see check-ins.
        from groups.services.patrol_on_duty import on_duty_follows_duty_switch

        alliance_duty_hooks.register(on_duty_follows_duty_switch)
        # alliance's notices to people (a reward request decided, a Safe Store named) go live (alliance/hooks.py).
        from alliance.hooks import person_notice_hooks
        from groups.alliance_notices import person_notice_send

        person_notice_hooks.register(person_notice_send)
        # Alerts: the audience kinds that live here (zones, contact groups) and the live and card delivery
        # (alliance/alert_audience.py, alliance/hooks.py: alliance does not import groups).
        from alliance.hooks import alert_delivery_hooks
        from groups.alert_audience import alert_audience_kinds_register
        from groups.alert_delivery import alert_delivery

        alert_audience_kinds_register()
        alert_delivery_hooks.register(alert_delivery)
        # A person's cached audience keys follow what puts them in a group or a zone (alliance/alert_audience_cache.py).
        from alliance.alert_audience_cache import alert_keys_follow
        from groups.models import (
            ContactGroup,
            GroupMembership,
            PatrolTeam,
            PatrolTeamMember,
            PatrolZone,
            Shift,
            ShiftTemplate,
        )

        for model in (GroupMembership, PatrolTeamMember):
            alert_keys_follow(model, person_field="user_id")
        for model in (ContactGroup, PatrolZone, PatrolTeam, ShiftTemplate, Shift):
            alert_keys_follow(model)
        # The patrol's evidence for the points ledger: verified hours, completed rounds (alliance/points_evidence.py).
        from groups import points_evidence  # noqa: F401
