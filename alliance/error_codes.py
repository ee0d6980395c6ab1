"""Every error code the alliance app answers with, in one list (Saleor's ``order/error_codes.py``).

A code is stable API: phone apps switch on it, so a code is added here, never renamed. The values are the strings
the API has always sent; ``StrEnum`` members are those strings, so they serialise unchanged.
"""

from __future__ import annotations

from enum import StrEnum

from config.errors import ApplicationError


class AllianceErrorCode(StrEnum):
    # shared with other apps' lists: the same words for the same situation
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    PAYLOAD_TOO_LARGE = "payload_too_large"

    # police units
    NOT_POLICE = "not_police"
    CANNOT_REMOVE_OWN_POST = "cannot_remove_own_post"

    # alliances
    INVALID_STATION = "invalid_station"
    INVALID_OFFICE = "invalid_office"
    INVALID_BOUNDARY = "invalid_boundary"
    SLUG_TAKEN = "slug_taken"
    ALLIANCE_INACTIVE = "alliance_inactive"

    # members
    LAST_ADMIN = "last_admin"
    ROLE_NOT_ELIGIBLE = "role_not_eligible"
    NOT_A_RESPONDER = "not_a_responder"
    VOLUNTEER_DUTY_BY_CHECK_IN = "volunteer_duty_by_check_in"
    POSITION_WHEN_ON_DUTY = "position_when_on_duty"

    # invites and joining
    INVALID_ROLE = "invalid_role"
    INVITE_NOT_FOUND = "invite_not_found"
    INVITE_REVOKED = "invite_revoked"
    INVITE_EXPIRED = "invite_expired"
    INVITE_USED_UP = "invite_used_up"
    INVITE_ROLE_MISMATCH = "invite_role_mismatch"
    ALREADY_MEMBER = "already_member"
    JOIN_REQUEST_DECIDED = "join_request_decided"

    # stores
    INVALID_COORDINATES = "invalid_coordinates"
    INVALID_PHONE = "invalid_phone"
    NOT_ALLIANCE_MEMBER = "not_alliance_member"
    OWNER_NOT_STAFF = "owner_not_staff"

    # rewards and their redemption
    REWARD_NOT_OFFERED = "reward_not_offered"
    REWARD_REDEEMED = "reward_redeemed"
    OUT_OF_STOCK = "out_of_stock"
    REDEMPTION_LIMIT_REACHED = "redemption_limit_reached"
    NOT_ENOUGH_POINTS = "not_enough_points"
    REDEMPTION_DECIDED = "redemption_decided"
    REDEMPTION_NOT_APPROVED = "redemption_not_approved"
    # Safe Store awards (issue 12: h5)
    SAFE_STORE_RANKING_PUBLISHED = "safe_store_ranking_published"
    # points ledger
    POINTS_BELOW_HELD = "points_below_held"
    POINTS_ALREADY_REVERSED = "points_already_reversed"
    POINTS_DAILY_CAP_REACHED = "points_daily_cap_reached"
    # alerts and tips
    ALERT_AUDIENCE_EMPTY = "alert_audience_empty"
    ALERT_AUDIENCE_OUTSIDE = "alert_audience_outside"
    ALERT_TOPIC_NOT_TIP = "alert_topic_not_tip"
    ALERT_CASE_EXAMPLE_NOT_FRAUD = "alert_case_example_not_fraud"
    ALERT_REMINDER_WITHOUT_ACK = "alert_reminder_without_ack"
    ALERT_EXPIRES_BEFORE_PUBLISH = "alert_expires_before_publish"
    ALERT_ALREADY_SENT = "alert_already_sent"
    ALERT_NOT_DRAFT = "alert_not_draft"
    ALERT_NOT_PUBLISHED = "alert_not_published"
    ALERT_WITHDRAWN = "alert_withdrawn"
    ALERT_NO_ACK = "alert_no_ack"
    ALERT_TOO_MANY_IMAGES = "alert_too_many_images"
    # safety tips (issue 13: h2)
    TIP_SCHEDULE_ENDS_BEFORE_START = "tip_schedule_ends_before_start"
    TIP_SCHEDULE_NEVER_RUNS = "tip_schedule_never_runs"


# Not found and permission denied are config.errors.ApplicationError.not_found() / .permission_denied(message),
# the same for every app; a field error carries one of this app's codes.


def field_error(code: AllianceErrorCode, field: str, message: str) -> ApplicationError:
    return ApplicationError(code, message, fields={field: [message]})
