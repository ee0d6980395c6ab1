"""Every error code the reports app answers with besides the three every app gives (``not_found``,
``permission_denied``, ``invalid``: ``config.errors.ApplicationError.not_found`` and its siblings). A code is stable
API that the apps switch on; the message beside it is for people and may change."""

from __future__ import annotations

from enum import StrEnum


class ReportsErrorCode(StrEnum):
    # Turning a group message into a case that already exists, which the caller may not see (409, with its card).
    ALREADY_REPORTED = "already_reported"
    # A flag or report without a position and nothing to default to (400, naming ``latitude``).
    LOCATION_REQUIRED = "location_required"
    # The dispute ladder (409).
    CASE_CLOSED = "case_closed"
    TOP_OF_LADDER = "top_of_ladder"
    # The incident workflow (409).
    INVALID_TRANSITION = "invalid_transition"
    INVALID_MERGE = "invalid_merge"
    REOPEN_WINDOW_PASSED = "reopen_window_passed"
    ALREADY_RATED = "already_rated"
