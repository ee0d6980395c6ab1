"""WebSocket authentication: the same allauth session token as REST, and an origin check that suits phone apps."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from accounts.authentication import authenticate_session_token
from accounts.permissions import user_roles


class WebSocketOriginValidator(OriginValidator):
    """Refuse foreign browser origins, accept connections without an Origin header.

    Phone apps often send no Origin at all, and they authenticate with a token rather than a cookie, so a missing
    Origin carries no cross-site risk. A browser always sends one, and it must be one of our hosts.
    """

    def __init__(self, application):
        super().__init__(application, list(settings.ALLOWED_HOSTS) + list(settings.CSRF_TRUSTED_ORIGINS))

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def token_from_query_string(scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    values = query.get("token") or query.get("session_token")
    return values[0] if values else None


def language_from_code(code) -> str | None:
    """One of ``settings.LANGUAGES`` for a code such as "en", "zh-CN" or "zh-hans", or None."""
    if not isinstance(code, str) or not code or len(code) > 32:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def language_from_scope(scope) -> str:
    """The language of a socket's messages: ``?lang=``, else the handshake's Accept-Language, else zh-hans, as
    REST chooses (browsers cannot set headers on a WebSocket, hence the query parameter)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    chosen = language_from_code((query.get("lang") or [None])[0])
    if chosen:
        return chosen
    headers = dict(scope.get("headers") or [])
    for code, _quality in parse_accept_lang_header(headers.get(b"accept-language", b"").decode("latin1")[:255]):
        chosen = language_from_code(code) if code != "*" else None
        if chosen:
            return chosen
    return settings.LANGUAGE_CODE


def user_for_token(token: str):
    """The socket's signed-in user with their roles loaded, or None; synchronous (a database thread's work)."""
    if not isinstance(token, str) or not token or len(token) > 256 or "\x00" in token:
        return None
    found = authenticate_session_token(token)
    if not found:
        return None
    user = found[0]
    if not user.is_active:
        return None
    user_roles(user)  # load roles now, in the sync thread, so async code never touches the ORM lazily
    return user


user_for_session_token = database_sync_to_async(user_for_token)
