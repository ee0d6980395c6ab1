"""Mobile push notifications through one provider per kind of device token, chosen by settings (as ``sms.py``).

``settings.PUSH_PROVIDERS`` maps each :class:`DeviceRegistration.Provider` to what sends its tokens (the
environment's ``PUSH_JPUSH``, ``PUSH_APNS``, ``PUSH_FCM``):
- ``console`` (the default): logs the message, so the embedded default runs with no push account;
- ``recording``: keeps every send in :data:`recorded` for tests (and answers the tokens in :data:`recording_dead`
  as dead);
- the provider's own name (``jpush``, ``apns``, ``fcm``): the real service.

A provider's ``send(tokens, message)`` sends one batch (at most ``batch_size`` tokens) and returns a
:class:`PushResult`: the tokens it handed on and those the provider says are dead (unknown, unregistered, not for
this app), which the caller deletes. A failure worth retrying (no connection, a timeout, HTTP 5xx or 429) raises
:class:`PushTemporaryError`, carrying what was already done when a batch went out one request per device, so a
retry sends only the rest; a refusal (bad credentials, a payload the provider will never take) raises
:class:`PushDeliveryError`. The batches, their retries and "each device at most once" live in
``alliance/services/alert_push.py``.

The real providers talk HTTP through httpx, one client per provider per process (made on first use, so a client
made before a worker forks is never shared): APNs wants one long-lived HTTP/2 connection per sender, and the others
keep their connections alive between batches. Providers that send one request per device (APNs, FCM) put up to
``PUSH_PARALLEL_REQUESTS`` of them in flight at once: APNs's multiplexed on its one HTTP/2 connection from an event
loop in a thread of its own, FCM's from a few threads over kept-alive connections.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)

# A request to a provider waits this long at most (connect, read, write), then counts as a temporary failure.
REQUEST_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    data: dict = field(default_factory=dict)  # small flat values, delivered to the app beside the notification
    urgent: bool = False  # delivered at once, waking the phone; otherwise when the phone sees fit
    collapse_id: str = ""  # a later message with the same id replaces this one on the phone


@dataclass
class PushResult:
    delivered: list[str] = field(default_factory=list)  # handed to the provider, which took them
    dead: list[str] = field(default_factory=list)  # the provider says these will never receive anything again


class PushError(Exception):
    """``done`` is what went through before the failure (for providers that send one request per device): a retry
    must send only the other tokens, and the count of devices pushed includes these."""

    def __init__(self, message: str, *, done: PushResult | None = None):
        super().__init__(message)
        self.done = done or PushResult()


class PushTemporaryError(PushError):
    """Worth trying again later."""


class PushDeliveryError(PushError):
    """The provider refused the batch and will refuse it again (credentials, configuration, payload)."""


class PushProvider(Protocol):
    name: str
    batch_size: int  # tokens per send(); the planner cuts batches this size

    def send(self, tokens: list[str], message: PushMessage) -> PushResult: ...


class ConsolePushProvider:
    batch_size = 1000

    def __init__(self, name: str):
        self.name = name

    def send(self, tokens: list[str], message: PushMessage) -> PushResult:
        logger.warning("push via %s to %d device(s): %s: %s %s", self.name, len(tokens), message.title,
                       message.body, message.data)  # fmt: skip
        return PushResult(delivered=list(tokens))


# Tests read what was sent here: (provider, tokens, message) per send, in order.
recorded: list[tuple[str, list[str], PushMessage]] = []
# Tokens the recording provider answers as dead (tests add to it; cleared with ``recorded``).
recording_dead: set[str] = set()


class RecordingPushProvider:
    """Test double: records every send in :data:`recorded`; tokens in :data:`recording_dead` come back dead."""

    batch_size = 1000

    def __init__(self, name: str):
        self.name = name

    def send(self, tokens: list[str], message: PushMessage) -> PushResult:
        recorded.append((self.name, list(tokens), message))
        dead = [token for token in tokens if token in recording_dead]
        return PushResult(delivered=[token for token in tokens if token not in recording_dead], dead=dead)


def _http_client(**options):
    import httpx  # here, not at import: only a process that pushes for real pays for loading it

    return httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, **options)


def _transport_errors() -> tuple[type[Exception], ...]:
    import httpx

    return (httpx.TransportError,)


def _is_temporary_status(status: int) -> bool:
    return status == 429 or status >= 500


def _summed_up(outcomes: list[tuple[str, str | BaseException]]) -> PushResult:
    """(token, "delivered" | "dead" | the exception) per token, as one result: a refusal raises (retrying would only
    be refused again), else the first temporary failure raises, each with what was done."""
    done = PushResult()
    temporary: PushTemporaryError | None = None
    refusal: PushDeliveryError | None = None
    for token, outcome in outcomes:
        if isinstance(outcome, PushDeliveryError):
            refusal = refusal or outcome
        elif isinstance(outcome, PushTemporaryError):
            temporary = temporary or outcome
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            (done.dead if outcome == "dead" else done.delivered).append(token)
    if refusal is not None:
        raise PushDeliveryError(str(refusal), done=done)
    if temporary is not None:
        raise PushTemporaryError(str(temporary), done=done)
    return done


def _fan_out(tokens: list[str], send_one: Callable[[str], str]) -> PushResult:
    """Send one request per token from ``PUSH_PARALLEL_REQUESTS`` threads (HTTP/1.1 connections kept alive)."""
    workers = max(1, min(settings.PUSH_PARALLEL_REQUESTS, len(tokens)))
    outcomes: list[tuple[str, str | BaseException]] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="push") as pool:
        futures = [(token, pool.submit(send_one, token)) for token in tokens]
        for token, future in futures:
            try:
                outcomes.append((token, future.result()))
            except PushError as exc:
                outcomes.append((token, exc))
    return _summed_up(outcomes)


class _EventLoopThread:
    """An asyncio loop running in a daemon thread of this process: the home of a long-lived async client, which a
    worker's synchronous code hands coroutines to. (httpx's synchronous HTTP/2 is not safe to share between threads:
    two threads may open streams out of order, which a server answers by closing the connection; on one loop the
    streams are opened one after another and multiplexed.)"""

    def __init__(self, name: str):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coroutine, *, timeout: float):
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise


class JPushProvider:
    """JPush (极光推送) Push API v3: ``POST /v3/push``, HTTP Basic auth ``appKey:masterSecret``, a JSON push object.

    Choices:
    - One request per batch: the audience is ``{"registration_id": [...]}``, at most 1000 ids a request (JPush's
      limit), so the batch size is 1000. The notification goes to Android and iOS (JPush relays iOS through APNs,
      ``options.apns_production`` picks Apple's environment); ``extras`` carry the data, urgent is Android priority
      2 (heads-up), and the collapse id becomes ``apns_collapse_id``.
    - Dead tokens: JPush skips the unknown ids of a list and says nothing of them; when NONE of the batch is a target
      it answers error 1011 ("cannot find user by this audience or has been inactive for more than 255 days"), and
      then every token of the batch is dead. A token that shares a batch with a live one is found dead once it is
      the only one left of its kind in a batch, or never (JPush itself stops sending to it).
    - Temporary: no answer, HTTP 429 or 5xx, and JPush's own internal errors 1000 (system error) and 1030 (internal
      timeout) whatever the status. Anything else is a refusal (1004 authentication, 1003 bad parameter, ...).
    """

    name = "jpush"
    batch_size = 1000
    NO_TARGET = 1011
    TEMPORARY_CODES = frozenset({1000, 1030})

    def __init__(self, *, app_key: str, master_secret: str, endpoint: str, apns_production: bool):
        if not app_key or not master_secret:
            raise PushDeliveryError("JPush needs PUSH_JPUSH_APP_KEY and PUSH_JPUSH_MASTER_SECRET")
        self.endpoint = endpoint
        self.apns_production = apns_production
        self.authorization = "Basic " + base64.b64encode(f"{app_key}:{master_secret}".encode()).decode()
        self._client = None
        self._lock = threading.Lock()

    def client(self):
        with self._lock:
            if self._client is None:
                self._client = _http_client()
            return self._client

    def payload(self, tokens: list[str], message: PushMessage) -> dict:
        options = {"apns_production": self.apns_production}
        if message.collapse_id:
            options["apns_collapse_id"] = message.collapse_id
        return {
            "platform": ["android", "ios"],
            "audience": {"registration_id": list(tokens)},
            "notification": {
                "android": {
                    "alert": message.body,
                    "title": message.title,
                    "priority": 2 if message.urgent else 0,
                    "extras": message.data,
                },
                "ios": {
                    "alert": {"title": message.title, "body": message.body},
                    "sound": "default",
                    "extras": message.data,
                },
            },
            "options": options,
        }

    def send(self, tokens: list[str], message: PushMessage) -> PushResult:
        if not tokens:
            return PushResult()
        try:
            response = self.client().post(
                self.endpoint,
                json=self.payload(tokens, message),
                headers={"Authorization": self.authorization},
            )
        except _transport_errors() as exc:
            raise PushTemporaryError(f"JPush request failed: {exc!r}") from exc
        if response.status_code == 200:
            return PushResult(delivered=list(tokens))
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        code = error.get("code")
        if code == self.NO_TARGET:
            return PushResult(dead=list(tokens))
        text = f"JPush answered {response.status_code} {code} {error.get('message', '')}".strip()
        if _is_temporary_status(response.status_code) or code in self.TEMPORARY_CODES:
            raise PushTemporaryError(text)
        raise PushDeliveryError(text)


class ApnsProvider:
    """Apple Push Notification service over HTTP/2, with token-based (JWT) provider authentication.

    Choices:
    - ONE long-lived HTTP/2 client per process (Apple asks senders to keep their connection open rather than open
      one per notification): an ``httpx.AsyncClient`` living on an event loop in a thread of its own, to which
      ``send`` hands the batch; the batch's requests are multiplexed on its connection, ``PUSH_PARALLEL_REQUESTS`` in
      flight. An ``http://`` endpoint (the tests' local stand-in) is spoken as HTTP/2 with prior knowledge.
    - The provider token is an ES256 JWT (``iss`` the team id, ``iat``; header ``kid`` the key id) signed with the
      .p8 key, made again after :attr:`TOKEN_LIFETIME_SECONDS`: Apple refuses tokens older than an hour and answers
      ``TooManyProviderTokenUpdates`` to a sender that changes it more often than every 20 minutes. A 403
      ``ExpiredProviderToken`` makes a new one at once and counts as temporary.
    - ``POST /3/device/<token>`` with ``apns-topic`` (the bundle id), ``apns-push-type: alert``, ``apns-priority``
      10 (urgent: at once) or 5 (when the phone's power allows), ``apns-collapse-id`` when given; the body is the
      ``aps`` alert plus the data's keys at the top level.
    - Dead: 410 (``Unregistered``) and 400 ``BadDeviceToken`` or ``DeviceTokenNotForTopic`` (a token of another
      app or environment never works here). Temporary: no answer, 429, 5xx. Any other answer is a refusal.
    """

    name = "apns"
    batch_size = 500
    TOKEN_LIFETIME_SECONDS = 40 * 60
    DEAD_REASONS = frozenset({"BadDeviceToken", "DeviceTokenNotForTopic", "Unregistered"})
    STALE_TOKEN_REASONS = frozenset({"ExpiredProviderToken"})

    def __init__(self, *, team_id: str, key_id: str, private_key: str, topic: str, endpoint: str):
        if not all([team_id, key_id, private_key, topic]):
            raise PushDeliveryError("APNs needs PUSH_APNS_TEAM_ID, KEY_ID, PRIVATE_KEY and TOPIC")
        self.team_id = team_id
        self.key_id = key_id
        self.private_key = private_key
        self.topic = topic
        self.endpoint = endpoint.rstrip("/")
        self._client = None
        self._jwt: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self._loop: _EventLoopThread | None = None

    def event_loop(self) -> _EventLoopThread:
        with self._lock:
            if self._loop is None:
                self._loop = _EventLoopThread("apns")
            return self._loop

    def client(self):
        """The async client; made on the loop's thread, the only one that uses it."""
        if self._client is None:
            import httpx

            # Plain http:// is the local stand-in: HTTP/2 with prior knowledge, no HTTP/1.1 to fall back to.
            plain = self.endpoint.startswith("http://")
            self._client = httpx.AsyncClient(http2=True, http1=not plain, timeout=REQUEST_TIMEOUT_SECONDS)
        return self._client

    def provider_token(self, *, now: float | None = None) -> str:
        import jwt

        now = time.time() if now is None else now
        with self._lock:
            if self._jwt is None or now - self._jwt[1] >= self.TOKEN_LIFETIME_SECONDS:
                token = jwt.encode(
                    {"iss": self.team_id, "iat": int(now)},
                    self.private_key,
                    algorithm="ES256",
                    headers={"kid": self.key_id},
                )
                self._jwt = (token, now)
            return self._jwt[0]

    def forget_provider_token(self) -> None:
        with self._lock:
            self._jwt = None

    def headers(self, message: PushMessage) -> dict[str, str]:
        headers = {
            "authorization": f"bearer {self.provider_token()}",
            "apns-topic": self.topic,
            "apns-push-type": "alert",
            "apns-priority": "10" if message.urgent else "5",
        }
        if message.collapse_id:
            headers["apns-collapse-id"] = message.collapse_id
        return headers

    @staticmethod
    def payload(message: PushMessage) -> dict:
        aps = {"alert": {"title": message.title, "body": message.body}, "sound": "default"}
        return {**message.data, "aps": aps}

    async def send_one(self, token: str, message: PushMessage) -> str:
        try:
            response = await self.client().post(
                f"{self.endpoint}/3/device/{token}", json=self.payload(message), headers=self.headers(message)
            )
        except _transport_errors() as exc:
            raise PushTemporaryError(f"APNs request failed: {exc!r}") from exc
        if response.status_code == 200:
            return "delivered"
        try:
            reason = response.json().get("reason", "")
        except ValueError:
            reason = ""
        if response.status_code == 410 or (response.status_code == 400 and reason in self.DEAD_REASONS):
            return "dead"
        text = f"APNs answered {response.status_code} {reason}".strip()
        if response.status_code == 403 and reason in self.STALE_TOKEN_REASONS:
            self.forget_provider_token()
            raise PushTemporaryError(text)
        if _is_temporary_status(response.status_code):
            raise PushTemporaryError(text)
        raise PushDeliveryError(text)

    async def send_all(self, tokens: list[str], message: PushMessage) -> list[tuple[str, str | BaseException]]:
        in_flight = asyncio.Semaphore(settings.PUSH_PARALLEL_REQUESTS)

        async def one(token: str) -> str:
            async with in_flight:
                return await self.send_one(token, message)

        outcomes = await asyncio.gather(*(one(token) for token in tokens), return_exceptions=True)
        return list(zip(tokens, outcomes, strict=True))

    def send(self, tokens: list[str], message: PushMessage) -> PushResult:
        if not tokens:
            return PushResult()
        # Each request has its own timeout; this only bounds a loop that stopped answering.
        rounds = -(-len(tokens) // settings.PUSH_PARALLEL_REQUESTS)
        try:
            outcomes = self.event_loop().run(
                self.send_all(tokens, message), timeout=rounds * REQUEST_TIMEOUT_SECONDS * 3
            )
        except FutureTimeout as exc:
            raise PushTemporaryError("APNs batch timed out") from exc
        return _summed_up(outcomes)


class FcmProvider:
    """Firebase Cloud Messaging HTTP v1: ``POST /v1/projects/<project>/messages:send``, one request per token.

    Choices:
    - Authorised by an OAuth2 access token of a service account: a JWT signed RS256 with the account's private key
      (``iss`` its client email, ``scope`` firebase.messaging, ``aud`` the token endpoint, an hour's ``exp``)
      exchanged at the token endpoint (JWT bearer grant); the access token is kept until a minute before it
      expires, and dropped at once when FCM answers 401.
    - One request per token (HTTP v1 has no multicast), ``PUSH_PARALLEL_REQUESTS`` in flight; the batch size only
      bounds a task's work. Data values are strings (FCM refuses others); urgent is Android priority ``high`` and
      APNs priority 10; the collapse id is Android's ``collapse_key`` and ``apns-collapse-id``.
    - Dead: ``UNREGISTERED`` (404), ``SENDER_ID_MISMATCH`` (a token of another project) and ``INVALID_ARGUMENT``
      when it names the token (a field violation on ``message.token``, or the "registration token" message FCM gives);
      an INVALID_ARGUMENT about anything else is our payload, a refusal. Temporary: no answer, 401 (token dropped),
      429, 5xx.
    """

    name = "fcm"
    batch_size = 500
    SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
    DEAD_CODES = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})

    def __init__(self, *, project_id: str, service_account: str, endpoint: str, token_endpoint: str):
        try:
            account = json.loads(service_account) if service_account else {}
        except ValueError as exc:
            raise PushDeliveryError("PUSH_FCM_SERVICE_ACCOUNT_JSON is not JSON") from exc
        if not project_id or not account.get("client_email") or not account.get("private_key"):
            raise PushDeliveryError("FCM needs PUSH_FCM_PROJECT_ID and PUSH_FCM_SERVICE_ACCOUNT_JSON")
        self.project_id = project_id
        self.client_email = account["client_email"]
        self.private_key = account["private_key"]
        self.private_key_id = account.get("private_key_id", "")
        self.token_endpoint = token_endpoint or account.get("token_uri") or "https://oauth2.googleapis.com/token"
        self.url = f"{endpoint.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self._client = None
        self._access: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self._token_lock = threading.Lock()

    def client(self):
        with self._lock:
            if self._client is None:
                self._client = _http_client()
            return self._client

    def assertion(self, now: int) -> str:
        import jwt

        headers = {"kid": self.private_key_id} if self.private_key_id else None
        claims = {"iss": self.client_email, "scope": self.SCOPE, "aud": self.token_endpoint, "iat": now,
                  "exp": now + 3600}  # fmt: skip
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=headers)

    def access_token(self) -> str:
        # One exchange at a time: the threads of a batch wait for the first one's token instead of each asking.
        with self._token_lock:
            now = time.time()
            if self._access is not None and now < self._access[1]:
                return self._access[0]
            grant = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": self.assertion(int(now))}
            try:
                response = self.client().post(self.token_endpoint, data=grant)
            except _transport_errors() as exc:
                raise PushTemporaryError(f"FCM access token request failed: {exc!r}") from exc
            if response.status_code != 200:
                text = f"FCM access token refused: {response.status_code} {response.text[:200]}"
                raise (PushTemporaryError if _is_temporary_status(response.status_code) else PushDeliveryError)(text)
            body = response.json()
            self._access = (body["access_token"], now + int(body.get("expires_in", 3600)) - 60)
            return self._access[0]

    def forget_access_token(self) -> None:
        with self._token_lock:
            self._access = None

    @staticmethod
    def payload(token: str, message: PushMessage) -> dict:
        android = {"priority": "high" if message.urgent else "normal"}
        apns_headers = {"apns-priority": "10" if message.urgent else "5"}
        if message.collapse_id:
            android["collapse_key"] = message.collapse_id
            apns_headers["apns-collapse-id"] = message.collapse_id
        return {
            "message": {
                "token": token,
                "notification": {"title": message.title, "body": message.body},
                "data": {str(key): str(value) for key, value in message.data.items()},
                "android": android,
                "apns": {"headers": apns_headers},
            }
        }

    @classmethod
    def is_dead(cls, status: int, error: dict) -> bool:
        codes = {error.get("status", "")}
        violations = []
        for detail in error.get("details") or []:
            codes.add(detail.get("errorCode", ""))
            violations += [v.get("field", "") for v in detail.get("fieldViolations") or []]
        if codes & cls.DEAD_CODES:
            return True
        if "INVALID_ARGUMENT" in codes:
            return "message.token" in violations or "registration token" in error.get("message", "").lower()
        return False

    def send_one(self, token: str, message: PushMessage) -> str:
        headers = {"Authorization": f"Bearer {self.access_token()}"}
        try:
            response = self.client().post(self.url, json=self.payload(token, message), headers=headers)
        except _transport_errors() as exc:
            raise PushTemporaryError(f"FCM request failed: {exc!r}") from exc
        if response.status_code == 200:
            return "delivered"
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        if self.is_dead(response.status_code, error):
            return "dead"
        text = f"FCM answered {response.status_code} {error.get('status', '')} {error.get('message', '')}".strip()
        if response.status_code == 401:
            self.forget_access_token()
            raise PushTemporaryError(text)
        if _is_temporary_status(response.status_code):
            raise PushTemporaryError(text)
        raise PushDeliveryError(text)

    def send(self, tokens: list[str], message: PushMessage) -> PushResult:
        return _fan_out(tokens, lambda token: self.send_one(token, message))


def _real_provider(name: str) -> PushProvider:
    if name == "jpush":
        return JPushProvider(
            app_key=settings.PUSH_JPUSH_APP_KEY,
            master_secret=settings.PUSH_JPUSH_MASTER_SECRET,
            endpoint=settings.PUSH_JPUSH_ENDPOINT,
            apns_production=settings.PUSH_JPUSH_APNS_PRODUCTION,
        )
    if name == "apns":
        return ApnsProvider(
            team_id=settings.PUSH_APNS_TEAM_ID,
            key_id=settings.PUSH_APNS_KEY_ID,
            private_key=settings.PUSH_APNS_PRIVATE_KEY,
            topic=settings.PUSH_APNS_TOPIC,
            endpoint=settings.PUSH_APNS_ENDPOINT,
        )
    if name == "fcm":
        return FcmProvider(
            project_id=settings.PUSH_FCM_PROJECT_ID,
            service_account=settings.PUSH_FCM_SERVICE_ACCOUNT_JSON,
            endpoint=settings.PUSH_FCM_ENDPOINT,
            token_endpoint=settings.PUSH_FCM_TOKEN_ENDPOINT,
        )
    raise ValueError(f"Unknown push provider {name!r}")


# One instance per provider and configuration per process: the real ones hold their HTTP client (APNs's one
# long-lived connection) and their cached credentials. Keyed by the settings that made it, so a test that changes
# them gets a new one.
_instances: dict[tuple, PushProvider] = {}
_instances_lock = threading.Lock()


def _configuration(name: str) -> tuple:
    kind = settings.PUSH_PROVIDERS.get(name, "console")
    if kind != name:
        return (name, kind)
    prefix = f"PUSH_{name.upper()}_"
    # The process id too: a child forked after its parent made a provider gets its own (threads and connections do
    # not survive a fork).
    settings_used = sorted((key, str(getattr(settings, key))) for key in dir(settings) if key.startswith(prefix))
    return (name, kind, os.getpid(), *settings_used)


_REAL_PROVIDERS: dict[str, type] = {"jpush": JPushProvider, "apns": ApnsProvider, "fcm": FcmProvider}
_DOUBLES: dict[str, type] = {"console": ConsolePushProvider, "recording": RecordingPushProvider}


def push_batch_size(name: str) -> int:
    """Tokens per batch for ``name``'s configured provider, read without making it: a provider missing its
    credentials fails its own batches when they are sent, not the planning of every provider's."""
    kind = settings.PUSH_PROVIDERS.get(name, "console")
    provider_class = _DOUBLES.get(kind) or (_REAL_PROVIDERS.get(name) if kind == name else None)
    if provider_class is None:
        raise ValueError(f"Unknown push provider {kind!r} for {name}: use console, recording or {name}")
    return provider_class.batch_size


def get_push_provider(name: str) -> PushProvider:
    """The provider that sends tokens registered with ``name`` (a ``DeviceRegistration.Provider`` value)."""
    configuration = _configuration(name)
    with _instances_lock:
        provider = _instances.get(configuration)
        if provider is not None:
            return provider
    kind = configuration[1]
    if kind == "console":
        provider = ConsolePushProvider(name)
    elif kind == "recording":
        provider = RecordingPushProvider(name)
    elif kind == name:
        provider = _real_provider(name)
    else:
        raise ValueError(f"Unknown push provider {kind!r} for {name}: use console, recording or {name}")
    with _instances_lock:
        return _instances.setdefault(configuration, provider)
