"""The contact groups follow the alliance's membership: registered into ``alliance.hooks`` from
``GroupsConfig.ready()``, because ``alliance`` sits below ``groups`` and does not import it.

Called inside the alliance service's transaction, so a group membership commits or rolls back with the alliance
membership; the groups publish their live events after commit as always.
"""

from __future__ import annotations

from alliance.permissions import ALLIANCE_GROUP_ADMIN_ROLES
from groups.services.contact_groups import (
    contact_groups_create_defaults,
    contact_groups_member_joined,
    contact_groups_member_left,
)
from groups.services.shift_signups import patrol_member_left_alliance


class ContactGroupsFollowMembership:
    """Every alliance has its default contact groups; its members are in them, its admins and police liaisons as
    group admins; whoever leaves the alliance leaves all of its groups."""

    def on_alliance_created(self, *, alliance) -> None:
        contact_groups_create_defaults(alliance=alliance)

    def on_member_joined(self, *, alliance, user, role: str) -> None:
        contact_groups_member_joined(alliance=alliance, user=user, admin=role in ALLIANCE_GROUP_ADMIN_ROLES)

    def on_member_role_changed(self, *, alliance, user, role: str) -> None:
        # Raised to a group-admin role: group admin too. Lowered: the group role stays as it was.
        if role in ALLIANCE_GROUP_ADMIN_ROLES:
            contact_groups_member_joined(alliance=alliance, user=user, admin=True)

    def on_member_left(self, *, alliance, user) -> None:
        contact_groups_member_left(alliance=alliance, user=user)
        # Patrol teams are people acting together too: leaving the alliance leaves its teams and future shifts.
        patrol_member_left_alliance(alliance=alliance, user=user)


contact_groups_follow_membership = ContactGroupsFollowMembership()
