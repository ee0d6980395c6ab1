"""The groups app's share of the personal-data export (accounts/personal_data.py).

Group memberships end on account deletion with the alliances they belong to (alliance/personal_data.py); the
person's messages stay in the groups' history, their sender being the anonymised row.
"""

from __future__ import annotations

from accounts.personal_data import PersonalDataPart, personal_data_left_out, personal_data_part_register
from config.times import api_datetime
from groups.models import GroupMembership, Message


def _group_memberships(user) -> list[dict]:
    return [
        {
            "group": m.group.name,
            "role": m.role,
            "joined_at": api_datetime(m.joined_at),
            "last_read_seq": m.last_read_seq,
            "muted": m.is_muted,
        }
        for m in GroupMembership.objects.filter(user=user).select_related("group").order_by("id")
    ]


def _messages(user) -> list[dict]:
    return [
        {"group": m.group.name, "seq": m.seq, "kind": m.kind, "body": m.body, "sent_at": api_datetime(m.created_at)}
        for m in Message.objects.filter(sender=user, deleted_at__isnull=True).select_related("group").order_by("id")
    ]


personal_data_part_register(
    PersonalDataPart("group_memberships", _group_memberships, covers=("groups.GroupMembership.user",))
)
personal_data_part_register(PersonalDataPart("messages", _messages, covers=("groups.Message.sender",)))
personal_data_left_out(
    "groups.Message.deleted_by", why="a group admin's or officer's moderation of somebody's message: its audit trail"
)
personal_data_left_out(
    "groups.PatrolZone.created_by",
    why="a police admin's official act: drawing a patrol zone, which is the alliance's map, not the person's data",
)
