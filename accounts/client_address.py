"""The client's address, as the rate limits, the session list and the ``Idempotency-Key`` scope see it.

Behind the reverse proxy (README: nginx in front of gunicorn and daphne) every request comes from the proxy's address;
the client's is in ``X-Forwarded-For``, which each proxy extends with the address it received the request from. Only
the entries our own proxies appended can be trusted (a client can send any header it likes), so with
``ALLAUTH_TRUSTED_PROXY_COUNT`` = N (env ``PINGAN_TRUSTED_PROXY_COUNT``) the client is the N-th entry from the right.
With N = 0 (the default: no proxy, or a proxy not set up yet) the header is ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address(request) -> str:
    peer = request.META.get("REMOTE_ADDR", "") or ""
    trusted = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0)
    if trusted <= 0:
        return peer
    hops = [hop for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    if len(hops) < trusted:
        # The request did not come through all our proxies (a health check, a misconfiguration): the peer is all
        # we know. allauth itself would raise ImproperlyConfigured here, a 500 on the login endpoints.
        return peer
    return _valid(hops[-trusted]) or peer
