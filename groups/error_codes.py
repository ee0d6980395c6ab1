"""Every error code the groups app answers with, in one list (as ``alliance/error_codes.py``): REST refusals and
the live channel's ``error`` events and closes (groups/consumers.py).

A code is stable API: phone apps switch on it, so a code is added here, never renamed. The values are the strings
the API and the socket have always sent; ``StrEnum`` members are those strings, so they serialise unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class GroupErrorCode(StrEnum):
    # shared with other apps' lists: the same words for the same situation
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    RATE_LIMITED = "rate_limited"
    NOT_AUTHENTICATED = "not_authenticated"

    # membership
    NOT_ALLIANCE_MEMBERS = "not_alliance_members"
    MEMBERSHIP_FOLLOWS_ALLIANCE = "membership_follows_alliance"

    # lines in a group
    POSTING_RESTRICTED = "posting_restricted"
    GROUP_ARCHIVED = "group_archived"

    # the live channel: frames it cannot read, and the refusals it closes with
    MALFORMED = "malformed"
    TOO_DEEPLY_NESTED = "too_deeply_nested"
    UNKNOWN_TYPE = "unknown_type"
    AUTH_TIMEOUT = "auth_timeout"
    SESSION_ENDED = "session_ended"
    FRAME_TOO_LARGE = "frame_too_large"
    FLOODING = "flooding"

    # patrol teams, shifts and sign-ups (issue 11)
    NOT_PATROL_ELIGIBLE = "not_patrol_eligible"
    TEAM_ARCHIVED = "team_archived"
    SHIFT_NOT_OPEN = "shift_not_open"
    SHIFT_OVERLAP = "shift_overlap"
    SHIFT_ROLE_FULL = "shift_role_full"
    ALREADY_SIGNED_UP = "already_signed_up"
    CANCEL_CUTOFF_PASSED = "cancel_cutoff_passed"
    SIGNUP_STATE = "signup_state"
    SWAP_NOT_PENDING = "swap_not_pending"


# Not found and permission denied are config.errors.ApplicationError.not_found() / .permission_denied(message),
# the same for every app.
