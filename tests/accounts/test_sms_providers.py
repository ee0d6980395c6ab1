"""SMS providers: the console default, the test double, and the real Alibaba Cloud provider against a local stand-in
for its HTTP API (this machine cannot reach the real one)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

import pytest

from accounts import sms
from accounts.sms import AliyunSmsProvider, SmsDeliveryError, SmsMessage, get_sms_provider


@pytest.fixture
def fake_aliyun():
    """A loopback HTTP server answering like dysmsapi; records every query it receives."""
    received: list[dict] = []
    answer = {"body": {"Code": "OK", "Message": "OK"}}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            received.append(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)))
            payload = json.dumps(answer["body"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", received, answer
    finally:
        server.shutdown()


def provider(endpoint: str) -> AliyunSmsProvider:
    return AliyunSmsProvider(
        access_key_id="test-key-id",
        access_key_secret="test-secret",
        sign_name="平安联盟",
        template_code="SMS_123456",
        endpoint=endpoint,
    )


def test_aliyun_sends_a_signed_request_with_the_code(fake_aliyun):
    endpoint, received, _answer = fake_aliyun

    provider(endpoint).send(SmsMessage(phone="+8613812345678", code="482913", purpose="verification"))

    [query] = received
    assert query["Action"] == "SendSms" and query["PhoneNumbers"] == "13812345678"
    assert json.loads(query["TemplateParam"]) == {"code": "482913"}
    assert query["SignName"] == "平安联盟" and query["TemplateCode"] == "SMS_123456"
    # the signature is HMAC-SHA1 over the sorted, percent-encoded parameters, keyed with "<secret>&"
    signature = query.pop("Signature")
    canonical = "&".join(
        f"{urllib.parse.quote(k, safe='~')}={urllib.parse.quote(v, safe='~')}" for k, v in sorted(query.items())
    )
    expected = hmac.new(b"test-secret&", ("GET&%2F&" + urllib.parse.quote(canonical, safe="~")).encode(), hashlib.sha1)
    assert signature == base64.b64encode(expected.digest()).decode()


def test_aliyun_keeps_the_country_code_of_foreign_numbers(fake_aliyun):
    endpoint, received, _answer = fake_aliyun

    provider(endpoint).send(SmsMessage(phone="+85251234567", code="111111", purpose="verification"))

    assert received[0]["PhoneNumbers"] == "85251234567"


def test_aliyun_refusals_are_reported(fake_aliyun):
    endpoint, _received, answer = fake_aliyun
    answer["body"] = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}

    with pytest.raises(SmsDeliveryError, match="BUSINESS_LIMIT_CONTROL"):
        provider(endpoint).send(SmsMessage(phone="+8613812345678", code="1", purpose="verification"))


@pytest.mark.parametrize("purpose", ["unknown_account", "account_exists"])
def test_aliyun_does_not_spend_a_text_on_notices_without_a_code(fake_aliyun, purpose):
    endpoint, received, _answer = fake_aliyun

    provider(endpoint).send(SmsMessage(phone="+8613812345678", code="", purpose=purpose))

    assert received == []


def test_aliyun_without_credentials_refuses_to_start(settings):
    settings.SMS_PROVIDER = "aliyun"
    settings.SMS_ALIYUN_ACCESS_KEY_ID = ""

    with pytest.raises(SmsDeliveryError):
        get_sms_provider()


def test_an_unknown_provider_name_is_an_error(settings):
    settings.SMS_PROVIDER = "carrier-pigeon"

    with pytest.raises(ValueError, match="carrier-pigeon"):
        get_sms_provider()


@pytest.fixture
def stalled_aliyun(settings):
    """The real provider against a stand-in that holds every request until the test releases it: a network round
    trip that takes as long as the test wants (within the provider's 5 s timeout)."""
    reached, release = threading.Event(), threading.Event()
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            received.append(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)))
            reached.set()
            release.wait(timeout=30)
            payload = json.dumps({"Code": "OK", "Message": "OK"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.SMS_PROVIDER = "aliyun"
    settings.SMS_ALIYUN_ACCESS_KEY_ID = "test-key-id"
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = "test-secret"
    settings.SMS_ALIYUN_SIGN_NAME = "平安联盟"
    settings.SMS_ALIYUN_TEMPLATE_CODE = "SMS_123456"
    settings.SMS_ALIYUN_ENDPOINT = f"http://127.0.0.1:{server.server_port}/"
    try:
        yield reached, release, received
    finally:
        release.set()
        server.shutdown()


@pytest.mark.django_db
def test_a_signup_never_waits_for_the_sms_provider_whether_the_number_is_new_or_registered(
    stalled_aliyun, client_factory, user_factory, caplog
):
    # given the Aliyun provider, whose answers are held back, and a registered number
    reached, release, received = stalled_aliyun
    registered = str(user_factory().phone)

    # when a new number and the registered one sign up while the provider holds its answer
    with caplog.at_level("ERROR", logger="accounts.sms"):
        new = client_factory().post_json("/_allauth/app/v1/auth/signup", {"phone": "+8613912370001"})
        known = client_factory().post_json("/_allauth/app/v1/auth/signup", {"phone": registered})
        release.set()
        sms.sms_deliveries_wait()

    # then both answered alike while the new number's code was still with the provider, and it went through
    # (waiting on the request path would have timed out: the stand-in answers only once both had answered)
    assert new.status_code == known.status_code == 401
    assert reached.is_set()
    assert [query["PhoneNumbers"] for query in received] == ["13912370001"]
    assert json.loads(received[0]["TemplateParam"])["code"].isdigit()
    assert not [record for record in caplog.records if record.name == "accounts.sms"]


def test_a_provider_failure_in_the_background_is_logged(fake_aliyun, settings, caplog):
    # given the Aliyun provider, refusing
    endpoint, _received, answer = fake_aliyun
    answer["body"] = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}
    settings.SMS_PROVIDER = "aliyun"
    settings.SMS_ALIYUN_ACCESS_KEY_ID = "test-key-id"
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = "test-secret"
    settings.SMS_ALIYUN_SIGN_NAME = "平安联盟"
    settings.SMS_ALIYUN_TEMPLATE_CODE = "SMS_123456"
    settings.SMS_ALIYUN_ENDPOINT = endpoint

    # when a code is sent
    with caplog.at_level("ERROR", logger="accounts.sms"):
        sms.sms_send(phone="+8613812345678", code="482913", purpose="verification")
        sms.sms_deliveries_wait()

    # then the failure is in the log, not lost
    assert any("BUSINESS_LIMIT_CONTROL" in record.getMessage() + str(record.exc_info) for record in caplog.records)
