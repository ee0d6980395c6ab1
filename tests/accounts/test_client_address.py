"""Behind the documented reverse proxy, each client has its own address for rate limits and idempotency scopes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import RequestFactory

from accounts.idempotency import _scope
from tests.servers import ROOT

AUTH = "/_allauth/app/v1/auth"
PROXY = "127.0.0.1"  # nginx on the same machine as gunicorn


def signup_via_proxy(client, phone: str, forwarded_for: str):
    return client.post_json(f"{AUTH}/signup", {"phone": phone}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


@pytest.mark.django_db
def test_clients_behind_one_trusted_proxy_get_their_own_rate_limit_buckets(client_factory, settings):
    # given one trusted proxy, and sign-ups limited to one a minute per address
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "1/m/ip"}

    # when client A signs up, then client B, then A again, once with a forged extra X-Forwarded-For entry in front
    first_a = signup_via_proxy(client_factory(), "+8613912350001", "203.0.113.1")
    first_b = signup_via_proxy(client_factory(), "+8613912350002", "203.0.113.2")
    second_a = signup_via_proxy(client_factory(), "+8613912350003", "203.0.113.1")
    forged_a = signup_via_proxy(client_factory(), "+8613912350004", "198.51.100.77, 203.0.113.1")

    # then B has its own bucket, and A stays in its own, whatever A claims in the header
    assert first_a.status_code == 401
    assert first_b.status_code == 401
    assert second_a.status_code == 429
    assert forged_a.status_code == 429


@pytest.mark.django_db
def test_without_a_trusted_proxy_the_header_is_ignored(client_factory, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "1/m/ip"}

    first = signup_via_proxy(client_factory(), "+8613912350011", "203.0.113.1")
    spoofed = signup_via_proxy(client_factory(), "+8613912350012", "203.0.113.2")

    assert first.status_code == 401
    assert spoofed.status_code == 429


@pytest.mark.django_db
def test_idempotency_scopes_of_anonymous_requests_follow_the_client_address(settings):
    # given one trusted proxy
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    factory = RequestFactory()

    def scope(forwarded_for: str, **extra) -> str:
        return _scope(factory.post("/api/v1/x", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for, **extra))

    # then two clients have two scopes, a forged extra entry does not change a client's scope, and a request that
    # did not come through the proxy falls back to its peer address instead of failing
    assert scope("203.0.113.1") == "anon:203.0.113.1"
    assert scope("203.0.113.2") == "anon:203.0.113.2"
    assert scope("198.51.100.77, 203.0.113.1") == "anon:203.0.113.1"
    assert _scope(factory.post("/api/v1/x", REMOTE_ADDR="192.0.2.5")) == "anon:192.0.2.5"
    assert scope("not-an-address") == f"anon:{PROXY}"


@pytest.mark.django_db
def test_a_request_that_skipped_a_proxy_is_not_a_server_error(client_factory, settings):
    # given two trusted proxies, and a request that passed only one (allauth alone raises ImproperlyConfigured)
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2

    response = signup_via_proxy(client_factory(), "+8613912350021", "203.0.113.1")

    # then it is served, counted against the address we do know
    assert response.status_code == 401


def test_the_number_of_trusted_proxies_is_a_production_setting():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="s" * 60,
        DJANGO_ALLOWED_HOSTS="pingan.example",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/pingan",
        REDIS_URL="redis://127.0.0.1:6379/0",
        SMS_PROVIDER="console",
        PINGAN_TRUSTED_PROXY_COUNT="1",
    )
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
    )

    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
