"""The session token (``X-Session-Token``) resolved once per request, with one cache read for the session.

The idempotency middleware needs the user before the view runs (its records are per user) and DRF authenticates
again inside the view. Each lookup reads the session and the user row; on a case creation the second one was
about a tenth of the request's CPU (docs/performance.md). The first answer is kept on the request.

A lookup is one read of the session (allauth's session token strategy asks the session store whether the key
exists and then loads it: with cached_db two Redis round trips to one key; :class:`SessionTokenStrategy` loads it
once) and the user with their roles from the user cache (accounts/user_cache.py); once a process has seen a token,
both in one ``MGET`` (``user_cache.session_with_user``).
"""

from __future__ import annotations

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from allauth.headless.internal import sessionkit
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy as AllauthSessionTokenStrategy
from django.http import HttpRequest
from drf_spectacular.contrib.django_allauth import XSessionTokenAuthenticationScheme

from accounts.user_cache import session_with_user

_CACHE_ATTRIBUTE = "_pingan_session_token_auth"


class SessionTokenStrategy(AllauthSessionTokenStrategy):
    """allauth's session tokens (the token is the session key), looked up with one load of the session instead of
    ``exists()`` and then a load: allauth's own ``sessionkit.lookup_session``, which its JWT strategy uses (a
    missing or expired session clears the key). ``HEADLESS_TOKEN_STRATEGY`` names it, so allauth's endpoints use it
    too."""

    def lookup_session(self, session_token: str):
        return sessionkit.lookup_session(session_token)


def authenticate_session_token(token: str) -> tuple | None:
    """(user, session) for a session token, None when it is invalid or expired or its user may not log in: allauth's
    ``authenticate_by_x_session_token``, with the user from the user cache (and, once this process knows the token,
    the session and the user in one round trip: accounts/user_cache.py)."""
    found = session_with_user(token)
    if found is None:
        return None
    session, user = found
    return (user, session)


def session_token_authenticate(request: HttpRequest) -> tuple | None:
    """(user, session) for the request's X-Session-Token, None when it has none or it is invalid or expired."""
    token = request.headers.get("X-Session-Token")
    if not token:
        return None
    cached = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is not None and cached[0] == token:
        return cached[1]
    found = authenticate_session_token(token)
    setattr(request, _CACHE_ATTRIBUTE, (token, found))
    return found


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's X-Session-Token authentication for DRF, sharing the lookup the middleware already made."""

    def authenticate(self, request):
        return session_token_authenticate(request._request)


class SessionTokenAuthenticationScheme(XSessionTokenAuthenticationScheme):
    """The OpenAPI description stays allauth's: same header, same scheme name."""

    target_class = "accounts.authentication.SessionTokenAuthentication"
