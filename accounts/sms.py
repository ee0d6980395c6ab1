"""Sending text messages (one-time login codes) through a provider chosen by settings.

``SMS_PROVIDER`` picks the provider:
- ``console`` (default): writes the code to the server log, so a newcomer can log in with no SMS account;
- ``memory``: keeps messages in :data:`outbox` for tests to read;
- ``aliyun``: Alibaba Cloud SMS (dysmsapi ``SendSms``), the common choice for mainland numbers.

A provider that talks to the network sends from a small pool of threads in this process, never on the request path:
a sign-up for a new number texts a code and one for a registered number does not (a notice without a code costs
money and says nothing), so waiting for the provider's round trip would tell which numbers are registered. The
request returns at once on both paths. Not Celery: a login must work while the broker is down.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    phone: str  # E.164
    code: str
    purpose: str  # "verification"; notices without a code: "unknown_account", "account_exists"


class SmsProvider(Protocol):
    # True: sms_send hands the message to the background pool; False: sent inline (the log, the tests' outbox).
    talks_to_network: bool

    def send(self, message: SmsMessage) -> None: ...


class SmsDeliveryError(Exception):
    pass


class ConsoleSmsProvider:
    talks_to_network = False

    def send(self, message: SmsMessage) -> None:
        logger.warning("SMS to %s (%s): your Ping'an Alliance code is %s", message.phone, message.purpose, message.code)


outbox: list[SmsMessage] = []
CODELESS_NOTICES = frozenset({"unknown_account", "account_exists"})


class MemorySmsProvider:
    """Test double: keeps every message in :data:`outbox`."""

    talks_to_network = False

    def send(self, message: SmsMessage) -> None:
        outbox.append(message)


class AliyunSmsProvider:
    """Alibaba Cloud SMS ``SendSms`` over its RPC API, signed with HMAC-SHA1 (signature version 1.0).

    The template must take one variable, ``code``. Notices without a code (unknown account, account already exists)
    are not sent: they would cost money and tell nothing the app does not already say.
    """

    talks_to_network = True

    def __init__(
        self, *, access_key_id: str, access_key_secret: str, sign_name: str, template_code: str, endpoint: str
    ):
        if not all([access_key_id, access_key_secret, sign_name, template_code]):
            raise SmsDeliveryError("Aliyun SMS needs SMS_ALIYUN_ACCESS_KEY_ID/SECRET, SIGN_NAME and TEMPLATE_CODE")
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.template_code = template_code
        self.endpoint = endpoint

    @staticmethod
    def _percent(value: str) -> str:
        return urllib.parse.quote(value, safe="~")

    def signed_query(self, params: dict[str, str]) -> str:
        canonical = "&".join(f"{self._percent(k)}={self._percent(v)}" for k, v in sorted(params.items()))
        string_to_sign = "GET&%2F&" + self._percent(canonical)
        digest = hmac.new(f"{self.access_key_secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
        signature = base64.b64encode(digest).decode()
        return f"Signature={self._percent(signature)}&{canonical}"

    def send(self, message: SmsMessage) -> None:
        if message.purpose in CODELESS_NOTICES:
            return
        # Aliyun takes mainland numbers without the country code, others with it and no "+".
        phone = message.phone[3:] if message.phone.startswith("+86") else message.phone.lstrip("+")
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": "cn-hangzhou",
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps({"code": message.code}),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        url = f"{self.endpoint}?{self.signed_query(params)}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - endpoint comes from settings
                body = json.loads(response.read().decode())
        except (OSError, ValueError) as exc:
            raise SmsDeliveryError(f"Aliyun SMS request failed: {exc}") from exc
        if body.get("Code") != "OK":
            raise SmsDeliveryError(f"Aliyun SMS refused: {body.get('Code')} {body.get('Message')}")


def get_sms_provider() -> SmsProvider:
    name = settings.SMS_PROVIDER
    if name == "console":
        return ConsoleSmsProvider()
    if name == "memory":
        return MemorySmsProvider()
    if name == "aliyun":
        return AliyunSmsProvider(
            access_key_id=settings.SMS_ALIYUN_ACCESS_KEY_ID,
            access_key_secret=settings.SMS_ALIYUN_ACCESS_KEY_SECRET,
            sign_name=settings.SMS_ALIYUN_SIGN_NAME,
            template_code=settings.SMS_ALIYUN_TEMPLATE_CODE,
            endpoint=settings.SMS_ALIYUN_ENDPOINT,
        )
    raise ValueError(f"Unknown SMS_PROVIDER {name!r}: use console, memory or aliyun")


# A few threads: one round trip is ~100 ms and codes come one a minute per number. Created on first use, in the
# process that sends (a pool made before a server forks its workers would have no threads in them).
_DELIVERY_THREADS = 4
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_pending: set[Future] = set()


def _delivery_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_DELIVERY_THREADS, thread_name_prefix="sms")
        return _pool


def _deliver(provider: SmsProvider, message: SmsMessage) -> None:
    try:
        provider.send(message)
    except Exception:
        # Nobody waits for the answer any more: the log is where a failed text shows (the person asks again).
        logger.exception("SMS to %s (%s) was not sent", message.phone, message.purpose)


def sms_send(*, phone: str, code: str, purpose: str) -> None:
    """Send, or hand to the background pool when the provider talks to the network (see the module docstring).
    Returns without waiting for the provider either way; a delivery failure is logged, not raised."""
    provider = get_sms_provider()
    message = SmsMessage(phone=phone, code=code, purpose=purpose)
    if not provider.talks_to_network:
        provider.send(message)
        return
    future = _delivery_pool().submit(_deliver, provider, message)
    with _pool_lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future) -> None:
    with _pool_lock:
        _pending.discard(future)


def sms_deliveries_wait(timeout: float = 10) -> None:
    """Wait until the texts handed to the background pool so far are sent (or failed): tests, and a clean exit."""
    with _pool_lock:
        pending = list(_pending)
    wait(pending, timeout=timeout)
