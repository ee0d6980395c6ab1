"""What creating a case costs PostgreSQL and Redis, counted in the production layout (Redis cache, cached_db
sessions, the Redis channel layer with a server's hub listening) for the whole request: authentication, the
Idempotency-Key record, the case and its card, and the live events published after commit.

Issue 10 measured 26 SQL statements and 14 Redis commands per incident (in the benchmark, where no hub listens);
docs/performance.md says where they went.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups import events
from groups.events import USERS_TOPIC, group_topic
from groups.models import OutboxEvent
from reports.models import Dispute, Incident
from tests.servers import use_production_cache

LANE = {"latitude": 31.777012, "longitude": 119.956301}


@pytest.fixture
def production_layout(settings):
    """The cache, sessions and channel layer of config/settings/base.py with REDIS_URL set, on the test Redis."""
    url = settings.TEST_REDIS_URL
    use_production_cache(settings, url)
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": f"test-cost-{uuid.uuid4().hex[:8]}", "expiry": 60},
        }
    }
    yield url
    caches["default"].clear()


class RedisMonitor:
    """Every command the test's Redis database receives from clients (MONITOR), between entering and leaving.
    Commands a Lua script runs on the server are kept apart: they cost no round trip."""

    def __init__(self, url: str):
        self.url = url
        self.db = redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0)
        self.commands: list[str] = []
        self.scripted: list[str] = []
        self._marker = f"monitor-{uuid.uuid4().hex}"
        self._ready = threading.Event()
        self._marking = redis.Redis.from_url(url)
        self._marking.ping()  # connected (and its SELECT sent) before counting starts

    def _watch(self) -> None:
        with redis.Redis.from_url(self.url).monitor() as monitor:
            self._ready.set()
            for entry in monitor.listen():
                if entry.get("db") != self.db:
                    continue
                if self._marker in entry["command"]:
                    if entry["command"].endswith("stop"):
                        return
                    continue
                (self.scripted if entry.get("client_type") == "lua" else self.commands).append(entry["command"])

    def __enter__(self):
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        self._ready.wait(5)
        self._echo("start")
        return self

    def _echo(self, what: str) -> None:
        self._marking.echo(f"{self._marker} {what}")

    def __exit__(self, *exc):
        self._echo("stop")
        self._thread.join(10)
        self._marking.close()


def _hub_listening(group_id: int) -> tuple:
    """A server process's hub, as groups/delivery.py joins the topics: the contact group's and the users'."""
    layer = get_channel_layer()

    async def join() -> str:
        channel = await layer.new_channel("hub.")
        await layer.group_add(group_topic(group_id), channel)
        await layer.group_add(USERS_TOPIC, channel)
        return channel

    return layer, asyncio.run(join())


def _received(layer, channel: str, count: int) -> list[dict]:
    async def receive() -> list[dict]:
        return [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(count)]

    return asyncio.run(receive())


def _create(client, path: str, body: dict, key: str):
    with CaptureQueriesContext(connection) as queries, RedisMonitor(settings.TEST_REDIS_URL) as commands:
        response = client.post_json(path, body, HTTP_IDEMPOTENCY_KEY=key)
    return response, [query["sql"] for query in queries.captured_queries], commands


@pytest.mark.needs_postgres
@pytest.mark.needs_redis
@pytest.mark.django_db(transaction=True)
def test_reporting_an_incident_costs_at_most_16_statements(production_layout, login, qingguo):
    client = login(qingguo.merchant)
    path = f"/api/v1/alliances/{qingguo.alliance.pk}/incidents"
    layer, hub = _hub_listening(qingguo.main.pk)
    client.post_json(path, {"category": "theft", "description": "先来一条", **LANE}, HTTP_IDEMPOTENCY_KEY="warm-up")
    _received(layer, hub, 2)

    # when a merchant reports an incident with an Idempotency-Key, as the app does
    body = {"category": "theft", "description": "电动车电瓶被偷了", **LANE}
    response, sql, redis_commands = _create(client, path, body, "pin-incident")

    # then the case, its card and both live events are there, for at most 16 statements in all (26 before: no
    # savepoints now, one access query, no read of the group before its seq, the outbox row sent from memory), and
    # the group line and the case event went out to the hub. Redis: the session (one GET; the user cache is off in
    # this layout) and two channel-layer publishes of 6 commands each with one hub listening (15 before: EXISTS
    # and the cache connection's SELECT too).
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(pk=response.json()["id"])
    delivered = _received(layer, hub, 2)
    assert {message["topic"] for message in delivered} == {group_topic(qingguo.main.pk), USERS_TOPIC}
    case = next(json.loads(message["payload"]) for message in delivered if message["topic"] == USERS_TOPIC)
    assert case["incident"]["incident_id"] == incident.pk and incident.card_message_id is not None
    assert not OutboxEvent.objects.filter(sent_at__isnull=True).exists()
    assert not [q for q in sql if "SAVEPOINT" in q]
    assert len(sql) <= 16, "\n".join(sql)
    assert len(redis_commands.commands) <= 13, "\n".join(redis_commands.commands)


@pytest.mark.needs_postgres
@pytest.mark.needs_redis
@pytest.mark.django_db(transaction=True)
def test_flagging_a_dispute_costs_at_most_19_statements(production_layout, login, qingguo):
    client = login(qingguo.merchant)
    path = f"/api/v1/alliances/{qingguo.alliance.pk}/disputes"
    layer, hub = _hub_listening(qingguo.main.pk)
    client.post_json(path, {"category": "quarrel"}, HTTP_IDEMPOTENCY_KEY="warm-up")
    _received(layer, hub, 2)

    # when a merchant flags a quarrel at their store
    response, sql, redis_commands = _create(client, path, {"category": "quarrel"}, "pin-dispute")

    # then the flag, its card and both live events are there for 19 statements (31 before: the same cuts as for an
    # incident, and the followers of a flag just made are known without reading its responders and steps; level 1
    # reads the volunteers checked in and the members on duty in one statement since issue 11)

    assert response.status_code == 201, response.content
    dispute = Dispute.objects.get(pk=response.json()["id"])
    delivered = _received(layer, hub, 2)
    assert {message["topic"] for message in delivered} == {group_topic(qingguo.main.pk), USERS_TOPIC}
    case = next(json.loads(message["payload"]) for message in delivered if message["topic"] == USERS_TOPIC)
    assert case["dispute"]["dispute_id"] == dispute.pk
    assert not [q for q in sql if "SAVEPOINT" in q]
    assert len(sql) <= 19, "\n".join(sql)
    assert len(redis_commands.commands) <= 13, "\n".join(redis_commands.commands)


@pytest.mark.django_db
def test_a_case_event_goes_out_after_the_events_still_waiting_in_the_outbox(
    login, qingguo, monkeypatch, django_capture_on_commit_callbacks
):
    # given an event that could not be published while Redis was down, still waiting in the outbox
    OutboxEvent.objects.create(topics=["user.1"], payload='{"type": "backlog"}', attempts=1, last_error="Down")
    published = []
    real_send_all = events._send_all

    async def recording(layer, topics, payload, meta):
        published.append(json.loads(payload)["type"])
        await real_send_all(layer, topics, payload, meta)

    monkeypatch.setattr(events, "_send_all", recording)

    # when a merchant reports an incident (its case event is sent by the request, after commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(qingguo.merchant).post_json(
            f"/api/v1/alliances/{qingguo.alliance.pk}/incidents",
            {"category": "theft", "description": "电动车电瓶被偷了", **LANE},
            HTTP_IDEMPOTENCY_KEY="after-outage",
        )

    # then the waiting event went out first, and both are marked sent
    assert response.status_code == 201
    assert [kind for kind in published if kind != "message"] == ["backlog", "case"]
    assert not OutboxEvent.objects.filter(sent_at__isnull=True).exists()
