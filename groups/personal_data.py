"""The groups app's share of the personal-data export (accounts/personal_data.py).

Group memberships end on account deletion with the alliances they belong to (alliance/personal_data.py); the
person's messages stay in the groups' history, their sender being the anonymised row.
"""

from __future__ import annotations

from django.utils import timezone

from accounts.personal_data import PersonalDataPart, personal_data_left_out, personal_data_part_register
from config.times import api_datetime
from groups.models import (
    CalendarFeed,
    GroupMembership,
    Message,
    PatrolTeamMember,
    ShiftSignup,
    ShiftSwapRequest,
)


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


# --- patrol rosters (issue 11) ------------------------------------------------------------------------------------


def _patrol_teams(user) -> list[dict]:
    return [
        {"team": m.team.name, "alliance": m.team.alliance.name, "role": m.role, "joined_at": api_datetime(m.joined_at)}
        for m in PatrolTeamMember.objects.filter(user=user).select_related("team__alliance").order_by("id")
    ]


def _shift_places(user) -> list[dict]:
    return [
        {
            "shift": s.shift.name,
            "team": s.shift.team.name,
            "starts_at": api_datetime(s.shift.starts_at),
            "ends_at": api_datetime(s.shift.ends_at),
            "role": s.role,
            "status": s.status,
            "attendance": s.attendance,
            "signed_up_at": api_datetime(s.created_at),
            "checked_in_at": api_datetime(s.checked_in_at),
            "checked_out_at": api_datetime(s.checked_out_at),
            "verified_seconds": s.verified_seconds,
            "swap_requests": [
                {"to_user": r.to_user_id, "status": r.status, "asked_at": api_datetime(r.created_at)}
                for r in s.swap_requests.all()
            ],
        }
        for s in ShiftSignup.objects.filter(user=user)
        .select_related("shift__team")
        .prefetch_related("swap_requests")
        .order_by("id")
    ]


def _shift_places_erase(user) -> None:
    """Places on shifts still to come are given up (the leader sees the gap); past ones stay as the team's record,
    naming the anonymised row."""
    now = timezone.now()
    ShiftSignup.objects.filter(user=user, status__in=ShiftSignup.HOLDING_STATUSES, shift__starts_at__gt=now).update(
        status=ShiftSignup.Status.CANCELLED, cancelled_at=now
    )


def _patrol_teams_erase(user) -> None:
    PatrolTeamMember.objects.filter(user=user).delete()


def _swaps_offered(user) -> list[dict]:
    return [
        {"shift": r.signup.shift.name, "status": r.status, "asked_at": api_datetime(r.created_at)}
        for r in ShiftSwapRequest.objects.filter(to_user=user).select_related("signup__shift").order_by("id")
    ]


def _calendar_feeds(user) -> list[dict]:
    return [
        {"created_at": api_datetime(f.created_at), "revoked_at": api_datetime(f.revoked_at)}
        for f in CalendarFeed.objects.filter(user=user).order_by("id")
    ]


def _calendar_feeds_erase(user) -> None:
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


personal_data_part_register(
    PersonalDataPart(
        "shift_places",
        _shift_places,
        covers=("groups.ShiftSignup.user",),
        erase=_shift_places_erase,
    )
)
personal_data_part_register(
    PersonalDataPart("patrol_teams", _patrol_teams, covers=("groups.PatrolTeamMember.user",), erase=_patrol_teams_erase)
)
personal_data_part_register(
    PersonalDataPart("shift_swaps_offered", _swaps_offered, covers=("groups.ShiftSwapRequest.to_user",))
)
personal_data_part_register(
    PersonalDataPart(
        "calendar_feeds", _calendar_feeds, covers=("groups.CalendarFeed.user",), erase=_calendar_feeds_erase
    )
)
personal_data_left_out(
    "groups.ShiftTemplate.created_by", why="a leader's planning of the team's shifts: the roster's audit trail"
)
personal_data_left_out(
    "groups.ShiftSignup.assigned_by", why="a leader's assignment of somebody else's place: that roster's audit trail"
)
personal_data_left_out(
    "groups.ShiftSwapRequest.decided_by", why="a leader's decision on somebody else's swap: that roster's audit trail"
)
