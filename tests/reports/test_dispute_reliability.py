"""Dispute flags end to end against real processes: a flag reaches an on-duty responder's phone within a second;
Redis going down delays notifications but loses none; the ladder's timers survive worker restarts and fire once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from celery import Celery
from django.conf import settings
from django.utils import timezone
from websockets.sync.client import connect

from reports.models import CaseEvent, Dispute
from tests.servers import (
    ROOT,
    celery_worker,
    child_env,
    daphne_server,
    flush_test_broker,
    http_json,
    next_event,
    redis_server,
)

pytestmark = [pytest.mark.needs_postgres, pytest.mark.slow]


def token_for(client_factory, user) -> str:
    return client_factory().login_with_password(str(user.phone))


def socket_for(base: str, token: str):
    ws = connect(f"{base.replace('http', 'ws')}/ws/?token={token}")
    assert json.loads(ws.recv(timeout=5))["type"] == "hello"
    return ws


def next_case(ws, timeout: float = 5) -> tuple[dict, float]:
    return next_event(ws, "case", timeout), time.monotonic()


@pytest.mark.django_db(transaction=True)
def test_a_flag_reaches_the_on_duty_responder_within_a_second_and_is_resolved(qingguo, client_factory):
    merchant_token = token_for(client_factory, qingguo.merchant)
    responder_token = token_for(client_factory, qingguo.mall_manager)
    with daphne_server() as base:
        merchant_ws, responder_ws = socket_for(base, merchant_token), socket_for(base, responder_token)
        try:
            # when the merchant flags a quarrel from the app's open socket
            sent_at = time.monotonic()
            merchant_ws.send(
                json.dumps(
                    {
                        "type": "flag",
                        "alliance": qingguo.alliance.pk,
                        "category": "quarrel",
                        "note": "两个人在摊位边吵架",
                        "client_id": "flag-1",
                    }
                )
            )
            flagged = next_event(merchant_ws, "flagged")
            alarm, received_at = next_case(responder_ws)
            dispute_id = flagged["dispute"]["id"]
            # the responder answers and settles it over REST; the merchant's phone follows each step live
            ack = http_json(
                base, "POST", f"/api/v1/disputes/{dispute_id}/acknowledge", responder_token, {"eta_minutes": 2}
            )
            seen_ack, _ = next_case(merchant_ws)
            done = http_json(
                base,
                "POST",
                f"/api/v1/disputes/{dispute_id}/resolve",
                responder_token,
                {"outcome": "mediated", "notes": "双方和解"},
            )
            seen_done, _ = next_case(merchant_ws)
        finally:
            merchant_ws.close()
            responder_ws.close()

    assert flagged["type"] == "flagged" and flagged["dispute"]["level"] == 1
    assert alarm["dispute"]["dispute_id"] == dispute_id and alarm["dispute"]["note"] == "两个人在摊位边吵架"
    assert received_at - sent_at < 1.0
    assert ack[0] == 200 and seen_ack["dispute"]["status"] == "acknowledged"
    assert (
        done[0] == 200
        and seen_done["dispute"]["status"] == "resolved"
        and seen_done["dispute"]["outcome"] == "mediated"
    )


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_flag_is_stored_and_the_responder_is_told_once_redis_is_back(qingguo, client_factory):
    merchant_token = token_for(client_factory, qingguo.merchant)
    responder_token = token_for(client_factory, qingguo.mall_manager)
    with redis_server() as (redis_url, start_redis, stop_redis), daphne_server(REDIS_URL=redis_url) as base:
        responder_ws = socket_for(base, responder_token)
        try:
            # given Redis (channel layer, cache) dies
            stop_redis()
            # when the merchant flags over HTTP
            status, body = http_json(
                base,
                "POST",
                f"/api/v1/alliances/{qingguo.alliance.pk}/disputes",
                merchant_token,
                {"category": "theft", "note": "有人在偷东西"},
            )
            # then the request succeeds and the notification waits in the outbox
            from groups.models import OutboxEvent

            waiting = OutboxEvent.objects.filter(sent_at__isnull=True).count()
            # when Redis is back and the periodic relay runs (as beat runs it every 5 s)
            start_redis()
            time.sleep(2)  # the server's hub notices and joins its topics again
            relay = subprocess.run(
                [
                    sys.executable,
                    "manage.py",
                    "shell",
                    "-c",
                    "from groups.events import outbox_relay; print(outbox_relay())",
                ],
                cwd=ROOT,
                env=child_env(REDIS_URL=redis_url),
                capture_output=True,
                text=True,
                timeout=60,
            )
            alarm, _ = next_case(responder_ws, timeout=10)
        finally:
            responder_ws.close()

    assert status == 201 and Dispute.objects.filter(pk=body["id"]).exists()
    assert waiting >= 1
    assert relay.returncode == 0 and int(relay.stdout.strip().splitlines()[-1]) >= 1, relay.stderr
    assert alarm["dispute"]["dispute_id"] == body["id"]
    assert not OutboxEvent.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.needs_redis
@pytest.mark.django_db(transaction=True)
def test_the_ladder_survives_a_killed_worker_and_fires_once_with_two_workers(login, qingguo):
    # given an unacknowledged flag whose acknowledge deadline has passed
    dispute_id = (
        login(qingguo.merchant)
        .post_json(f"/api/v1/alliances/{qingguo.alliance.pk}/disputes", {"category": "quarrel"})
        .json()["id"]
    )
    Dispute.objects.filter(pk=dispute_id).update(escalate_at=timezone.now() - timedelta(seconds=1))
    broker = settings.TEST_REDIS_URL
    flush_test_broker(broker)
    sender = Celery(broker=broker)

    # when a worker is killed while the sweep is queued for it
    with celery_worker(REDIS_URL=broker) as doomed:
        sender.send_task("reports.tasks.escalate_due_disputes_task")
        doomed.kill()
    # and two fresh workers, one of them running beat, sweep again and again
    with celery_worker(REDIS_URL=broker, beat=True) as first, celery_worker(REDIS_URL=broker) as second:
        for _ in range(6):
            sender.send_task("reports.tasks.escalate_due_disputes_task")
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline
            and not CaseEvent.objects.filter(dispute_id=dispute_id, kind="escalated").exists()
        ):
            assert first.poll() is None and second.poll() is None
            time.sleep(0.2)
        time.sleep(3)  # let the remaining sweeps run: they must find nothing due

    # then the flag climbed exactly one rung
    assert CaseEvent.objects.filter(dispute_id=dispute_id, kind="escalated").count() == 1
    dispute = Dispute.objects.get(pk=dispute_id)
    assert dispute.level == 2 and dispute.escalate_at > timezone.now()


@pytest.mark.django_db(transaction=True)
def test_case_card_lines_posted_while_redis_is_down_reach_open_sockets_live_once_it_is_back(qingguo, client_factory):
    import redis

    merchant_token = token_for(client_factory, qingguo.merchant)
    responder_token = token_for(client_factory, qingguo.mall_manager)
    main = str(qingguo.main.pk)
    with redis_server() as (redis_url, start_redis, stop_redis), daphne_server(REDIS_URL=redis_url) as base:
        # given the responder's app is connected, a member of the contact group, and stays connected throughout
        responder_ws = connect(f"{base.replace('http', 'ws')}/ws/?token={responder_token}")
        try:
            hello = json.loads(responder_ws.recv(timeout=5))
            last_seen = hello["groups"][main]
            # when Redis dies and two flags are made, each posting its case card in the contact group
            stop_redis()
            flagged = [
                http_json(
                    base,
                    "POST",
                    f"/api/v1/alliances/{qingguo.alliance.pk}/disputes",
                    merchant_token,
                    {"category": category, "note": "停电期间"},
                )
                for category in ("theft", "quarrel")
            ]
            # and Redis comes back, the server's hub joins its topics again, and the periodic relay runs
            start_redis()
            client = redis.Redis.from_url(redis_url)
            deadline = time.monotonic() + 20
            while not (client.exists("asgi:group:users") and client.exists(f"asgi:group:group.{main}")):
                assert time.monotonic() < deadline, "the hub did not rejoin its topics"
                time.sleep(0.1)
            relay = subprocess.run(
                [sys.executable, "manage.py", "shell", "-c", "from groups.events import outbox_relay; outbox_relay()"],
                cwd=ROOT,
                env=child_env(REDIS_URL=redis_url),
                capture_output=True,
                text=True,
                timeout=60,
            )
            # then, without the app asking (no resync), the card lines arrive, in order, after the hello's seq
            lines = []
            deadline = time.monotonic() + 10
            while len(lines) < 2 and time.monotonic() < deadline:
                try:
                    event = json.loads(responder_ws.recv(timeout=max(0.01, deadline - time.monotonic())))
                except TimeoutError:
                    break
                if event["type"] == "message" and event["group"] == qingguo.main.pk:
                    lines.append(event)
        finally:
            responder_ws.close()

    assert [status for status, _ in flagged] == [201, 201] and relay.returncode == 0, relay.stderr
    assert [line["seq"] for line in lines] == [last_seen + 1, last_seen + 2]
    assert [line["message"]["payload"]["dispute_id"] for line in lines] == [body["id"] for _, body in flagged]
