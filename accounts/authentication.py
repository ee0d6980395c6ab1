"""The session token (``X-Session-Token``) resolved once per request.

The idempotency middleware needs the user before the view runs (its records are per user) and DRF authenticates
again inside the view. Each lookup reads the session and the user row; on a case creation the second one was
about a tenth of the request's CPU (docs/performance.md). The first answer is kept on the request.
"""

from __future__ import annotations

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from allauth.headless.internal.sessionkit import authenticate_by_x_session_token
from django.http import HttpRequest
from drf_spectacular.contrib.django_allauth import XSessionTokenAuthenticationScheme

_CACHE_ATTRIBUTE = "_pingan_session_token_auth"


def session_token_authenticate(request: HttpRequest) -> tuple | None:
    """(user, session) for the request's X-Session-Token, None when it has none or it is invalid or expired."""
    token = request.headers.get("X-Session-Token")
    if not token:
        return None
    cached = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is not None and cached[0] == token:
        return cached[1]
    found = authenticate_by_x_session_token(token)
    setattr(request, _CACHE_ATTRIBUTE, (token, found))
    return found


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's X-Session-Token authentication for DRF, sharing the lookup the middleware already made."""

    def authenticate(self, request):
        return session_token_authenticate(request._request)


class SessionTokenAuthenticationScheme(XSessionTokenAuthenticationScheme):
    """The OpenAPI description stays allauth's: same header, same scheme name."""

    target_class = "accounts.authentication.SessionTokenAuthentication"
