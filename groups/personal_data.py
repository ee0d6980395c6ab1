"""The groups app's share of the personal-data export (accounts/personal_data.py).

Group memberships end on account deletion with the alliances they belong to (alliance/personal_data.py); the
person's messages stay in the groups' history, their sender being the anonymised row.
"""

from __future__ import annotations

from accounts.personal_data import PersonalDataPart, personal_data_left_out, personal_data_part_register
from config.times import api_datetime
from groups.models import CheckpointScan, GroupMembership, Message, PatrolAttempt, PatrolLogEntry


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


# --- patrol: what the person did on their shifts (their places on the shifts are the rosters' part) ---------------


def _patrol_attempts(user) -> list[dict]:
    return [
        {
            "shift": a.shift_id,
            "kind": a.kind,
            "accepted": a.accepted,
            "refused_because": a.refusal_code,
            "latitude": a.latitude,
            "longitude": a.longitude,
            "accuracy_metres": a.accuracy_metres,
            "mock_location": a.mock_location,
            "device_time": api_datetime(a.device_time),
            "received_at": api_datetime(a.received_at),
            "offline": a.offline,
        }
        for a in PatrolAttempt.objects.filter(user=user).order_by("id")
    ]


def _patrol_attempts_erase(user) -> None:
    """Where the person stood and when, dropped; that they checked in or scanned stays for the shift's figures."""
    where = {"latitude": None, "longitude": None, "accuracy_metres": None, "device_time": None}
    PatrolAttempt.objects.filter(user=user).update(**where)


def _checkpoint_scans(user) -> list[dict]:
    return [
        {
            "shift": s.signup.shift_id,
            "checkpoint": s.checkpoint.name,
            "round": s.round,
            "scanned_at": api_datetime(s.scanned_at),
        }
        for s in CheckpointScan.objects.filter(signup__user=user).select_related("signup", "checkpoint").order_by("id")
    ]


def _patrol_log(user) -> list[dict]:
    return [
        {
            "shift": e.signup.shift_id,
            "kind": e.kind,
            "note": e.note,
            "flyers": e.flyers,
            "people_reached": e.people_reached,
            "latitude": e.latitude,
            "longitude": e.longitude,
            "incident": e.incident_id,
            "logged_at": api_datetime(e.created_at),
        }
        for e in PatrolLogEntry.objects.filter(signup__user=user).select_related("signup").order_by("id")
    ]


personal_data_part_register(
    PersonalDataPart(
        "patrol_attempts", _patrol_attempts, covers=("groups.PatrolAttempt.user",), erase=_patrol_attempts_erase
    )
)
# Reached through the person's places on shifts (ShiftSignup.user), so they name no foreign key of their own.
personal_data_part_register(PersonalDataPart("checkpoint_scans", _checkpoint_scans))
personal_data_part_register(PersonalDataPart("patrol_log", _patrol_log))
