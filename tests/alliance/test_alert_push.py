"""Mobile push of alerts: the audience's devices planned once into batches per provider, each batch claimed and sent
once, dead tokens dropped, a provider that is down retried with backoff without sending any device twice."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.utils import timezone

from accounts import push
from accounts.models import DeviceRegistration, Role
from accounts.push import PushResult, PushTemporaryError, RecordingPushProvider
from accounts.services import device_register
from alliance.alert_audience import AudienceSpec, audience_keys_of_spec
from alliance.models import Alert, AlertAudience, AlertPushBatch, AlertReceipt
from alliance.services import alert_push
from alliance.services.alert_push import alert_push_batch_send, alert_push_message, alert_push_plan
from alliance.services.alerts import AlertContent, alert_create, alert_publish
from alliance.tasks import push_alert_task, resend_stale_push_batches_task, send_alert_push_batch_task
from tests.fixtures.street import build_street

pytestmark = pytest.mark.django_db

APNS_TOKEN = "ab" * 32


def alert_make(
    street, *, severity="urgent", requires_ack=False, body="冒充客服退款，要求下载会议软件共享屏幕的，都是诈骗。"
):
    """A published, sent alert to the street's alliance (as the lead's services leave one), with its audience keys."""
    spec = AudienceSpec(alliances=[street.alliance.pk])
    now = timezone.now()
    alert = Alert.objects.create(
        station=street.station,
        kind="anti_fraud",
        severity=severity,
        title="警惕冒充客服退款诈骗",
        body=body,
        status="published",
        audience=spec.as_json(),
        requires_ack=requires_ack,
        publish_at=now,
        published_at=now,
        sent_at=now,
    )
    AlertAudience.objects.bulk_create(
        AlertAudience(alert=alert, kind=kind, target_id=target, role=role, key=key)
        for kind, target, role, key in audience_keys_of_spec(spec)
    )
    return alert


@pytest.fixture
def phones(street, other_street):
    """The street's merchant on JPush, the other merchant on an iPhone, the mall manager on FCM; a merchant of
    another street (not in the audience) on JPush."""

    def phone(user, platform, provider, token):
        return device_register(user=user, platform=platform, provider=provider, token=token)[0]

    return {
        "merchant": phone(street.merchant, "android", "jpush", "rid-merchant"),
        "other": phone(street.other_merchant, "ios", "apns", APNS_TOKEN),
        "manager": phone(street.mall_manager, "android", "fcm", "fcm-mgr"),
        "outsider": phone(other_street.merchant, "android", "jpush", "rid-outsider"),
    }


@pytest.fixture
def retries_inline():
    """Eager tasks run their retries at once, in the same call (without the backoff's wait), instead of raising."""
    conf = send_alert_push_batch_task.app.conf
    before = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = before


def _sent_tokens() -> dict[str, list[str]]:
    sent: dict[str, list[str]] = {}
    for provider, tokens, _message in push.recorded:
        sent.setdefault(provider, []).extend(tokens)
    return sent


# --- the whole way, from publishing -------------------------------------------------------------------------------


def test_publishing_an_urgent_alert_pushes_each_device_of_the_audience_once(
    user_factory, django_capture_on_commit_callbacks
):
    # given a police admin's street, its people's phones, and a phone elsewhere
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])
    street = build_street(user_factory, name="青果巷联盟", slug="qingguo", police_admin=admin)
    other = build_street(user_factory, name="金街联盟", slug="jinjie")
    device_register(user=street.merchant, platform="android", provider="jpush", token="rid-merchant")
    device_register(user=street.other_merchant, platform="ios", provider="apns", token=APNS_TOKEN)
    device_register(user=other.merchant, platform="android", provider="jpush", token="rid-elsewhere")
    content = AlertContent(kind="anti_fraud", title="警惕冒充客服", body="不要共享屏幕。", severity="urgent",
                           audience=AudienceSpec(alliances=[street.alliance.pk]))  # fmt: skip
    alert = alert_create(actor=admin, station=street.station, content=content)

    # when it is published (the follow-up tasks run after commit)
    with django_capture_on_commit_callbacks(execute=True):
        alert_publish(actor=admin, alert=alert)

    # then each device of the audience got it once, and nobody else's
    assert _sent_tokens() == {"apns": [APNS_TOKEN], "jpush": ["rid-merchant"]}
    alert.refresh_from_db()
    assert alert.pushed_count == 2
    assert set(AlertPushBatch.objects.filter(alert=alert).values_list("status", flat=True)) == {"sent"}


def test_a_normal_alert_is_not_pushed(user_factory, django_capture_on_commit_callbacks):
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])
    street = build_street(user_factory, name="青果巷联盟", slug="qingguo", police_admin=admin)
    device_register(user=street.merchant, platform="android", provider="jpush", token="rid-merchant")
    content = AlertContent(kind="safety_tip", title="防火", body="检查灭火器。", severity="normal",
                           audience=AudienceSpec(alliances=[street.alliance.pk]))  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        alert_publish(actor=admin, alert=alert_create(actor=admin, station=street.station, content=content))

    assert push.recorded == []


# --- the plan -----------------------------------------------------------------------------------------------------


def test_the_plan_groups_the_audiences_devices_per_provider_in_id_order_and_batch_size(street, phones, monkeypatch):
    # given batches of two, and three more JPush phones in the audience
    monkeypatch.setattr(RecordingPushProvider, "batch_size", 2)
    extra = [
        device_register(user=street.merchant, platform="android", provider="jpush", token=f"rid-extra-{n}")[0]
        for n in range(3)
    ]
    alert = alert_make(street)

    # when
    alert_push_plan(alert=alert, purpose="alert")

    # then
    batches = list(AlertPushBatch.objects.filter(alert=alert).order_by("provider", "first_device_id"))
    jpush_ids = sorted([phones["merchant"].pk, *(d.pk for d in extra)])
    assert [(b.provider, b.device_ids) for b in batches] == [
        ("apns", [phones["other"].pk]),
        ("fcm", [phones["manager"].pk]),
        ("jpush", jpush_ids[:2]),
        ("jpush", jpush_ids[2:]),
    ]
    assert all(b.first_device_id == b.device_ids[0] and b.last_device_id == b.device_ids[-1] for b in batches)
    assert phones["outsider"].pk not in {i for b in batches for i in b.device_ids}


def test_a_second_plan_writes_nothing_new_even_with_new_devices(street, phones):
    # given a plan made
    alert = alert_make(street)
    alert_push_plan(alert=alert, purpose="alert")
    device_register(user=street.merchant, platform="android", provider="jpush", token="rid-second-phone")

    # when it runs again (a retried or duplicated task)
    again = alert_push_plan(alert=alert, purpose="alert")

    # then
    assert again == []
    assert AlertPushBatch.objects.filter(alert=alert).count() == 3


def test_the_reminder_goes_to_those_who_have_not_acknowledged(street, phones):
    # given an alert to acknowledge, which the merchant acknowledged and the other merchant only read
    alert = alert_make(street, requires_ack=True)
    AlertReceipt.objects.create(alert=alert, user=street.merchant, acknowledged_at=timezone.now())
    AlertReceipt.objects.create(alert=alert, user=street.other_merchant)

    # when
    push_alert_task(alert.pk, "reminder")

    # then
    assert _sent_tokens() == {"apns": [APNS_TOKEN], "fcm": ["fcm-mgr"]}
    assert {message.data["purpose"] for _p, _t, message in push.recorded} == {"reminder"}


def test_no_reminder_push_for_an_alert_without_acknowledgement(street, phones):
    alert = alert_make(street, requires_ack=False)

    assert alert_push_plan(alert=alert, purpose="reminder") == []
    assert not AlertPushBatch.objects.exists()


def test_a_withdrawn_alert_is_not_planned_and_its_pending_batches_are_not_sent(street, phones):
    # given a plan made, then the alert withdrawn
    alert = alert_make(street)
    alert_push_plan(alert=alert, purpose="alert")
    Alert.objects.filter(pk=alert.pk).update(status="withdrawn")

    # when the batches' tasks run, and a new plan is asked
    for batch in AlertPushBatch.objects.filter(alert=alert):
        send_alert_push_batch_task.delay(batch.pk)
    replanned = alert_push_plan(alert=alert, purpose="reminder")

    # then nothing went out
    assert push.recorded == [] and replanned == []
    assert set(AlertPushBatch.objects.filter(alert=alert).values_list("status", flat=True)) == {"failed"}


# --- the message --------------------------------------------------------------------------------------------------


def test_the_message_is_the_title_the_start_of_the_text_and_the_alerts_ids(street):
    alert = alert_make(street, body="诈" * 150)

    message = alert_push_message(alert=alert, purpose="alert")

    assert message.title == "警惕冒充客服退款诈骗"
    assert len(message.body) == 100 and message.body.endswith("…")
    assert message.data == {"alert": alert.pk, "kind": "anti_fraud", "severity": "urgent", "purpose": "alert"}
    assert message.urgent and message.collapse_id == f"alert-{alert.pk}"


# --- sending ------------------------------------------------------------------------------------------------------


def test_a_sent_batch_is_never_sent_again(street, phones):
    # given the alert pushed
    alert = alert_make(street)
    push_alert_task(alert.pk, "alert")
    sends = len(push.recorded)

    # when the tasks run again (a redelivered message, a second run)
    push_alert_task(alert.pk, "alert")
    for batch in AlertPushBatch.objects.filter(alert=alert):
        assert send_alert_push_batch_task.delay(batch.pk).result is None

    # then nothing more went out and the count stayed
    assert len(push.recorded) == sends == 3
    alert.refresh_from_db()
    assert alert.pushed_count == 3
    assert list(AlertPushBatch.objects.filter(alert=alert).values_list("delivered", flat=True)) == [1, 1, 1]


def test_dead_tokens_are_deleted_and_not_counted(street, phones):
    # given the provider says the iPhone's token is dead
    push.recording_dead.add(APNS_TOKEN)
    alert = alert_make(street)

    # when
    push_alert_task(alert.pk, "alert")

    # then
    assert not DeviceRegistration.objects.filter(pk=phones["other"].pk).exists()
    assert DeviceRegistration.objects.filter(pk=phones["merchant"].pk).exists()
    alert.refresh_from_db()
    assert alert.pushed_count == 2


class _FlakyProvider:
    """Takes the first token, then fails for the rest: the first attempt; later attempts take everything."""

    name = "jpush"
    batch_size = 1000

    def __init__(self):
        self.calls: list[list[str]] = []

    def send(self, tokens, message):
        self.calls.append(list(tokens))
        if len(self.calls) == 1:
            raise PushTemporaryError("connection reset", done=PushResult(delivered=tokens[:1]))
        return PushResult(delivered=list(tokens))


def test_a_retry_sends_only_the_devices_the_provider_had_not_taken(street, phones, monkeypatch, retries_inline):
    # given two JPush phones in one batch, and a provider that fails after taking the first
    second = device_register(user=street.other_merchant, platform="android", provider="jpush", token="rid-second")[0]
    flaky = _FlakyProvider()
    monkeypatch.setattr(alert_push, "get_push_provider", lambda name: flaky)
    alert = alert_make(street)
    alert_push_plan(alert=alert, purpose="alert")
    batch = AlertPushBatch.objects.get(alert=alert, provider="jpush")

    # when the batch's task runs (and retries)
    send_alert_push_batch_task.delay(batch.pk)

    # then the first phone was sent once, the second on the retry
    assert flaky.calls == [["rid-merchant", "rid-second"], ["rid-second"]]
    batch.refresh_from_db()
    assert batch.status == "sent" and batch.delivered == 2 and batch.attempts == 2
    assert second.pk not in batch.device_ids


# --- against the JPush stand-in -----------------------------------------------------------------------------------


@pytest.fixture
def jpush_stand_in(settings):
    """JPush's push API on 127.0.0.1, answering each request with the next status of ``statuses`` (the last one
    repeats); the real JPush provider is configured to use it."""
    state = {"statuses": [200], "requests": []}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state["requests"].append(body["audience"]["registration_id"])
            status = state["statuses"].pop(0) if len(state["statuses"]) > 1 else state["statuses"][0]
            code = 1004 if status == 401 else 1000  # authentication failed; JPush's own system error
            answer = {"sendno": "0", "msg_id": "1"} if status == 200 else {"error": {"code": code, "message": "x"}}
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    settings.PUSH_PROVIDERS = {"jpush": "jpush", "apns": "recording", "fcm": "recording"}
    settings.PUSH_JPUSH_APP_KEY, settings.PUSH_JPUSH_MASTER_SECRET = "key", "secret"
    settings.PUSH_JPUSH_ENDPOINT = f"http://127.0.0.1:{server.server_port}/v3/push"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _jpush_batch(street) -> AlertPushBatch:
    alert = alert_make(street)
    alert_push_plan(alert=alert, purpose="alert")
    return AlertPushBatch.objects.get(alert=alert, provider="jpush")


def test_a_provider_that_fails_twice_then_answers_gets_the_batch_once(street, phones, jpush_stand_in, retries_inline):
    # given JPush answering 503 twice, then 200
    jpush_stand_in["statuses"] = [503, 503, 200]
    batch = _jpush_batch(street)

    # when the batch's task runs (eagerly here: each retry runs at once)
    send_alert_push_batch_task.delay(batch.pk)

    # then three requests reached JPush, the batch is sent once, counted once
    assert jpush_stand_in["requests"] == [["rid-merchant"]] * 3
    batch.refresh_from_db()
    assert batch.status == "sent" and batch.attempts == 3 and batch.delivered == 1
    assert Alert.objects.get(pk=batch.alert_id).pushed_count == 1


def test_a_provider_down_for_good_fails_the_batch_after_the_last_retry(street, phones, jpush_stand_in, retries_inline):
    # given JPush answering 503 to everything
    jpush_stand_in["statuses"] = [503]
    batch = _jpush_batch(street)

    # when
    result = send_alert_push_batch_task.delay(batch.pk)

    # then one try and five retries, the last reaching nobody, and the batch is failed with the reason
    assert len(jpush_stand_in["requests"]) == 6
    assert result.result == 0
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.attempts == 6 and "503" in batch.last_error
    assert Alert.objects.get(pk=batch.alert_id).pushed_count == 0


def test_a_refusal_fails_the_batch_at_once(street, phones, jpush_stand_in):
    # given JPush refusing our credentials
    jpush_stand_in["statuses"] = [401]
    batch = _jpush_batch(street)

    # when
    send_alert_push_batch_task.delay(batch.pk)

    # then
    assert len(jpush_stand_in["requests"]) == 1
    batch.refresh_from_db()
    assert batch.status == "failed" and "1004" in batch.last_error


class _SlowProvider:
    """Holds its send until released: a worker in the middle of a provider's round trip."""

    name = "fcm"
    batch_size = 1000

    def __init__(self):
        self.sending, self.release = threading.Event(), threading.Event()
        self.calls = 0

    def send(self, tokens, message):
        self.calls += 1
        self.sending.set()
        assert self.release.wait(10)
        return PushResult(delivered=list(tokens))


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_batch_send_it_once(street, phones, monkeypatch):
    # given a batch, and a worker that has claimed it and is waiting for the provider
    slow = _SlowProvider()
    monkeypatch.setattr(alert_push, "get_push_provider", lambda name: slow)
    alert = alert_make(street)
    alert_push_plan(alert=alert, purpose="alert")
    batch = AlertPushBatch.objects.get(alert=alert, provider="fcm")
    results = {}

    def first_worker():
        try:
            results["first"] = alert_push_batch_send(batch_id=batch.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=first_worker)
    worker.start()
    assert slow.sending.wait(10)

    # when a second worker runs the same batch (a duplicated or redelivered message) meanwhile
    results["second"] = alert_push_batch_send(batch_id=batch.pk)
    slow.release.set()
    worker.join(10)

    # then it skipped the locked batch; the first sent it, once
    assert results == {"first": 1, "second": None}
    assert slow.calls == 1
    assert AlertPushBatch.objects.get(pk=batch.pk).status == "sent"


def test_the_sweep_queues_again_a_batch_whose_task_was_lost(street, phones):
    # given a plan whose send tasks never reached the broker, one batch planned twenty minutes ago
    alert = alert_make(street)
    alert_push_plan(alert=alert, purpose="alert")
    lost = AlertPushBatch.objects.get(alert=alert, provider="jpush")
    AlertPushBatch.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=20))

    # when the sweep runs
    queued = resend_stale_push_batches_task.delay().result

    # then the old batch was sent, the fresh ones left to their own tasks
    assert queued == 1
    assert _sent_tokens() == {"jpush": ["rid-merchant"]}
    assert AlertPushBatch.objects.get(pk=lost.pk).status == "sent"
    assert AlertPushBatch.objects.filter(alert=alert, status="pending").count() == 2


def test_a_batch_failing_past_the_attempts_in_all_is_failed_not_queued_again(street, phones, jpush_stand_in):
    # given a batch that has used up all but one of its attempts
    jpush_stand_in["statuses"] = [503]
    batch = _jpush_batch(street)
    AlertPushBatch.objects.filter(pk=batch.pk).update(attempts=alert_push.MAX_ATTEMPTS - 1)

    # when it is tried once more and fails
    reached = alert_push_batch_send(batch_id=batch.pk)

    # then it is failed for good (nothing raised: no retry)
    assert reached == 0
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.attempts == alert_push.MAX_ATTEMPTS


def test_a_deactivated_persons_phone_is_not_pushed(street, phones):
    # given the other merchant's account deactivated
    street.other_merchant.is_active = False
    street.other_merchant.save(update_fields=["is_active"])
    alert = alert_make(street)

    # when
    push_alert_task(alert.pk, "alert")

    # then
    assert APNS_TOKEN not in _sent_tokens().get("apns", [])
    assert _sent_tokens() == {"fcm": ["fcm-mgr"], "jpush": ["rid-merchant"]}


class _BrokenProvider:
    name = "fcm"
    batch_size = 1000

    def send(self, tokens, message):
        raise KeyError("a bug in a provider")


def test_a_provider_that_breaks_counts_an_attempt_and_is_retried_like_an_outage(street, phones, monkeypatch):
    # given a provider whose send raises something unexpected
    monkeypatch.setattr(alert_push, "get_push_provider", lambda name: _BrokenProvider())
    alert = alert_make(street)
    alert_push_plan(alert=alert, purpose="alert")
    batch = AlertPushBatch.objects.get(alert=alert, provider="fcm")

    # when
    with pytest.raises(PushTemporaryError):
        alert_push_batch_send(batch_id=batch.pk)

    # then the attempt is recorded (so the attempts in all end it), with the reason
    batch.refresh_from_db()
    assert batch.status == "pending" and batch.attempts == 1 and "KeyError" in batch.last_error
