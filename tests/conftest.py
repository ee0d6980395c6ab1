"""Fixtures shared by the whole suite: people, a street, logged-in clients, the SMS outbox, real servers'
availability. Data is made with tests/factories (through the services); the street is tests/fixtures/street.py."""

from __future__ import annotations

import json
import os

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts import push, sms
from accounts.models import Role, User
from tests.factories.accounts import DEMO_PASSWORD, UserFactory
from tests.fixtures.street import Street, build_street

IN_CI = bool(os.environ.get("CI"))


def pytest_collection_modifyitems(config, items):
    """needs_postgres / needs_redis: skipped with the reason on a machine without them, never skipped under CI."""
    missing = {
        "needs_postgres": None
        if settings.POSTGRES_AVAILABLE
        else f"PostgreSQL not reachable at {settings.TEST_POSTGRES_URL}",
        "needs_redis": None if settings.REDIS_AVAILABLE else f"Redis not reachable at {settings.TEST_REDIS_URL}",
    }
    for item in items:
        for marker, reason in missing.items():
            if reason and item.get_closest_marker(marker):
                if IN_CI:
                    item.add_marker(pytest.mark.xfail(reason=f"CI must have it: {reason}", run=False, strict=True))
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))


def pytest_sessionstart(session):
    if IN_CI and not (settings.POSTGRES_AVAILABLE and settings.REDIS_AVAILABLE):
        raise pytest.UsageError(
            "CI is set but PostgreSQL or Redis does not answer "
            f"(postgres: {settings.POSTGRES_AVAILABLE}, redis: {settings.REDIS_AVAILABLE}); .ci/run starts them."
        )


@pytest.fixture(autouse=True)
def _isolated_state():
    """Rate-limit counters live in the cache, SMS and recorded pushes in module lists: all start empty in every test."""
    cache.clear()
    sms.outbox.clear()
    push.recorded.clear()
    push.recording_dead.clear()
    yield
    sms.outbox.clear()
    push.recorded.clear()
    push.recording_dead.clear()


@pytest.fixture
def user_factory(db):
    return UserFactory


@pytest.fixture
def merchant(db):
    return UserFactory(roles=[Role.MERCHANT])


@pytest.fixture
def volunteer(db):
    return UserFactory(roles=[Role.VOLUNTEER])


@pytest.fixture
def police_admin(db):
    return UserFactory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="王所长")


@pytest.fixture
def street(db, user_factory) -> Street:
    """Qingguo Lane: station and office, the alliance and its contact groups, merchants and a store, a mall manager
    on duty, officers posted to the office and the station (see tests/fixtures/street.py)."""
    return build_street(user_factory, name="青平果联盟", slug="qingpingguo")


@pytest.fixture
def other_street(db, user_factory) -> Street:
    """Another jurisdiction's street, for the forbidden path (another alliance's objects)."""
    return build_street(user_factory, name="凤鸣金街联盟", slug="fengming")


class PinganClient(APIClient):
    """A phone app: JSON bodies, the allauth session token as its only credential."""

    def post_json(self, path, data=None, **extra):
        return self.post(path, json.dumps(data), content_type="application/json", **extra)

    def login_with_password(self, phone: str, password: str = DEMO_PASSWORD) -> str:
        response = self.post_json("/_allauth/app/v1/auth/login", {"phone": phone, "password": password})
        assert response.status_code == 200, response.content
        token = response.json()["meta"]["session_token"]
        self.credentials(HTTP_X_SESSION_TOKEN=token)
        return token


@pytest.fixture
def client_factory():
    return PinganClient


@pytest.fixture
def api_client():
    return PinganClient()


@pytest.fixture
def login(db):
    """``login(user)`` returns a client that acts as the user through a real allauth password login."""

    def _login(user: User) -> PinganClient:
        client = PinganClient()
        client.login_with_password(str(user.phone))
        return client

    return _login


@pytest.fixture(scope="module")
def ws_url(django_db_setup, django_db_blocker):
    """A real daphne server for the module's WebSocket tests (one per module); yields its ``ws://.../ws/`` URL."""
    from tests.servers import daphne_server

    with django_db_blocker.unblock():
        with daphne_server() as base:
            yield base.replace("http://", "ws://") + "/ws/"
