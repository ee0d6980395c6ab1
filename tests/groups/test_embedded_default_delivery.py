"""The embedded default (``dev.py run``: SQLite, the in-process channel layer, a file broker, one daphne and one
``celery worker --beat``) delivers every live event a production deployment delivers, whichever process wrote it.

The in-process layer lives in the server's memory: an event the worker hands to "its" layer reaches nobody. So only
the server relays; the worker leaves its events in the outbox for the server's hub (groups/delivery.py)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from websockets.sync.client import connect

from tests.servers import celery_worker, daphne_server, embedded_default_env, http_json, manage_py

pytestmark = [pytest.mark.slow]

DEMO_PASSWORD = "pingan-demo-2026"
QINGGUO_MERCHANTS = [f"+86138000001{n:02d}" for n in range(1, 16)]
QINGGUO_MALL_MANAGER = "+8613800000021"
FENGMING_MERCHANT = "+8613800000116"
FENGMING_MALL_MANAGER = "+8613800000022"
FENGMING_OFFICER = "+8613800000013"  # posted to the Fengming workstation: the second rung of the ladder there
FLAGS = 240

# Fengming's first rung is its mall manager and volunteers only (its liaisons go off duty), so the second rung, the
# officers posted to its workstation, hears of a flag only when the ladder climbs; a flag there climbs after 1 s.
SETUP = """
import json
from alliance.models import Alliance, AllianceMembership
from reports.models import EscalationPolicy
qingguo = Alliance.objects.get(slug="qingpingguo")
fengming = Alliance.objects.get(slug="fengming-golden-street")
AllianceMembership.objects.filter(alliance=fengming, role="police_liaison").update(on_duty=False)
EscalationPolicy.objects.update_or_create(alliance=fengming, defaults={"acknowledge_seconds": 1})
print(json.dumps({"qingguo": qingguo.pk, "fengming": fengming.pk}))
"""


class Phone:
    """An app with its socket open, keeping every event it receives."""

    def __init__(self, base: str, token: str):
        self.ws = connect(f"{base.replace('http', 'ws')}/ws/?token={token}")
        assert json.loads(self.ws.recv(timeout=10))["type"] == "hello"
        self.events: list[dict] = []
        self.open = True
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while self.open:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=0.5)))
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - the socket closed: stop reading
                return

    def cases(self) -> dict[int, list[dict]]:
        seen: dict[int, list[dict]] = {}
        for event in list(self.events):
            if event["type"] == "case" and event.get("case") == "dispute":
                seen.setdefault(event["dispute"]["dispute_id"], []).append(event["dispute"])
        return seen

    def cards(self) -> dict[int, list[dict]]:
        """Case cards and their updates that arrived as group lines, by dispute id."""
        seen: dict[int, list[dict]] = {}
        for event in list(self.events):
            if event["type"] != "message":
                continue
            payload = event["message"]["payload"] or {}
            card = payload.get("card") if payload.get("event") == "card_updated" else payload
            if isinstance(card, dict) and card.get("card") == "dispute":
                seen.setdefault(card["dispute_id"], []).append(card)
        return seen

    def close(self) -> None:
        self.open = False
        self.reader.join(timeout=5)
        self.ws.close()


def login(base: str, phone: str) -> str:
    status, body = http_json(
        base, "POST", "/_allauth/app/v1/auth/login", body={"phone": phone, "password": DEMO_PASSWORD}
    )
    assert status == 200, body
    return body["meta"]["session_token"]


def wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def test_the_embedded_default_delivers_every_live_event_from_the_server_and_from_the_worker(tmp_path):
    # given the embedded default, set up as dev.py run does, with the demo city
    env = embedded_default_env(tmp_path / "var")
    manage_py("migrate", "--no-input", **env)
    manage_py("seed_demo", "--quiet", **env)
    alliances = json.loads(manage_py("shell", "-c", SETUP, **env).strip().splitlines()[-1])
    with daphne_server(**env) as base, celery_worker(beat=True, **env) as worker:
        tokens = {phone: login(base, phone) for phone in QINGGUO_MERCHANTS[:4]}
        for phone in (QINGGUO_MALL_MANAGER, FENGMING_MERCHANT, FENGMING_MALL_MANAGER, FENGMING_OFFICER):
            tokens[phone] = login(base, phone)
        phones = {phone: Phone(base, token) for phone, token in tokens.items()}
        try:
            # when four merchants flag a few hundred quarrels over REST, four at a time, while the worker's periodic
            # jobs (the outbox relay among them) run beside the server
            def flag(n: int) -> tuple[str, int]:
                phone = QINGGUO_MERCHANTS[n % 4]
                status, body = http_json(
                    base,
                    "POST",
                    f"/api/v1/alliances/{alliances['qingguo']}/disputes",
                    tokens[phone],
                    {"category": "quarrel", "note": f"第{n}起"},
                )
                assert status == 201, body
                return phone, body["id"]

            with ThreadPoolExecutor(4) as pool:
                flagged = list(pool.map(flag, range(FLAGS)))
            # and a Fengming flag nobody acknowledges, which the worker's sweep (beat, every 10 s) escalates
            status, body = http_json(
                base,
                "POST",
                f"/api/v1/alliances/{alliances['fengming']}/disputes",
                tokens[FENGMING_MERCHANT],
                {"category": "theft"},
            )
            assert status == 201, body
            climbing = body["id"]

            def everything_arrived() -> bool:
                responder = phones[QINGGUO_MALL_MANAGER]
                officer_cases = phones[FENGMING_OFFICER].cases().get(climbing, [])
                officer_cards = phones[FENGMING_OFFICER].cards().get(climbing, [])
                reporter_cases = phones[FENGMING_MERCHANT].cases().get(climbing, [])
                return (
                    all(dispute_id in phones[phone].cases() for phone, dispute_id in flagged)
                    and all(dispute_id in responder.cases() for _, dispute_id in flagged)
                    and all(dispute_id in responder.cards() for _, dispute_id in flagged)
                    and any(case["level"] == 2 for case in officer_cases)
                    and any(card["level"] == 2 for card in officer_cards)
                    and any(case["level"] == 2 for case in reporter_cases)
                )

            arrived = wait_for(everything_arrived, timeout=45)
            climbed = http_json(base, "GET", f"/api/v1/disputes/{climbing}", tokens[FENGMING_MERCHANT])[1]
            assert worker.poll() is None, worker.log_tail()
        finally:
            for phone in phones.values():
                phone.close()

    # then every flag reached its reporter's and the on-duty responder's socket live, with its case card
    responder = phones[QINGGUO_MALL_MANAGER]
    missing_reporter = [dispute_id for phone, dispute_id in flagged if dispute_id not in phones[phone].cases()]
    missing_responder = [dispute_id for _, dispute_id in flagged if dispute_id not in responder.cases()]
    missing_cards = [dispute_id for _, dispute_id in flagged if dispute_id not in responder.cards()]
    assert (missing_reporter, missing_responder, missing_cards) == ([], [], [])
    # and the escalation the worker made (it did: the flag is at the second rung) reached that rung, the reporter
    # and the group, also live
    assert climbed["level"] == 2, climbed
    assert [case["level"] for case in phones[FENGMING_MALL_MANAGER].cases()[climbing]][0] == 1
    assert any(case["level"] == 2 for case in phones[FENGMING_OFFICER].cases().get(climbing, [])), "officer: no case"
    assert any(case["level"] == 2 for case in phones[FENGMING_MERCHANT].cases().get(climbing, [])), "reporter"
    assert any(card["level"] == 2 for card in phones[FENGMING_OFFICER].cards().get(climbing, [])), "no card line"
    assert arrived
