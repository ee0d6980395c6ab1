"""Issue 13's story in the demo city, end to end, with real processes: a daphne server and a Celery worker with its
beat on Redis, and a local stand-in of JPush's HTTP API in place of the provider.

The station chief publishes an urgent anti-fraud alert to Qingguo Lane's merchants. A merchant with the app open gets
it live over the WebSocket; three others, offline, find it in their inbox and get a push (the worker's JPush
request, which the stand-in records); one of them acknowledges it. The chief sees the reach figures and the stores
that have not read it, as JSON and CSV. The demo's evening tip goes out on its own (the worker's beat runs the
sweep), once.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from alliance.management.commands.seed_demo import DEMO_PASSWORD, QINGGUO
from alliance.models import Alert, AlertPushBatch, AllianceMembership, Store, TipOccurrence, TipSchedule
from alliance.tasks import send_due_tips_task
from tests.conftest import PinganClient
from tests.servers import celery_worker, daphne_server, flush_test_broker, http_json, next_event

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_redis, pytest.mark.slow]

POLICE_ADMIN = "+8613800000001"  # 陈所长
ONLINE = "+8613800000101"  # 蒋老板 of 青果巷银丝面馆: the app is open
# 恽阿婆 and 盛老板, whose phones the demo registered for push, and 邹师傅, who registers his now: phones in pockets.
OFFLINE = ("+8613800000102", "+8613800000103", "+8613800000104")
DEMO_TOKENS = ["demo-jpush-0000", "demo-jpush-0001"]  # alliance/demo_alerts.py
NEW_TOKEN = "1a0018970a00000104"


class JPushStandIn:
    """A loopback stand-in of ``POST /v3/push``: records what the worker sends and answers as JPush does."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                stand_in.requests.append({"path": self.path, "body": body})
                answer = json.dumps({"sendno": "0", "msg_id": "18100000001"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/v3/push"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _login(phone: str) -> str:
    """A session token, from a real allauth login in this process (the session is in the database the server
    reads; the seed's passwords are hashed with the tests' hasher, which the server process does not have)."""
    return PinganClient().login_with_password(phone, DEMO_PASSWORD)


def _wait_for(check, *, timeout: float = 30, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_an_urgent_anti_fraud_alert_on_qingguo_lane():
    # given the demo city, two merchants' phones registered for push, the evening tip due, and the real processes
    call_command("seed_demo", verbosity=0)
    redis_url = settings.TEST_REDIS_URL
    flush_test_broker(redis_url)
    jpush = JPushStandIn()
    merchants = AllianceMembership.objects.filter(alliance__slug=QINGGUO, role="merchant")
    schedule = TipSchedule.objects.get(name="每晚七点夜市提示")
    TipSchedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now() - timedelta(seconds=1))
    worker_env = {
        "REDIS_URL": redis_url,
        "PUSH_JPUSH": "jpush",
        "PUSH_JPUSH_ENDPOINT": jpush.url,
        "PUSH_JPUSH_APP_KEY": "story-app-key",
        "PUSH_JPUSH_MASTER_SECRET": "story-master-secret",
    }
    try:
        with daphne_server(REDIS_URL=redis_url) as base, celery_worker(beat=True, **worker_env) as worker:
            tokens = {phone: _login(phone) for phone in (POLICE_ADMIN, ONLINE, *OFFLINE)}
            status, _ = http_json(
                base,
                "POST",
                "/api/v1/me/devices",
                tokens[OFFLINE[2]],
                {"platform": "android", "provider": "jpush", "token": NEW_TOKEN},
            )
            assert status == 201
            from websockets.sync.client import connect

            socket = connect(f"{base.replace('http', 'ws')}/ws/?token={tokens[ONLINE]}")
            next_event(socket, "hello")

            # when the station chief writes and publishes an urgent alert to Qingguo Lane's merchants
            chief = tokens[POLICE_ADMIN]
            qingguo = merchants.first().alliance
            status, draft = http_json(
                base,
                "POST",
                "/api/v1/alerts",
                chief,
                {
                    "station": qingguo.station_id,
                    "kind": "anti_fraud",
                    "severity": "urgent",
                    "title": "警惕冒充电商客服退款诈骗",
                    "body": "近期多名商户接到自称电商平台客服的电话，以“订单异常退款”为由要求下载会议软件、共享屏幕。",
                    "case_example": "某奶茶店店主按对方指引操作，被转走 3.2 万元。",
                    "audience": {"alliances": [qingguo.pk], "roles": ["merchant"]},
                    "requires_ack": True,
                },
            )
            assert status == 201, draft
            status, published = http_json(base, "POST", f"/api/v1/alerts/{draft['id']}/publish", chief)
            assert status == 200 and published["status"] == "published"

            # then the merchant online gets it at once over the socket
            live = next_event(socket, "alert", timeout=10)
            assert live["alert"]["id"] == draft["id"] and live["alert"]["severity"] == "urgent"
            socket.close()

            # and the others find it in their inbox, and their phones get one JPush request with the three tokens
            status, inbox = http_json(base, "GET", "/api/v1/me/alerts", tokens[OFFLINE[0]])
            assert [item["id"] for item in inbox["results"]][:1] == [draft["id"]]
            pushed = _wait_for(lambda: jpush.requests, what=f"the JPush request; worker: {worker.log_tail()}")
            assert sorted(pushed[0]["body"]["audience"]["registration_id"]) == sorted([*DEMO_TOKENS, NEW_TOKEN])

            # when one of them acknowledges it
            status, acknowledged = http_json(
                base, "POST", f"/api/v1/me/alerts/{draft['id']}/acknowledge", tokens[OFFLINE[0]]
            )
            assert status == 200 and acknowledged["acknowledged_at"]

            # then the chief sees the reach: counted when sent, one live, three pushed, one read and acknowledged
            def counted():
                _, reach = http_json(base, "GET", f"/api/v1/alerts/{draft['id']}/reach", chief)
                return reach if reach["targeted"] is not None and reach["pushed"] == 3 else None

            reach = _wait_for(counted, what="the audience count and the push count")
            stores = Store.objects.filter(alliance=qingguo).count()
            assert reach == {
                "targeted": merchants.count(),
                "delivered_live": 1,
                "pushed": 3,
                "read": 1,
                "acknowledged": 1,
                "stores_targeted": stores,
                "stores_unread": stores - 1,
            }
            # and the stores that have not read it, to visit, as a spreadsheet
            with urllib_get(f"{base}/api/v1/alerts/{draft['id']}/unread-stores.csv", chief) as response:
                rows = list(csv.reader(io.StringIO(response.read().decode("utf-8-sig"))))
            assert len(rows) == 1 + stores - 1
            assert "老常州大麻糕" not in {row[0] for row in rows}  # 恽阿婆's store has read it

            # and the evening tip went out on its own (the beat's sweep), once, to the merchants only
            occurrence = _wait_for(
                lambda: TipOccurrence.objects.filter(schedule=schedule).first(), what="the evening tip"
            )
    finally:
        jpush.close()

    assert send_due_tips_task() == 0  # a second sweep (or a second beat) finds the run taken
    assert TipOccurrence.objects.filter(schedule=schedule).count() == 1
    tip = Alert.objects.get(pk=occurrence.alert_id)
    assert tip.kind == "safety_tip" and tip.sent_at is not None
    assert AlertPushBatch.objects.filter(alert_id=draft["id"], status="sent").count() == 1
    assert User.objects.get(phone=OFFLINE[0]).alert_receipts.get(alert_id=draft["id"]).acknowledged_at


def urllib_get(url: str, token: str):
    import urllib.request

    request = urllib.request.Request(url, headers={"X-Session-Token": token})
    return urllib.request.urlopen(request, timeout=10)  # noqa: S310 - a loopback test server
