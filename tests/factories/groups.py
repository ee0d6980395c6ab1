"""Contact groups, group members, messages: made through ``groups``' services."""

from __future__ import annotations

from accounts.models import User
from alliance.models import Alliance
from alliance.selectors.alliances import alliance_access_for
from groups.models import ContactGroup, GroupMembership, Message
from groups.services.contact_groups import (
    contact_groups_create_defaults,
    contact_groups_member_joined,
    message_send,
    notice_post,
    team_group_create,
)


def contact_groups(alliance: Alliance) -> tuple[ContactGroup, ContactGroup]:
    """The alliance's main contact group and its prevention group (made if missing, as the service does)."""
    main, prevention = contact_groups_create_defaults(alliance=alliance)
    return main, prevention


def contact_group_member_join(*, alliance: Alliance, user: User, admin: bool = False) -> None:
    """``user`` in the alliance's contact groups only, without an alliance membership: the one way the suite makes
    a group member who is not (yet) an alliance member."""
    contact_groups_member_joined(alliance=alliance, user=user, admin=admin)


def group_members(group: ContactGroup):
    return GroupMembership.objects.filter(group=group)


def team_make(*, alliance: Alliance, by: User, name: str, members: list[User]) -> ContactGroup:
    """A patrol team group made by the alliance admin ``by``."""
    access = alliance_access_for(user=by, alliance=alliance)
    return team_group_create(actor=by, access=access, name=name, member_ids=[user.pk for user in members])


def message_make(*, group: ContactGroup, sender: User, body: str = "你好", **fields) -> Message:
    message, _created = message_send(sender=sender, group=group, body=body, **fields)
    return message


def notice_make(*, group: ContactGroup, by: User, body: str = "今晚加强巡逻") -> Message:
    """A pinned notice posted by the police member ``by``."""
    return notice_post(actor=by, group=group, body=body)
