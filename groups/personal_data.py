"""The groups app's share of the personal-data export (accounts/personal_data.py).

Group memberships end on account deletion with the alliances they belong to (alliance/personal_data.py); the
person's messages stay in the groups' history, their sender being the anonymised row.
"""

from __future__ import annotations

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from accounts.personal_data import PersonalDataPart, personal_data_left_out, personal_data_part_register
from config.times import api_datetime
from groups.models import (
    CalendarFeed,
    Checkpoint,
    CheckpointScan,
    GroupMembership,
    Message,
    PatrolAttempt,
    PatrolLogEntry,
    PatrolTeamMember,
    ShiftSignup,
    ShiftSwapRequest,
)
from groups.services.patrol_on_duty import on_duty_changed


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


# --- patrol ---------------------------------------------------------------------------------------------------------
# What a person did on patrol is theirs to download: their places on teams and shifts, every check-in, check-out and
# scan attempt with the positions it sent, the checkpoints they scanned, their patrol log, their swap requests and
# calendar feeds (the dates only: the secret is a credential, and only its hash is kept anyway).
#
# On account deletion (each choice and its reason):
# - team places end: the person no longer patrols, and a team's member list must not show a deleted account;
# - a place under way is closed now, as the automatic check-out would close it (see below);
# - places on shifts that have not started are cancelled (they would block capacity and trigger reminders), and
#   swap requests still waiting are withdrawn; a shift under way or past keeps its place, attendance and verified
#   time: the team's hours and the statistics stay right, pointing at the anonymised row like any other record;
# - positions go: the last-seen position of every place, the position, accuracy and phone time of every attempt
#   and log entry; a scan keeps the checkpoint's own position (what the scan proves), not where the phone was;
# - calendar feeds are deleted: their only use was the person's calendar app.
# Deleting an account leaves its alliances first, which cancels future places through the sign-up service and offers
# each to the waitlist (groups/services/shift_signups.patrol_member_left_alliance); the cancel here is the safety net.


def _patrol_team_memberships(user) -> list[dict]:
    return [
        {"team": m.team.name, "alliance": m.team.alliance.name, "role": m.role, "joined_at": api_datetime(m.joined_at)}
        for m in PatrolTeamMember.objects.filter(user=user).select_related("team__alliance").order_by("id")
    ]


def _shift_signups(user) -> list[dict]:
    return [
        {
            "id": s.pk,
            "shift": s.shift.name,
            "team": s.shift.team.name,
            "starts_at": api_datetime(s.shift.starts_at),
            "ends_at": api_datetime(s.shift.ends_at),
            "place": s.role,
            "status": s.status,
            "signed_up_at": api_datetime(s.created_at),
            "cancelled_at": api_datetime(s.cancelled_at),
            "attendance": s.attendance,
            "checked_in_at": api_datetime(s.checked_in_at),
            "checked_out_at": api_datetime(s.checked_out_at),
            "verified_seconds": s.verified_seconds,
            "needs_review": s.needs_review,
            "last_latitude": s.last_latitude,
            "last_longitude": s.last_longitude,
            "last_seen_at": api_datetime(s.last_seen_at),
        }
        for s in ShiftSignup.objects.filter(user=user).select_related("shift__team").order_by("id")
    ]


def _patrol_attempts(user) -> list[dict]:
    return [
        {
            "kind": a.kind,
            "signup": a.signup_id,
            "checkpoint": a.checkpoint.name if a.checkpoint else None,
            "accepted": a.accepted,
            "refusal_code": a.refusal_code,
            "latitude": a.latitude,
            "longitude": a.longitude,
            "coordinate_system": a.coordinate_system,
            "accuracy_metres": a.accuracy_metres,
            "mock_location": a.mock_location,
            "device_time": api_datetime(a.device_time),
            "received_at": api_datetime(a.received_at),
            "offline": a.offline,
        }
        for a in PatrolAttempt.objects.filter(user=user).select_related("checkpoint").order_by("id")
    ]


def _checkpoint_scans(user) -> list[dict]:
    return [
        {
            "signup": s.signup_id,
            "route": s.checkpoint.route.name,
            "checkpoint": s.checkpoint.name,
            "round": s.round,
            "scanned_at": api_datetime(s.scanned_at),
            "latitude": s.latitude,
            "longitude": s.longitude,
        }
        for s in CheckpointScan.objects.filter(signup__user=user).select_related("checkpoint__route").order_by("id")
    ]


def _patrol_log_entries(user) -> list[dict]:
    return [
        {
            "signup": e.signup_id,
            "kind": e.kind,
            "note": e.note,
            "flyers": e.flyers,
            "people_reached": e.people_reached,
            "latitude": e.latitude,
            "longitude": e.longitude,
            "incident": e.incident_id,
            "device_time": api_datetime(e.device_time),
            "logged_at": api_datetime(e.created_at),
        }
        for e in PatrolLogEntry.objects.filter(signup__user=user).order_by("id")
    ]


def _shift_swap_requests(user) -> list[dict]:
    requests = (
        ShiftSwapRequest.objects.filter(Q(signup__user=user) | Q(to_user=user))
        .select_related("signup__shift")
        .order_by("id")
    )
    return [
        {
            "shift": r.signup.shift.name,
            "starts_at": api_datetime(r.signup.shift.starts_at),
            # Which side the person was on; the other person is not named (their data, not this person's).
            "direction": "made" if r.signup.user_id == user.pk else "received",
            "status": r.status,
            "asked_at": api_datetime(r.created_at),
            "decided_at": api_datetime(r.decided_at),
        }
        for r in requests
    ]


def _calendar_feeds(user) -> list[dict]:
    return [
        {"created_at": api_datetime(f.created_at), "revoked_at": api_datetime(f.revoked_at)}
        for f in CalendarFeed.objects.filter(user=user).order_by("id")
    ]


def _patrol_erase(user) -> None:
    """Expects the account deletion's transaction."""
    now = timezone.now()
    PatrolTeamMember.objects.filter(user=user).delete()
    signups = ShiftSignup.objects.filter(user=user)
    signups.filter(shift__starts_at__gt=now, status__in=ShiftSignup.HOLDING_STATUSES).update(
        status=ShiftSignup.Status.CANCELLED, cancelled_at=now
    )
    # A place under way ends now, as the automatic check-out would end it, flagged for the leader: the time counted
    # stays on the team's records, and dispatch stops sending cases to a closed account.
    for signup in signups.filter(attendance=ShiftSignup.Attendance.ON_DUTY).select_related("shift"):
        ended_at = min(now, signup.shift.ends_at)
        signup.attendance = ShiftSignup.Attendance.CLOSED_AUTOMATICALLY
        signup.checked_out_at = ended_at
        signup.verified_seconds = max(0, int((ended_at - (signup.checked_in_at or ended_at)).total_seconds()))
        signup.needs_review = True
        signup.save(update_fields=["attendance", "checked_out_at", "verified_seconds", "needs_review"])
        on_duty_changed(signup=signup, change="closed")
    signups.update(last_latitude=None, last_longitude=None)
    ShiftSwapRequest.objects.filter(
        Q(signup__user=user) | Q(to_user=user), status=ShiftSwapRequest.Status.PENDING
    ).update(status=ShiftSwapRequest.Status.WITHDRAWN, decided_at=now)
    PatrolAttempt.objects.filter(user=user).update(
        latitude=None, longitude=None, accuracy_metres=None, device_time=None
    )
    checkpoint = Checkpoint.objects.filter(pk=OuterRef("checkpoint_id"))
    CheckpointScan.objects.filter(signup__user=user).update(
        latitude=Subquery(checkpoint.values("latitude")[:1]), longitude=Subquery(checkpoint.values("longitude")[:1])
    )
    PatrolLogEntry.objects.filter(signup__user=user).update(latitude=None, longitude=None, device_time=None)
    CalendarFeed.objects.filter(user=user).delete()


personal_data_part_register(
    PersonalDataPart(
        "patrol_team_memberships",
        _patrol_team_memberships,
        covers=("groups.PatrolTeamMember.user",),
        erase=_patrol_erase,  # one erase for every patrol table, in the order above
    )
)
personal_data_part_register(PersonalDataPart("shift_signups", _shift_signups, covers=("groups.ShiftSignup.user",)))
personal_data_part_register(
    PersonalDataPart("patrol_attempts", _patrol_attempts, covers=("groups.PatrolAttempt.user",))
)
# Scans and log entries name the person through their place (ShiftSignup.user), not with a key of their own.
personal_data_part_register(PersonalDataPart("checkpoint_scans", _checkpoint_scans))
personal_data_part_register(PersonalDataPart("patrol_log_entries", _patrol_log_entries))
personal_data_part_register(
    PersonalDataPart("shift_swap_requests", _shift_swap_requests, covers=("groups.ShiftSwapRequest.to_user",))
)
personal_data_part_register(PersonalDataPart("calendar_feeds", _calendar_feeds, covers=("groups.CalendarFeed.user",)))

_PATROL_OFFICIAL_ACT = "a leader's or police admin's act on the patrol (a place assigned, a swap decided): its record"
personal_data_left_out("groups.ShiftSignup.assigned_by", why=_PATROL_OFFICIAL_ACT)
personal_data_left_out("groups.ShiftSwapRequest.decided_by", why=_PATROL_OFFICIAL_ACT)
for _field in ("groups.ShiftTemplate.created_by", "groups.PatrolZone.created_by"):
    personal_data_left_out(
        _field, why="who set up a team's shifts or drew a zone: the patrol plan's audit trail, not the person's data"
    )
