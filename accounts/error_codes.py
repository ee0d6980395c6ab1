"""Every error code the accounts app answers with, in one list (as ``alliance/error_codes.py``): its services'
refusals, the middleware's (rate limits, idempotency keys) and those it gives allauth's flows (the adapter).

A code is stable API: phone apps switch on it, so a code is added here, never renamed. The values are the strings
the API has always sent; ``StrEnum`` members are those strings, so they serialise unchanged.
"""

from __future__ import annotations

from enum import StrEnum

from config.errors import ApplicationError


class AccountErrorCode(StrEnum):
    # shared with other apps' lists: the same words for the same situation
    PERMISSION_DENIED = "permission_denied"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    RATE_LIMITED = "rate_limited"

    # roles
    UNKNOWN_ROLE = "unknown_role"
    ROLE_NEEDS_GRANT = "role_needs_grant"
    ROLE_NOT_HELD = "role_not_held"
    CANNOT_REVOKE_OWN_ADMIN = "cannot_revoke_own_admin"

    # the account
    ACCOUNT_DELETED = "account_deleted"
    CONFIRMATION_MISMATCH = "confirmation_mismatch"

    # sign-up and login (allauth's flows, through accounts/adapter.py and accounts/middleware.py)
    INVALID_PHONE = "invalid_phone"
    NOT_MOBILE = "not_mobile"
    SIGNUP_EXPIRED = "signup_expired"
    TOO_MANY_REQUESTS = "too_many_requests"  # allauth's shape of a 429
    TOO_MANY_LOGIN_ATTEMPTS = "too_many_login_attempts"  # allauth's own code, which the adapter raises and reads
    INVALID_LOGIN = "invalid_login"  # Django's own, on the admin site's login form (accounts/admin_site.py)

    # Idempotency-Key (accounts/idempotency.py)
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    IDEMPOTENCY_REQUEST_IN_PROGRESS = "idempotency_request_in_progress"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"


# Not found and permission denied are config.errors.ApplicationError.not_found() / .permission_denied(message),
# the same for every app.


def field_error(code: AccountErrorCode, field: str, message: str) -> ApplicationError:
    return ApplicationError(code, message, fields={field: [message]})
