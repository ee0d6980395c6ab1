"""An alert reaching people live and in their contact groups (groups/alert_delivery.py): one event crosses the
channel layer on the ``alerts`` topic, each process's hub finds which of its own people are in the audience with one
database trip, and only they get it; the alert is counted as delivered live once per person reached; its card goes
into the contact groups the audience names; a reminder reaches only those who have not acknowledged; a withdrawal
reaches the audience and updates the cards. With the in-process layer and with real daphne processes on Redis."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import pytest
from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.utils import timezone
from websockets.sync.client import connect

from accounts.models import Role, User
from alliance.alert_audience import AudienceSpec, audience_keys_of_spec
from alliance.hooks import alert_delivery_hooks
from alliance.models import Alert, AlertAudience, AlertReceipt
from alliance.selectors.alerts import alert_summary_event
from config.asgi import application
from groups import alert_delivery
from groups import events as live_events
from groups.events import ALERTS_TOPIC, outbox_relay
from groups.models import Message, OutboxEvent
from tests.factories.alerts import alert_make as services_alert_make
from tests.factories.alerts import alert_withdraw
from tests.factories.alliance import MemberRole, member_add
from tests.fixtures.street import Street, build_street
from tests.servers import daphne_server, flush_test_broker


@dataclass
class Audience:
    street: Street
    online_in: list[User]  # merchants with the app open
    online_out: User  # the mall manager: in the prevention group, but the alert is for merchants
    offline_in: User  # a merchant with the app closed
    spec: dict


@pytest.fixture
def audience(street, user_factory) -> Audience:
    """An alert for the street's merchants, with a card in its prevention group (防宣群)."""
    offline = user_factory(roles=[Role.MERCHANT], display_name="青平果赵老板")
    member_add(street.alliance, offline, MemberRole.MERCHANT)
    spec = {"alliances": [street.alliance.pk], "groups": [street.prevention.pk], "roles": [MemberRole.MERCHANT]}
    street.refresh()
    return Audience(street, [street.merchant, street.other_merchant], street.mall_manager, offline, spec)


def alert_make(audience: Audience) -> Alert:
    """A published alert as ``alert_publish`` leaves it (stored once, with its audience keys), made here so that the
    tests below call the delivery hooks themselves, without the push and count tasks the send step queues."""
    spec = AudienceSpec.from_json(audience.spec)
    now = timezone.now()
    alert = Alert.objects.create(
        station=audience.street.station,
        kind="anti_fraud",
        severity="urgent",
        title="冒充客服退款诈骗",
        body="有人冒充电商客服以退款为由索要验证码，请勿转账。",
        status="published",
        audience=spec.as_json(),
        requires_ack=True,
        published_by=audience.street.station_officer,
        published_at=now,
        publish_at=now,
    )
    AlertAudience.objects.bulk_create(
        AlertAudience(alert=alert, kind=kind, target_id=target_id, role=role, key=key)
        for kind, target_id, role, key in audience_keys_of_spec(spec)
    )
    return alert


def event_of(kind: str, alert: Alert) -> dict:
    return alert_summary_event(alert, event_type=kind)  # the event alliance/services/alerts.py hands the hook


def alert_sent(alert: Alert) -> None:
    with transaction.atomic():
        alert_delivery_hooks.alert_sent(alert=alert, event=event_of("alert", alert))


def alert_reminded(alert: Alert) -> None:
    with transaction.atomic():
        alert_delivery_hooks.alert_reminder(alert=alert, event=event_of("alert_reminder", alert))


def alert_withdrawn(alert: Alert) -> None:
    with transaction.atomic():
        Alert.objects.filter(pk=alert.pk).update(status="withdrawn", withdrawn_at=timezone.now())
        alert.refresh_from_db()
        alert_delivery_hooks.alert_withdrawn(alert=alert, event=event_of("alert_withdrawn", alert))


def acknowledged(alert: Alert, user: User) -> None:
    AlertReceipt.objects.create(alert=alert, user=user, acknowledged_at=timezone.now())


def alert_cards(alert: Alert) -> list[Message]:
    return list(Message.objects.filter(kind=Message.Kind.CARD, payload__alert=alert.pk).order_by("group_id", "seq"))


# --- one process, the in-process layer ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_alert_reaches_the_online_audience_once_and_its_card_the_named_group(audience, client_factory, monkeypatch):
    people = [*audience.online_in, audience.online_out]
    tokens = {user.pk: client_factory().login_with_password(str(user.phone)) for user in people}
    layer = get_channel_layer()
    crossed, hops = [], []
    real_group_send, real_hop = layer.group_send, SyncToAsync.__call__

    async def counting_group_send(group, message):
        crossed.append(group)
        await real_group_send(group, message)

    async def counting_hop(self, *args, **kwargs):
        hops.append(getattr(self.func, "__name__", repr(self.func)))
        return await real_hop(self, *args, **kwargs)

    monkeypatch.setattr(layer, "group_send", counting_group_send)
    monkeypatch.setattr(SyncToAsync, "__call__", counting_hop)
    alert = alert_make(audience)
    last_seq = audience.street.prevention.last_seq

    async def scenario():
        sockets = {}
        for user_id, token in tokens.items():
            if len(sockets) == 1:
                hops.clear()  # the first socket has made its process listen to the groups: connects from now on
            sockets[user_id] = WebsocketCommunicator(application, f"/ws/?token={token}")
            await sockets[user_id].connect()
            assert (await sockets[user_id].receive_json_from(timeout=5))["type"] == "hello"
        # (the server's once-a-second outbox relay is no part of a connect)
        connect_hops = [hop for hop in hops if hop != "outbox_relay_if_pending"]
        hops.clear()

        # when the alert is sent (a card line in the prevention group, and the live event)
        await database_sync_to_async(alert_sent)(alert)
        received = {
            user.pk: [await sockets[user.pk].receive_json_from(timeout=5) for _ in range(2)]
            for user in audience.online_in
        }
        received[audience.online_out.pk] = [await sockets[audience.online_out.pk].receive_json_from(timeout=5)]
        nothing_more = [await socket.receive_nothing(timeout=0.3) for socket in sockets.values()]
        for socket in sockets.values():
            await socket.disconnect()
        return connect_hops, received, nothing_more

    connect_hops, received, nothing_more = asyncio.run(scenario())

    # then the two merchants online got the alert and its card, the mall manager only the card line of his group
    alert_events = {user_id: [e for e in events if e["type"] == "alert"] for user_id, events in received.items()}
    assert {user_id for user_id, events in alert_events.items() if events} == {u.pk for u in audience.online_in}
    assert all(events[0]["alert"]["id"] == alert.pk for events in alert_events.values() if events)
    assert all(nothing_more)
    (card,) = alert_cards(alert)
    assert card.group_id == audience.street.prevention.pk and card.seq == last_seq + 1
    assert card.sender_id == audience.street.station_officer.pk
    assert card.payload == {
        "card": "alert",
        "type": "alert",
        "alert": alert.pk,
        "kind": "anti_fraud",
        "severity": "urgent",
        "title": "",  # for merchants only: the mall manager in the group sees the card, not what it says
        "roles": ["merchant"],
        "requires_ack": True,
        "publish_at": card.payload["publish_at"],
        "status": "published",
    }
    assert card.payload["publish_at"]
    for events in received.values():
        (line,) = [e for e in events if e["type"] == "message"]
        assert (line["group"], line["seq"], line["message"]["payload"]["alert"]) == (card.group_id, card.seq, alert.pk)
    # counted once per person reached; the offline merchant is left to the inbox and the push
    alert.refresh_from_db()
    assert alert.live_count == 2
    # one channel-layer message for everyone (beside the card's group line), one database trip for the process, and
    # nothing at all for alerts while the sockets connected: one trip each, as before
    assert sorted(crossed) == sorted([ALERTS_TOPIC, f"group.{card.group_id}"])
    assert hops.count("_reached_here") == 1
    assert connect_hops == ["_open_session"] * 2


@pytest.mark.django_db(transaction=True)
def test_a_reminder_reaches_only_who_has_not_acknowledged_and_a_withdrawal_updates_the_card(audience, client_factory):
    merchant, acknowledging = audience.online_in
    tokens = {user.pk: client_factory().login_with_password(str(user.phone)) for user in audience.online_in}
    alert = alert_make(audience)
    alert_sent(alert)  # before anyone connects: they find it in the inbox
    acknowledged(alert, acknowledging)

    async def scenario():
        sockets = {}
        for user_id, token in tokens.items():
            sockets[user_id] = WebsocketCommunicator(application, f"/ws/?token={token}")
            await sockets[user_id].connect()
            await sockets[user_id].receive_json_from(timeout=5)  # hello
        # when the reminder goes out
        await database_sync_to_async(alert_reminded)(alert)
        reminded = await sockets[merchant.pk].receive_json_from(timeout=5)
        acknowledger_left_alone = await sockets[acknowledging.pk].receive_nothing(timeout=0.5)
        # and then the alert is withdrawn
        await database_sync_to_async(alert_withdrawn)(alert)
        withdrawn = {
            user_id: [await s.receive_json_from(timeout=5) for _ in range(2)] for user_id, s in sockets.items()
        }
        for socket in sockets.values():
            await socket.disconnect()
        return reminded, acknowledger_left_alone, withdrawn

    reminded, acknowledger_left_alone, withdrawn = asyncio.run(scenario())

    # then only the merchant who has not acknowledged was reminded, and the reminder counts no new delivery
    assert reminded["type"] == "alert_reminder" and reminded["alert"]["id"] == alert.pk
    assert acknowledger_left_alone
    alert.refresh_from_db()
    assert alert.live_count == 0
    # the withdrawal reached both, with the card's update line in the group
    (card,) = alert_cards(alert)
    assert card.payload["status"] == "withdrawn" and card.payload["alert"] == alert.pk
    for events in withdrawn.values():
        assert sorted(event["type"] for event in events) == ["alert_withdrawn", "message"]
        (line,) = [event for event in events if event["type"] == "message"]
        assert line["message"]["payload"]["event"] == "card_updated"
        assert line["message"]["payload"]["target_seq"] == card.seq
        assert line["message"]["payload"]["card"]["status"] == "withdrawn"


@pytest.mark.django_db(transaction=True)
def test_an_alert_sent_by_a_process_without_sockets_waits_in_the_outbox_for_the_server(
    audience, client_factory, settings, monkeypatch
):
    # given the embedded default's worker (the in-process layer, no sockets here): its events go to the outbox
    token = client_factory().login_with_password(str(audience.online_in[0].phone))
    alert = alert_make(audience)
    with monkeypatch.context() as worker:
        worker.setattr(live_events, "_holds_sockets", False)
        worker.setattr(settings, "LIVE_EVENTS_PROCESS_HOLDS_SOCKETS", False)
        alert_sent(alert)
    (row,) = OutboxEvent.objects.filter(topics=[ALERTS_TOPIC], sent_at__isnull=True)

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/?token={token}")
        await socket.connect()
        await socket.receive_json_from(timeout=5)  # hello: the card line is in its groups' seqs already
        # when the server's hub relays the outbox (groups/delivery.py does it every second)
        await database_sync_to_async(outbox_relay)()
        event = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return event

    event = asyncio.run(scenario())

    # then the alert reached the merchant through the server, with the routing the hubs need kept in the outbox
    assert row.meta == {"group": None, "seq": None, "alert": alert.pk, "audience": "audience", "purpose": "sent"}
    assert (event["type"], event["alert"]["id"]) == ("alert", alert.pk)
    assert Alert.objects.get(pk=alert.pk).live_count == 1


@pytest.mark.django_db(transaction=True)
def test_an_archived_group_gets_no_card_and_an_alert_unknown_to_the_database_reaches_nobody(audience):
    # given an audience naming the street's prevention group and its main group, archived
    audience.street.main.is_archived = True
    audience.street.main.save(update_fields=["is_archived"])
    audience.spec["groups"] = [audience.street.prevention.pk, audience.street.main.pk]
    alert = alert_make(audience)

    # when it is sent
    alert_sent(alert)

    # then only the group in use holds its card
    assert [card.group_id for card in alert_cards(alert)] == [audience.street.prevention.pk]
    # and a hub asked about an alert that is gone reaches nobody (and counts nothing)
    assert (
        alert_delivery._reached_here(alert_id=alert.pk + 1000, audience="audience", count=True, user_ids=[1, 2]) == []
    )


@pytest.mark.django_db
def test_publishing_and_withdrawing_through_the_alert_services_reach_the_hook(user_factory):
    # given a police admin's street, and an alert for its merchants with a card in its prevention group
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="青平果所长")
    street = build_street(user_factory, name="青平果联盟", slug="qingpingguo", police_admin=admin)
    spec = {"alliances": [street.alliance.pk], "groups": [street.prevention.pk], "roles": [MemberRole.MERCHANT]}

    # when it is published (sent at once) and then withdrawn
    alert = services_alert_make(actor=admin, station=street.station, audience=spec, requires_ack=True)
    (card,) = alert_cards(alert)
    alert_withdraw(actor=admin, alert=alert)

    # then one durable event per step went to every hub, naming the alert and whom it is for, and the card, posted
    # by the admin in the prevention group, now says the alert is withdrawn
    routed = [
        (json.loads(row.payload)["type"], row.meta)
        for row in OutboxEvent.objects.filter(topics=[ALERTS_TOPIC]).order_by("pk")
    ]
    assert routed == [
        ("alert", {"group": None, "seq": None, "alert": alert.pk, "audience": "audience", "purpose": "sent"}),
        (
            "alert_withdrawn",
            {"group": None, "seq": None, "alert": alert.pk, "audience": "audience", "purpose": "withdrawn"},
        ),
    ]
    card.refresh_from_db()
    assert (card.group_id, card.sender_id, card.payload["status"]) == (street.prevention.pk, admin.pk, "withdrawn")
    update = Message.objects.get(group=street.prevention, seq=card.seq + 1)
    assert update.payload["event"] == "card_updated" and update.payload["target_seq"] == card.seq


# --- real server processes on Redis ---------------------------------------------------------------------------------


class Phone:
    """A phone with the app open on a server process, keeping every event it receives."""

    def __init__(self, base: str, token: str):
        self.ws = connect(f"{base.replace('http', 'ws')}/ws/?token={token}")
        assert json.loads(self.ws.recv(timeout=10))["type"] == "hello"
        self.events: list[dict] = []

    def read_for(self, seconds: float) -> list[dict]:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                break
        return self.events

    def wait_for(self, kind: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["type"] == kind:
                    return event
            self.read_for(min(0.2, max(0.01, deadline - time.monotonic())))
            if time.monotonic() > deadline:
                raise AssertionError(f"no {kind} event within {timeout} s: {[e['type'] for e in self.events]}")

    def kinds(self) -> list[str]:
        return [event["type"] for event in self.events]


def wait_until(check, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


@pytest.mark.slow
@pytest.mark.needs_redis
@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_server_processes_on_redis_deliver_an_alert_to_exactly_their_people_in_the_audience(
    audience, client_factory, settings
):
    # given two daphne processes on Redis, a merchant of the audience on each, the mall manager (not in it) on the
    # first, and the offline merchant nowhere; this process publishes on the same Redis
    url = settings.TEST_REDIS_URL
    flush_test_broker(url)
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url]}}
    }
    merchant, other_merchant = audience.online_in
    tokens = {
        user.pk: client_factory().login_with_password(str(user.phone))
        for user in (merchant, other_merchant, audience.online_out)
    }
    alert = alert_make(audience)
    last_seq = audience.street.prevention.last_seq
    with daphne_server(REDIS_URL=url) as first, daphne_server(REDIS_URL=url) as second:
        phones = {
            merchant.pk: Phone(first, tokens[merchant.pk]),
            other_merchant.pk: Phone(second, tokens[other_merchant.pk]),
            audience.online_out.pk: Phone(first, tokens[audience.online_out.pk]),
        }
        try:
            # when the alert is sent
            alert_sent(alert)
            got = {
                user_id: phone.wait_for("alert")
                for user_id, phone in phones.items()
                if user_id != audience.online_out.pk
            }
            card_lines = {user_id: phone.wait_for("message") for user_id, phone in phones.items()}
            phones[audience.online_out.pk].read_for(1.0)
            counted = wait_until(lambda: Alert.objects.get(pk=alert.pk).live_count == 2)
            live_count = Alert.objects.get(pk=alert.pk).live_count

            # and, the other merchant having acknowledged, the reminder goes out
            acknowledged(alert, other_merchant)
            alert_reminded(alert)
            reminded = phones[merchant.pk].wait_for("alert_reminder")
            phones[other_merchant.pk].read_for(1.0)

            # and then the alert is withdrawn
            alert_withdrawn(alert)
            withdrawn = {user_id: phones[user_id].wait_for("alert_withdrawn") for user_id in got}
            for phone in phones.values():
                phone.read_for(1.0)
        finally:
            for phone in phones.values():
                phone.ws.close()

    # then exactly the two merchants, one on each process, got the alert; the mall manager only its card line
    assert {user_id: event["alert"]["id"] for user_id, event in got.items()} == {
        merchant.pk: alert.pk,
        other_merchant.pk: alert.pk,
    }
    assert "alert" not in phones[audience.online_out.pk].kinds()
    assert counted, live_count
    (card,) = alert_cards(alert)
    assert card.seq == last_seq + 1
    assert {(line["group"], line["seq"]) for line in card_lines.values()} == {(card.group_id, card.seq)}
    # the reminder reached only the merchant who had not acknowledged
    assert reminded["alert"]["id"] == alert.pk
    assert "alert_reminder" not in phones[other_merchant.pk].kinds()
    # the withdrawal reached both and the card now says so, in the group and in the line every member received
    assert set(withdrawn) == {merchant.pk, other_merchant.pk}
    assert card.payload["status"] == "withdrawn"
    updates = [
        event["message"]["payload"]
        for event in phones[audience.online_out.pk].events
        if event["type"] == "message" and event["message"]["kind"] == "system"
    ]
    assert [(u["event"], u["target_seq"], u["card"]["status"]) for u in updates] == [
        ("card_updated", card.seq, "withdrawn")
    ]
    assert Alert.objects.get(pk=alert.pk).live_count == 2  # neither the reminder nor the withdrawal counts again


@pytest.mark.django_db
def test_an_alert_to_everyone_in_a_group_shows_its_title_on_the_card(audience):
    # given an alert to everyone in the prevention group (no roles)
    audience.spec = {"groups": [audience.street.prevention.pk]}
    alert = alert_make(audience)

    # when it is sent
    alert_sent(alert)

    # then its card carries the title
    (card,) = alert_cards(alert)
    assert (card.payload["title"], card.payload["roles"]) == ("冒充客服退款诈骗", [])
