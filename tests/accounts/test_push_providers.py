"""Push providers: the console default, the recording double, and the real JPush, APNs and FCM providers, each against
a local stand-in for its HTTP API on 127.0.0.1 (this machine cannot reach the real ones), as the Aliyun SMS provider
is tested. The APNs stand-in speaks HTTP/2 (h2c with prior knowledge), as Apple's servers only speak HTTP/2."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import h2.config
import h2.connection
import h2.events
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from accounts import push
from accounts.push import (
    ApnsProvider,
    FcmProvider,
    JPushProvider,
    PushDeliveryError,
    PushMessage,
    PushTemporaryError,
    RecordingPushProvider,
    get_push_provider,
)
from tests.servers import ROOT

MESSAGE = PushMessage(
    title="防诈预警",
    body="冒充客服退款的电话",
    data={"alert": 7, "kind": "anti_fraud"},
    urgent=True,
    collapse_id="alert-7",
)


def _pem(private_key) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


# --- console and recording ---------------------------------------------------------------------------------------


def test_console_is_the_default_and_logs_the_message(settings, caplog):
    # given the settings of the embedded default
    settings.PUSH_PROVIDERS = {"jpush": "console", "apns": "console", "fcm": "console"}

    # when
    result = get_push_provider("jpush").send(["rid-1", "rid-2"], MESSAGE)

    # then
    assert result.delivered == ["rid-1", "rid-2"] and result.dead == []
    assert "防诈预警" in caplog.text and "2 device(s)" in caplog.text


def test_recording_keeps_every_send_and_answers_the_configured_dead_tokens(settings):
    # given
    push.recording_dead.add("gone")

    # when
    result = get_push_provider("apns").send(["live", "gone"], MESSAGE)

    # then
    assert push.recorded == [("apns", ["live", "gone"], MESSAGE)]
    assert result.delivered == ["live"] and result.dead == ["gone"]


def test_an_unknown_provider_setting_is_an_error(settings):
    settings.PUSH_PROVIDERS = {"jpush": "carrier-pigeon"}

    with pytest.raises(ValueError, match="carrier-pigeon"):
        get_push_provider("jpush")


def test_a_real_provider_without_credentials_refuses_to_start(settings):
    settings.PUSH_PROVIDERS = {"jpush": "jpush", "apns": "apns", "fcm": "fcm"}
    settings.PUSH_JPUSH_APP_KEY = ""
    settings.PUSH_APNS_TEAM_ID = ""
    settings.PUSH_FCM_SERVICE_ACCOUNT_JSON = ""

    for name in ("jpush", "apns", "fcm"):
        with pytest.raises(PushDeliveryError):
            get_push_provider(name)


# --- JPush -------------------------------------------------------------------------------------------------------


class _Stand_in:  # noqa: N801 - a small namespace of what the stand-in saw and will answer
    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []  # consumed in order; the last one repeats
        self.lock = threading.Lock()

    def answer(self) -> tuple[int, dict]:
        with self.lock:
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def http_stand_in():
    """A loopback HTTP/1.1 server that records each request (path, headers, body) and answers from a list."""
    stand_in = _Stand_in()
    stand_in.answers = [(200, {"sendno": "0", "msg_id": "54043195528"})]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with stand_in.lock:
                stand_in.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status, answer = stand_in.answer()
            if callable(answer):
                status, answer = answer(self.path, body)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    stand_in.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


def jpush(endpoint: str) -> JPushProvider:
    return JPushProvider(app_key="app-key-1", master_secret="master-2", endpoint=endpoint, apns_production=False)


def test_jpush_sends_one_request_with_basic_auth_and_the_registration_ids(http_stand_in):
    # when
    result = jpush(f"{http_stand_in.url}/v3/push").send(["rid-1", "rid-2"], MESSAGE)

    # then
    [request] = http_stand_in.requests
    assert request["path"] == "/v3/push"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"app-key-1:master-2").decode()
    assert json.loads(request["body"]) == {
        "platform": ["android", "ios"],
        "audience": {"registration_id": ["rid-1", "rid-2"]},
        "notification": {
            "android": {"alert": "冒充客服退款的电话", "title": "防诈预警", "priority": 2, "extras": MESSAGE.data},
            "ios": {
                "alert": {"title": "防诈预警", "body": "冒充客服退款的电话"},
                "sound": "default",
                "extras": MESSAGE.data,
            },
        },
        "options": {"apns_production": False, "apns_collapse_id": "alert-7"},
    }
    assert result.delivered == ["rid-1", "rid-2"] and result.dead == []


def test_jpush_batches_hold_at_most_a_thousand_ids():
    assert JPushProvider.batch_size == 1000


def test_jpush_no_target_in_the_batch_means_every_token_is_dead(http_stand_in):
    # given JPush's answer when none of the ids is a device it knows
    message = "cannot find user by this audience or has been inactive for more than 255 days"
    http_stand_in.answers = [(400, {"error": {"code": 1011, "message": message}})]

    # when
    result = jpush(f"{http_stand_in.url}/v3/push").send(["old-1", "old-2"], MESSAGE)

    # then
    assert result.dead == ["old-1", "old-2"] and result.delivered == []


@pytest.mark.parametrize(
    "status, error",
    [(503, {}), (429, {"error": {"code": 2002, "message": "Request times of the app exceed the limit"}}),
     (400, {"error": {"code": 1030, "message": "internal timeout"}})],
)  # fmt: skip
def test_jpush_overload_and_server_errors_are_temporary(http_stand_in, status, error):
    http_stand_in.answers = [(status, error)]

    with pytest.raises(PushTemporaryError):
        jpush(f"{http_stand_in.url}/v3/push").send(["rid-1"], MESSAGE)


def test_jpush_refused_credentials_are_a_delivery_error(http_stand_in):
    http_stand_in.answers = [(401, {"error": {"code": 1004, "message": "Authen failed"}})]

    with pytest.raises(PushDeliveryError, match="1004"):
        jpush(f"{http_stand_in.url}/v3/push").send(["rid-1"], MESSAGE)


def test_jpush_unreachable_is_temporary():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the socket is closed

    with pytest.raises(PushTemporaryError):
        jpush(f"http://127.0.0.1:{port}/v3/push").send(["rid-1"], MESSAGE)


# --- APNs (HTTP/2) -----------------------------------------------------------------------------------------------


class ApnsStandIn:
    """An HTTP/2 server (h2c, prior knowledge) on 127.0.0.1 answering like APNs: per token an answer from
    ``answers`` (status, reason), 200 otherwise. Records each request's headers and body, and counts connections."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[dict] = []
        self.answers: dict[str, tuple[int, str]] = {}
        self.connections = 0
        self.errors: list[BaseException] = []  # what broke the server's side of a connection (a protocol error)
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.stopped:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self.serve_recording_errors, args=(sock,), daemon=True).start()

    def serve_recording_errors(self, sock):
        try:
            self.serve(sock)
        except Exception as exc:  # noqa: BLE001 - any failure of the server side is a finding the test reports
            with self.lock:
                self.errors.append(exc)

    def serve(self, sock):
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        streams: dict[int, dict] = {}
        with sock:
            while True:
                try:
                    data = sock.recv(65535)
                except OSError:
                    return
                if not data:
                    return
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        headers = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
                                   for k, v in event.headers}  # fmt: skip
                        streams[event.stream_id] = {"headers": headers, "body": b""}
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id]["body"] += event.data
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        self.respond(conn, event.stream_id, streams.pop(event.stream_id))
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        sock.sendall(conn.data_to_send())
                        return
                sock.sendall(conn.data_to_send())

    def respond(self, conn, stream_id, request):
        with self.lock:
            self.requests.append(request)
        token = request["headers"][":path"].rsplit("/", 1)[-1]
        status, reason = self.answers.get(token, (200, ""))
        body = json.dumps({"reason": reason}).encode() if reason else b""
        headers = [(":status", str(status)), ("apns-id", "00000000-0000-0000-0000-000000000001")]
        if body:
            headers += [("content-type", "application/json"), ("content-length", str(len(body)))]
        conn.send_headers(stream_id, headers, end_stream=not body)
        if body:
            conn.send_data(stream_id, body, end_stream=True)

    def close(self):
        self.stopped = True
        self.listener.close()


@pytest.fixture
def apns_stand_in():
    stand_in = ApnsStandIn()
    try:
        yield stand_in
    finally:
        stand_in.close()


@pytest.fixture
def apns_key():
    return ec.generate_private_key(ec.SECP256R1())


def apns(endpoint: str, key) -> ApnsProvider:
    return ApnsProvider(team_id="TEAM123456", key_id="KEY1234567", private_key=_pem(key), topic="cn.pingan.app",
                        endpoint=endpoint)  # fmt: skip


def test_apns_posts_each_device_over_one_http2_connection_with_a_verifiable_jwt(apns_stand_in, apns_key):
    # given
    provider = apns(apns_stand_in.url, apns_key)

    # when two batches go out, one after the other
    first = provider.send(["a" * 64, "b" * 64, "c" * 64], MESSAGE)
    second = provider.send(["d" * 64], PushMessage(title="提示", body="b"))

    # then every device got its own request, all over ONE connection (the long-lived client)
    assert sorted(first.delivered) == ["a" * 64, "b" * 64, "c" * 64] and second.delivered == ["d" * 64]
    assert apns_stand_in.connections == 1 and apns_stand_in.errors == []
    requests = {r["headers"][":path"]: r for r in apns_stand_in.requests}
    assert set(requests) == {f"/3/device/{t * 64}" for t in "abcd"}
    urgent = requests["/3/device/" + "a" * 64]
    assert urgent["headers"][":method"] == "POST"
    assert urgent["headers"]["apns-topic"] == "cn.pingan.app"
    assert urgent["headers"]["apns-push-type"] == "alert"
    assert urgent["headers"]["apns-priority"] == "10"
    assert urgent["headers"]["apns-collapse-id"] == "alert-7"
    assert json.loads(urgent["body"]) == {
        "alert": 7,
        "kind": "anti_fraud",
        "aps": {"alert": {"title": "防诈预警", "body": "冒充客服退款的电话"}, "sound": "default"},
    }
    normal = requests["/3/device/" + "d" * 64]
    assert normal["headers"]["apns-priority"] == "5" and "apns-collapse-id" not in normal["headers"]
    # the provider token is an ES256 JWT from our team and key, which Apple verifies with the public key
    scheme, token = urgent["headers"]["authorization"].split(" ")
    assert scheme == "bearer"
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "KEY1234567", "typ": "JWT"}
    claims = jwt.decode(token, apns_key.public_key(), algorithms=["ES256"])
    assert claims["iss"] == "TEAM123456" and isinstance(claims["iat"], int)


def test_apns_reuses_its_provider_token_and_renews_it_after_forty_minutes(apns_key):
    # given
    provider = apns("http://127.0.0.1:9", apns_key)

    # when
    first = provider.provider_token(now=1_000_000)
    same = provider.provider_token(now=1_000_000 + 20 * 60)
    renewed = provider.provider_token(now=1_000_000 + 41 * 60)

    # then
    assert first == same != renewed
    assert jwt.decode(renewed, apns_key.public_key(), algorithms=["ES256"])["iat"] == 1_000_000 + 41 * 60


def test_apns_unregistered_and_bad_tokens_are_dead(apns_stand_in, apns_key):
    # given
    apns_stand_in.answers = {"gone": (410, "Unregistered"), "bad": (400, "BadDeviceToken")}

    # when
    result = apns(apns_stand_in.url, apns_key).send(["live", "gone", "bad"], MESSAGE)

    # then
    assert result.delivered == ["live"] and sorted(result.dead) == ["bad", "gone"]


def test_apns_overload_is_temporary_and_says_what_went_through(apns_stand_in, apns_key):
    # given one device's request answered "too many requests", one "gone"
    apns_stand_in.answers = {"busy": (429, "TooManyRequests"), "gone": (410, "Unregistered")}

    # when
    with pytest.raises(PushTemporaryError) as raised:
        apns(apns_stand_in.url, apns_key).send(["live", "busy", "gone"], MESSAGE)

    # then a retry knows to send only to "busy"
    assert raised.value.done.delivered == ["live"] and raised.value.done.dead == ["gone"]


def test_apns_a_server_error_is_temporary(apns_stand_in, apns_key):
    apns_stand_in.answers = {"x": (503, "ServiceUnavailable")}

    with pytest.raises(PushTemporaryError):
        apns(apns_stand_in.url, apns_key).send(["x"], MESSAGE)


def test_apns_an_expired_provider_token_is_renewed_and_retried_later(apns_stand_in, apns_key):
    # given
    provider = apns(apns_stand_in.url, apns_key)
    before = provider.provider_token()
    apns_stand_in.answers = {"x": (403, "ExpiredProviderToken")}

    # when
    with pytest.raises(PushTemporaryError):
        provider.send(["x"], MESSAGE)

    # then the token is dropped: the next request signs a new one
    assert provider._jwt is None
    assert before


def test_apns_a_wrong_topic_is_a_refusal(apns_stand_in, apns_key):
    apns_stand_in.answers = {"x": (400, "TopicDisallowed")}

    with pytest.raises(PushDeliveryError, match="TopicDisallowed"):
        apns(apns_stand_in.url, apns_key).send(["x"], MESSAGE)


# --- FCM ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def fcm_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def fcm(stand_in, key) -> FcmProvider:
    account = {"type": "service_account", "client_email": "push@pingan-test.iam.gserviceaccount.com",
               "private_key": _pem(key), "private_key_id": "kid-42", "token_uri": f"{stand_in.url}/token"}  # fmt: skip
    return FcmProvider(project_id="pingan-test", service_account=json.dumps(account), endpoint=stand_in.url,
                       token_endpoint="")  # fmt: skip


def _fcm_answers(per_token: dict[str, tuple[int, dict]]):
    """The stand-in's answer: an access token at /token, per token the given answer at messages:send."""

    def answer(path, body):
        if path == "/token":
            return 200, {"access_token": "ya29.test-access", "expires_in": 3599, "token_type": "Bearer"}
        token = json.loads(body)["message"]["token"]
        return per_token.get(token, (200, {"name": f"projects/pingan-test/messages/{token}"}))

    return answer


def test_fcm_exchanges_a_signed_assertion_once_and_sends_per_token(http_stand_in, fcm_key):
    # given
    http_stand_in.answers = [(200, _fcm_answers({}))]
    provider = fcm(http_stand_in, fcm_key)

    # when
    result = provider.send(["tok-1", "tok-2"], MESSAGE)
    provider.send(["tok-3"], MESSAGE)

    # then one token exchange, signed RS256 by the service account, for the messaging scope
    token_requests = [r for r in http_stand_in.requests if r["path"] == "/token"]
    assert len(token_requests) == 1
    grant = dict(urllib.parse.parse_qsl(token_requests[0]["body"].decode()))
    assert grant["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert jwt.get_unverified_header(grant["assertion"])["kid"] == "kid-42"
    claims = jwt.decode(grant["assertion"], fcm_key.public_key(), algorithms=["RS256"],
                        audience=f"{http_stand_in.url}/token")  # fmt: skip
    assert claims["iss"] == "push@pingan-test.iam.gserviceaccount.com"
    assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
    assert claims["exp"] - claims["iat"] == 3600
    # and one messages:send per token, with the access token
    sends = [r for r in http_stand_in.requests if r["path"] != "/token"]
    assert {r["path"] for r in sends} == {"/v1/projects/pingan-test/messages:send"}
    assert {r["headers"]["Authorization"] for r in sends} == {"Bearer ya29.test-access"}
    first = next(json.loads(r["body"]) for r in sends if json.loads(r["body"])["message"]["token"] == "tok-1")
    assert first == {
        "message": {
            "token": "tok-1",
            "notification": {"title": "防诈预警", "body": "冒充客服退款的电话"},
            "data": {"alert": "7", "kind": "anti_fraud"},
            "android": {"priority": "high", "collapse_key": "alert-7"},
            "apns": {"headers": {"apns-priority": "10", "apns-collapse-id": "alert-7"}},
        }
    }
    assert sorted(result.delivered) == ["tok-1", "tok-2"]


def test_fcm_unregistered_and_invalid_tokens_are_dead(http_stand_in, fcm_key):
    # given FCM's answers for a token uninstalled and a token that is not one
    unregistered = {"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
                              "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                           "errorCode": "UNREGISTERED"}]}}  # fmt: skip
    invalid = {"error": {"code": 400, "message": "The registration token is not a valid FCM registration token",
                         "status": "INVALID_ARGUMENT",
                         "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                      "errorCode": "INVALID_ARGUMENT"}]}}  # fmt: skip
    http_stand_in.answers = [(200, _fcm_answers({"gone": (404, unregistered), "junk": (400, invalid)}))]

    # when
    result = fcm(http_stand_in, fcm_key).send(["live", "gone", "junk"], MESSAGE)

    # then
    assert result.delivered == ["live"] and sorted(result.dead) == ["gone", "junk"]


def test_fcm_an_invalid_payload_is_a_refusal_not_a_dead_token(http_stand_in, fcm_key):
    bad_payload = {"error": {"code": 400, "message": "Invalid value at 'message.android.priority'",
                             "status": "INVALID_ARGUMENT",
                             "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                          "fieldViolations": [{"field": "message.android.priority"}]}]}}  # fmt: skip
    http_stand_in.answers = [(200, _fcm_answers({"tok": (400, bad_payload)}))]

    with pytest.raises(PushDeliveryError):
        fcm(http_stand_in, fcm_key).send(["tok"], MESSAGE)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_fcm_overload_and_server_errors_are_temporary(http_stand_in, fcm_key, status):
    http_stand_in.answers = [(200, _fcm_answers({"tok": (status, {"error": {"status": "UNAVAILABLE"}})}))]

    with pytest.raises(PushTemporaryError) as raised:
        fcm(http_stand_in, fcm_key).send(["ok", "tok"], MESSAGE)

    assert raised.value.done.delivered == ["ok"]


def test_fcm_a_rejected_access_token_is_dropped_and_fetched_again(http_stand_in, fcm_key):
    # given FCM refusing the first access token
    calls = {"sends": 0}
    fine = _fcm_answers({})

    def answer(path, body):
        if path != "/token":
            calls["sends"] += 1
            if calls["sends"] == 1:
                return 401, {"error": {"status": "UNAUTHENTICATED"}}
        return fine(path, body)

    http_stand_in.answers = [(200, answer)]
    provider = fcm(http_stand_in, fcm_key)

    # when
    with pytest.raises(PushTemporaryError):
        provider.send(["tok"], MESSAGE)
    provider.send(["tok"], MESSAGE)

    # then a second exchange happened
    assert len([r for r in http_stand_in.requests if r["path"] == "/token"]) == 2


def test_the_settings_choose_a_real_provider_and_it_is_kept_per_process(settings, apns_key):
    # given
    settings.PUSH_PROVIDERS = {"jpush": "recording", "apns": "apns", "fcm": "recording"}
    settings.PUSH_APNS_TEAM_ID, settings.PUSH_APNS_KEY_ID = "TEAM123456", "KEY1234567"
    settings.PUSH_APNS_PRIVATE_KEY, settings.PUSH_APNS_TOPIC = _pem(apns_key), "cn.pingan.app"

    # when
    first, second = get_push_provider("apns"), get_push_provider("apns")

    # then
    assert isinstance(first, ApnsProvider) and first is second


def test_the_batch_size_is_known_without_making_the_provider(settings):
    # given JPush chosen but its credentials missing
    settings.PUSH_PROVIDERS = {"jpush": "jpush", "apns": "recording", "fcm": "console"}
    settings.PUSH_JPUSH_APP_KEY = ""

    # then the planner still learns its batch size (the batches fail when sent, the other providers' do not)
    assert push.push_batch_size("jpush") == 1000
    assert push.push_batch_size("apns") == RecordingPushProvider.batch_size


def test_production_refuses_a_real_push_provider_without_its_credentials_or_the_recording_one():
    # given otherwise complete production settings
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PUSH_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", DATABASE_URL="postgres://x@127.0.0.1/x",
               REDIS_URL="redis://127.0.0.1:6379/0", SMS_PROVIDER="console", PINGAN_TRUSTED_PROXY_COUNT="1",
               DJANGO_SECRET_KEY="s" * 60, DJANGO_ALLOWED_HOSTS="pingan.example")  # fmt: skip

    def check(**push_env):
        return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env={**env, **push_env},
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    # when APNs is chosen with its key left out, or a test double is chosen
    apns = check(PUSH_APNS="apns", PUSH_APNS_TEAM_ID="T", PUSH_APNS_KEY_ID="K", PUSH_APNS_TOPIC="cn.pingan.app")
    recording = check(PUSH_FCM="recording")
    console = check()

    # then the process does not start, and names what is missing
    assert apns.returncode != 0 and "PUSH_APNS_PRIVATE_KEY" in apns.stderr
    assert recording.returncode != 0 and "recording" in recording.stderr
    assert console.returncode == 0, console.stderr[-500:]


def test_apns_multiplexes_a_large_batch_on_its_one_connection(apns_stand_in, apns_key):
    # given a batch of many devices, more than the requests in flight at once
    tokens = [f"{n:064x}" for n in range(120)]

    # when
    result = apns(apns_stand_in.url, apns_key).send(tokens, MESSAGE)

    # then each device was sent once, over one connection, every stream opened in order (no protocol error)
    assert sorted(result.delivered) == tokens
    assert sorted(r["headers"][":path"].rsplit("/", 1)[-1] for r in apns_stand_in.requests) == tokens
    assert apns_stand_in.connections == 1 and apns_stand_in.errors == []
