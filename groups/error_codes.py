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

    # patrol: check-in, check-out, checkpoint scans and the log (422, with the figures in ``figures``)
    NOT_SIGNED_UP = "not_signed_up"
    SHIFT_CANCELLED = "shift_cancelled"
    TOO_EARLY = "too_early"
    TOO_LATE = "too_late"
    OUTSIDE_ZONE = "outside_zone"
    ACCURACY_TOO_POOR = "accuracy_too_poor"
    MOCK_LOCATION = "mock_location"
    DEVICE_TIME_IMPLAUSIBLE = "device_time_implausible"
    ALREADY_CHECKED_IN = "already_checked_in"
    NOT_CHECKED_IN = "not_checked_in"
    ALREADY_CHECKED_OUT = "already_checked_out"
    CODE_FORGED = "code_forged"
    CODE_EXPIRED = "code_expired"
    CODE_FOREIGN = "code_foreign"
    TOO_FAR_FROM_CHECKPOINT = "too_far_from_checkpoint"
    ALREADY_SCANNED = "already_scanned"


# Not found and permission denied are config.errors.ApplicationError.not_found() / .permission_denied(message),
# the same for every app.
