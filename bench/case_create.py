"""Case creation benchmark: merchants reporting incidents over HTTP on PostgreSQL, against a bare Django view.

What it measures
    Requests per second, median (p50) and 99th percentile (p99) latency and errors of the real case-creation
    endpoint, ``POST /api/v1/alliances/{id}/incidents`` with JSON ``{"category": "theft", "description": ...,
    "latitude": ..., "longitude": ...}``: allauth ``X-Session-Token`` authentication (cached_db session), an
    ``Idempotency-Key`` (the middleware wraps the view in one transaction with its record), validation, the
    incident row, its timeline step, the case card in the alliance's contact group (group row lock, gap-free seq),
    the live event in the outbox, relayed to Redis after commit, and the answer with its duplicate suggestions.
    ``--endpoint disputes`` measures ``POST /api/v1/alliances/{id}/disputes`` (``{"category": "quarrel", ...}``)
    instead, for when the incident endpoint is not usable.

    The baseline is ``GET /healthz``, a bare ``JsonResponse`` view (no database, no session, no Redis), served by
    the SAME server process in the same run: the ratio create/bare says what the work of creating a case costs
    on top of Django's own request handling.

    Each endpoint is loaded closed-loop at each ``--concurrency`` level (8, 16, 32 connections); the best level
    is its peak. Then the create endpoint runs open-loop (paced, one request every 1/rate seconds whether or not
    earlier ones have answered) at half its measured peak, and its p99 there is the latency target's figure.

    Server: ``gunicorn config.wsgi:application``, ``--workers`` (2) sync workers, DJANGO_SETTINGS_MODULE=
    config.settings.local, DATABASE_URL=``--database-url`` (PostgreSQL), REDIS_URL=``--redis-url`` (the production
    layout: Redis cache, cached_db sessions, Redis channel layer; the outbox relays after commit to Redis),
    DJANGO_LOG_LEVEL=WARNING, DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost, DEBUG off. Only 127.0.0.1.

How to run it
    cd /work/main && .venv/bin/python bench/case_create.py [--workers 2] [--merchants 50]
        [--concurrency 8,16,32] [--duration 6] [--warmup 1] [--paced-duration 20] [--endpoint incidents|disputes]
        [--database-url postgres://postgres@127.0.0.1:5432/pingan_bench_cases]
        [--redis-url redis://127.0.0.1:6379/12] [--no-pin] [--max-other 25] [--spread-km 10]

    It DROPS and recreates the database named in ``--database-url`` (``dropdb --force``, ``createdb``), migrates
    it, and in ``manage.py shell`` creates one police station with its community office, one alliance with its
    contact groups (``contact_groups_create_defaults``), ``--merchants`` merchants (merchant role, alliance
    membership, ``contact_groups_member_joined``, a store each) and one logged-in session per merchant, whose key
    is the token. It clears the channel-layer group keys of the Redis database (``asgi:group:*``) so that no dead
    socket hub of an earlier run receives copies. It starts gunicorn on a free port (pinned to CPU 0; this load
    generator to CPU 1), waits for ``/healthz``, checks that one create answers 201, measures, stops gunicorn
    (also on errors and Ctrl-C), counts what the database holds, and prints the tables. About 2 minutes with the
    defaults, more when it waits for a quiet machine. Every measurement is bounded by its duration and by
    ``--max-requests``.

How to read it
    * Every request uses a random merchant's token and a unique Idempotency-Key; the location is random within
      a ``--spread-km`` square around the alliance, so only a few reports find "possible duplicates" (50 m,
      2 h, same category) however many the run creates; ``dup`` is the share of answers that listed any.
    * ``req/s`` is completed requests / measured seconds; ``p50``/``p99`` include the TCP connect (gunicorn's
      sync worker closes the connection after every response). With N connections closed-loop, latency is
      mostly queueing (about N / throughput), so the closed-loop p99 is not the latency target's figure: the
      paced run at half the peak is.
    * ``srv CPU``: gunicorn master + workers, in % of one core (both workers share CPU 0 when pinned, so 100 %
      means the server is saturated); ``db CPU``: the PostgreSQL processes of this database (backends, plus the
      server's own writer/checkpointer processes) and redis-server; ``gen CPU``: this load generator; ``other``:
      everything else on the machine meanwhile. A measurement whose ``other`` exceeds ``--max-other`` is taken
      again (``--retries``); rows that still show a high ``other`` are noisy.
    * Paced run: latency counts from the moment the request was DUE (so a generator or server falling behind
      shows up as latency, no coordinated omission); ``late`` is how many requests were sent more than 5 ms
      after they were due; ``shed`` requests were not sent because ``--max-in-flight`` were still open.
    * The targets: create throughput >= 40 % of the bare view's; p99 < 100 ms at half the measured create peak.
    * For context, ``GET /api/v1/me`` is measured the same way: the cheapest authenticated API view (the session
      token resolved to a user, the user's roles, no writes). It shows what authentication alone costs against
      the bare view, which no creating endpoint can undercut.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only, never anything else
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_cases"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
PHONE_BASE = 13700000000  # merchant n is +86 (PHONE_BASE + n)
CENTER = (31.777012, 119.956301)  # the alliance's lane
TARGET_RATIO = 0.40
TARGET_P99_MS = 100.0
BARE = "/healthz"
# Context for the ratio: the cheapest authenticated API view (session token -> user, roles; no writes).
AUTHED = "/api/v1/me"
DESCRIPTIONS = ["后街有人试拉车门", "电动车电瓶被偷了", "店门口的监控被人弄坏了", "有人在巷口兜售假货"]

SETUP_SCRIPT = """
import json
from decimal import Decimal
from importlib import import_module

from django.conf import settings
from django.db import transaction

from accounts.models import Role, RoleGrant, User
from alliance.models import Alliance, AllianceMembership, Station, Store
from groups.services import contact_groups_create_defaults, contact_groups_member_joined

COUNT = {count}
with transaction.atomic():
    station = Station.objects.create(name="基准派出所", city="常州", kind=Station.Kind.STATION)
    office = Station.objects.create(name="基准警务室", city="常州", kind=Station.Kind.OFFICE, parent=station)
    alliance = Alliance.objects.create(name="基准联盟", slug="bench-cases", station=station, office=office)
    main, _prevention = contact_groups_create_defaults(alliance=alliance)
    merchants = []
    for n in range(COUNT):
        user = User.objects.create_user("+86" + str({phone_base} + n), display_name="基准商户" + str(n))
        RoleGrant.objects.create(user=user, role=Role.MERCHANT, reason="bench")
        AllianceMembership.objects.create(alliance=alliance, user=user, role=AllianceMembership.Role.MERCHANT)
        contact_groups_member_joined(alliance=alliance, user=user)
        Store.objects.create(
            alliance=alliance,
            owner=user,
            name="基准店铺" + str(n),
            address="青果巷 " + str(n + 1) + " 号",
            latitude=Decimal("{lat:.6f}"),
            longitude=Decimal("{lon:.6f}"),
        )
        merchants.append(user)

engine = import_module(settings.SESSION_ENGINE)
tokens = []
for user in merchants:
    session = engine.SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    tokens.append(session.session_key)

with open({out!r}, "w") as handle:
    json.dump({{"alliance": alliance.pk, "group": main.pk, "tokens": tokens}}, handle)
print("CASE-BENCH-SETUP-OK")
"""

COUNT_SCRIPT = """
import json
from accounts.models import IdempotencyRecord
from groups.models import Message, OutboxEvent
from reports.models import CaseEvent, Dispute, Incident
print("CASE-BENCH-COUNTS=" + json.dumps({
    "incidents": Incident.objects.count(),
    "disputes": Dispute.objects.count(),
    "case events": CaseEvent.objects.count(),
    "case cards": Message.objects.filter(kind=Message.Kind.CARD).count(),
    "outbox rows": OutboxEvent.objects.count(),
    "outbox unsent": OutboxEvent.objects.filter(sent_at__isnull=True).count(),
    "idempotency records": IdempotencyRecord.objects.count(),
}))
"""


# --- environment, database, Redis ----------------------------------------------------------------------------


def server_env(database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DJANGO_DEBUG", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def database_name(database_url: str) -> str:
    return unquote(urlsplit(database_url).path.lstrip("/"))


def recreate_postgres_database(database_url: str) -> None:
    url = urlsplit(database_url)
    if url.scheme not in ("postgres", "postgresql", "pgsql", "psql"):
        raise SystemExit(f"this benchmark needs PostgreSQL, not {database_url!r}")
    name = database_name(database_url)
    if not name or not name.startswith("pingan_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the bench database's name must start with pingan_bench")
    conn = ["-h", url.hostname or HOST, "-p", str(url.port or 5432), "-U", unquote(url.username or "postgres")]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = unquote(url.password)
    subprocess.run(["dropdb", *conn, "--if-exists", "--force", name], env=env, check=True)
    subprocess.run(["createdb", *conn, name], env=env, check=True)


def redis_client(url: str):
    import redis  # installed with channels-redis

    return redis.Redis.from_url(url, socket_timeout=2)


def redis_answers(url: str) -> bool:
    try:
        client = redis_client(url)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means no Redis
        return False


def clear_channel_layer_groups(url: str) -> int:
    """Forget channel-layer group memberships left in the bench's Redis database by earlier runs."""
    client = redis_client(url)
    try:
        keys = list(client.scan_iter(match="asgi:group:*", count=1000))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


def manage(env: dict[str, str], *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=capture,
        text=True,
        check=False,
    )


def prepare_database(env: dict[str, str], args: argparse.Namespace) -> dict:
    recreate_postgres_database(args.database_url)
    done = manage(env, "migrate", "--noinput", "-v", "0")
    if done.returncode != 0:
        raise SystemExit("manage.py migrate failed")
    with tempfile.NamedTemporaryFile(prefix="case-bench-setup-", suffix=".json", delete=False) as handle:
        out_path = handle.name
    try:
        script = SETUP_SCRIPT.format(
            count=args.merchants, phone_base=PHONE_BASE, lat=CENTER[0], lon=CENTER[1], out=out_path
        )
        done = manage(env, "shell", "-c", script, capture=True)
        if done.returncode != 0 or "CASE-BENCH-SETUP-OK" not in done.stdout:
            raise SystemExit(f"setup failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return json.loads(Path(out_path).read_text())
    finally:
        Path(out_path).unlink(missing_ok=True)


def database_counts(env: dict[str, str]) -> dict[str, int]:
    done = manage(env, "shell", "-c", COUNT_SCRIPT, capture=True)
    for line in done.stdout.splitlines():
        if line.startswith("CASE-BENCH-COUNTS="):
            return json.loads(line.removeprefix("CASE-BENCH-COUNTS="))
    return {}


# --- the server ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def venv_script(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed in this environment")
    return found


def proc_cpu_seconds(pid: str | int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class Server:
    def __init__(self, argv: list[str], label: str, env: dict[str, str], pin_cpu: int | None, port: int):
        self.label = label
        self.port = port
        self.log = tempfile.NamedTemporaryFile(prefix="case-bench-server-", suffix=".log", delete=False)
        preexec = (lambda: os.sched_setaffinity(0, {pin_cpu})) if pin_cpu is not None else None
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops gunicorn's workers too
            preexec_fn=preexec,  # the parent is single-threaded
        )

    def log_tail(self, lines: int = 40) -> str:
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.label} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, _body = http_request(self.port, "GET", BARE, {}, None, timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.label} did not answer {BARE} within {timeout:.0f} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of every process in the server's process group (gunicorn master + workers)."""
        total = 0.0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == self.proc.pid:  # pgrp
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


def data_store_cpu(dbname: str) -> dict[str, float]:
    """CPU seconds per PID of the data stores this run uses: redis-server, and the PostgreSQL processes except
    backends of other databases (their title is ``postgres: [cluster:] user db host(port) state``)."""
    found: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            if comm == "postgres":
                title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                tokens = title.split()
                client = next((i for i, token in enumerate(tokens) if "(" in token and token.endswith(")")), None)
                if client is not None and client >= 1 and tokens[client - 1] != dbname:
                    continue  # a backend of another database: someone else's work
            elif comm != "redis-server":
                continue
        except OSError:
            continue
        cpu = proc_cpu_seconds(entry)
        if cpu is not None:
            found[entry] = cpu
    return found


def machine_busy_seconds() -> float:
    """CPU time spent busy by the whole machine (all cores), from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(limit: float, timeout: float) -> float:
    """Wait until the machine's busy CPU over one second is at most ``limit`` (fraction of one core)."""
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = machine_busy_seconds() - before
        if busy <= limit or time.monotonic() >= deadline:
            if announced:
                print(f"(busy {busy * 100:.0f}%)", end=" ", flush=True)
            return busy
        if not announced:
            print(f"[machine busy {busy * 100:.0f}% of a core, waiting]", end=" ", flush=True)
            announced = True


def http_request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None, timeout: float = 10
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- requests ------------------------------------------------------------------------------------------------


@dataclass
class Endpoint:
    key: str  # "bare" or "create"
    label: str
    make: Callable[[], bytes]  # one complete HTTP/1.1 request
    ok_status: int


def raw_request(method: str, path: str, port: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class CreateRequests:
    """Each call: a random merchant, a unique Idempotency-Key, a random place within the spread."""

    def __init__(self, kind: str, port: int, alliance: int, tokens: list[str], spread_km: float, seed: int):
        self.kind = kind
        self.port = port
        self.path = f"/api/v1/alliances/{alliance}/{kind}"
        self.tokens = tokens
        self.rng = random.Random(seed)
        self.half_lat = spread_km / 2 / 111.195
        self.half_lon = self.half_lat / 0.85  # cos(31.8 degrees)
        self.run = uuid.uuid4().hex[:8]
        self.count = 0

    def body(self) -> dict:
        rng = self.rng
        place = {
            "latitude": round(CENTER[0] + rng.uniform(-self.half_lat, self.half_lat), 6),
            "longitude": round(CENTER[1] + rng.uniform(-self.half_lon, self.half_lon), 6),
        }
        if self.kind == "incidents":
            return {"category": "theft", "description": f"{rng.choice(DESCRIPTIONS)} ({self.count})", **place}
        return {"category": "quarrel", "note": f"基准 {self.count}", **place}

    def __call__(self) -> bytes:
        self.count += 1
        headers = {"X-Session-Token": self.rng.choice(self.tokens), "Idempotency-Key": f"bench-{self.run}-{self.count}"}
        body = json.dumps(self.body(), ensure_ascii=False).encode()
        return raw_request("POST", self.path, self.port, headers, body)


# --- load generator ------------------------------------------------------------------------------------------


class LoadState:
    def __init__(self, warmup: float, duration: float, max_requests: int):
        now = time.perf_counter()
        self.window_start = now + warmup
        self.window_end = self.window_start + duration
        self.max_requests = max_requests
        self.latencies: list[float] = []
        self.errors = 0
        self.statuses: dict[int, int] = {}
        self.with_duplicates = 0
        self.first_error_body = b""
        self.stopped_at: float | None = None

    def done(self) -> bool:
        return self.stopped_at is not None or time.perf_counter() >= self.window_end

    def in_window(self, t_end: float) -> bool:
        return self.window_start <= t_end <= self.window_end and self.stopped_at is None

    def record(self, t_start: float, t_end: float, status: int, body: bytes, ok_status: int) -> None:
        if not self.in_window(t_end):
            return
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status != ok_status:
            self.errors += 1
            if not self.first_error_body:
                self.first_error_body = body[:300] or b"-"
        elif b'"duplicates":[{' in body:
            self.with_duplicates += 1
        self.latencies.append(t_end - t_start)
        if len(self.latencies) >= self.max_requests:
            self.stopped_at = t_end

    def error(self) -> None:
        if self.in_window(time.perf_counter()):
            self.errors += 1


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one HTTP/1.x response; return (status, body, connection may be reused)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    version, status_text = lines[0].split(b" ", 2)[:2]
    length = None
    chunked = False
    connection = b""
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection":
            connection = value.lower()
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            parts.append((await reader.readexactly(size + 2))[:-2])
        body = b"".join(parts)
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        return int(status_text), await reader.read(), False
    keep = connection != b"close" if version == b"HTTP/1.1" else connection == b"keep-alive"
    return int(status_text), body, keep


RETRYABLE = (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


async def connection_worker(state: LoadState, port: int, endpoint: Endpoint, timeout: float) -> None:
    """Closed loop: one request after the other on one connection (a new one whenever the server closed it)."""
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while not state.done():
        request = endpoint.make()
        t_start = time.perf_counter()  # includes the TCP connect when the server closed the last one
        reused = writer is not None
        try:
            async with asyncio.timeout(timeout):
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                writer.write(request)
                status, body, keep = await read_response(reader)
        except RETRYABLE as exc:
            if writer is not None:
                writer.close()
            reader = writer = None
            stale = reused and isinstance(exc, asyncio.IncompleteReadError) and not exc.partial
            if not stale:  # a kept-alive connection the server had closed: retry quietly, as clients do
                state.error()
                await asyncio.sleep(0.01)
            continue
        state.record(t_start, time.perf_counter(), status, body, endpoint.ok_status)
        if not keep:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


@dataclass
class Measurement:
    endpoint: Endpoint
    mode: str  # "closed N" or "paced R/s"
    concurrency: int = 0
    target_rate: float = 0.0
    completed: int = 0
    window: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    with_duplicates: int = 0
    first_error_body: bytes = b""
    late: int = 0
    shed: int = 0
    server_cpu: float = 0.0  # fraction of one core
    store_cpu: float = 0.0
    gen_cpu: float = 0.0
    other_cpu: float = 0.0

    @property
    def rps(self) -> float:
        return self.completed / self.window if self.window else 0.0


class CpuSampler:
    """CPU used between ``start`` and ``stop`` by the server, the data stores, this process and everything else."""

    def __init__(self, server: Server, dbname: str):
        self.server = server
        self.dbname = dbname

    def start(self) -> None:
        self.t = time.perf_counter()
        self.server_cpu = self.server.cpu_seconds()
        self.stores = data_store_cpu(self.dbname)
        self.gen = time.process_time()
        self.busy = machine_busy_seconds()

    def stop(self, result: Measurement) -> None:
        elapsed = time.perf_counter() - self.t
        server_used = self.server.cpu_seconds() - self.server_cpu
        stores_now = data_store_cpu(self.dbname)
        store_used = sum(cpu - self.stores.get(pid, 0.0) for pid, cpu in stores_now.items())
        gen_used = time.process_time() - self.gen
        busy = machine_busy_seconds() - self.busy
        result.server_cpu = server_used / elapsed
        result.store_cpu = store_used / elapsed
        result.gen_cpu = gen_used / elapsed
        result.other_cpu = max(0.0, busy - server_used - store_used - gen_used) / elapsed


def finish(result: Measurement, state: LoadState, window: float) -> Measurement:
    result.completed = len(state.latencies)
    result.window = window
    result.latencies = state.latencies
    result.errors = state.errors
    result.statuses = state.statuses
    result.with_duplicates = state.with_duplicates
    result.first_error_body = state.first_error_body
    return result


def measure_closed(
    server: Server, sampler: CpuSampler, endpoint: Endpoint, concurrency: int, args: argparse.Namespace
) -> Measurement:
    state = LoadState(args.warmup, args.duration, args.max_requests)
    result = Measurement(endpoint=endpoint, mode=f"closed {concurrency}", concurrency=concurrency)

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, state.window_start - time.perf_counter()))
        sampler.start()
        while not state.done():
            await asyncio.sleep(min(0.05, max(0.0, state.window_end - time.perf_counter())))
        sampler.stop(result)

    async def main() -> None:
        sampler_task = asyncio.create_task(sample_cpu())
        await asyncio.gather(
            *(connection_worker(state, server.port, endpoint, args.timeout) for _ in range(concurrency))
        )
        await sampler_task

    asyncio.run(main())
    end = state.stopped_at or state.window_end
    return finish(result, state, end - state.window_start)


def measure_paced(
    server: Server, sampler: CpuSampler, endpoint: Endpoint, rate: float, args: argparse.Namespace
) -> Measurement:
    """Open loop: request i is due at start + i / rate and is sent then on a new connection, answered or not the
    earlier ones. Latency counts from when it was due."""
    duration = args.paced_duration
    total = min(args.max_requests, int(round((args.warmup + duration) * rate)))
    state = LoadState(args.warmup, duration, args.max_requests)
    result = Measurement(endpoint=endpoint, mode=f"paced {rate:.0f}/s", target_rate=rate)

    async def one(due: float, request: bytes) -> None:
        writer = None
        try:
            async with asyncio.timeout(args.timeout):
                reader, writer = await asyncio.open_connection(HOST, server.port)
                writer.write(request)
                status, body, _keep = await read_response(reader)
        except RETRYABLE:
            state.errors += int(due >= state.window_start)
            return
        finally:
            if writer is not None:
                writer.close()
        if due >= state.window_start:  # counted by when it was due, so the window holds exactly the paced ones
            state.statuses[status] = state.statuses.get(status, 0) + 1
            if status != endpoint.ok_status:
                state.errors += 1
                state.first_error_body = state.first_error_body or body[:300] or b"-"
            elif b'"duplicates":[{' in body:
                state.with_duplicates += 1
            state.latencies.append(time.perf_counter() - due)

    async def main() -> None:
        in_flight: set[asyncio.Task] = set()
        start = state.window_start - args.warmup
        measured_started = False
        for i in range(total):
            due = start + i / rate
            if not measured_started and due >= state.window_start:
                sampler.start()
                measured_started = True
            request = endpoint.make()  # built before it is due: not part of the latency
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() - due > 0.005 and due >= state.window_start:
                result.late += 1
            if len(in_flight) >= args.max_in_flight:
                result.shed += int(due >= state.window_start)
                continue
            task = asyncio.create_task(one(due, request))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.gather(*in_flight)
        if measured_started:
            sampler.stop(result)

    asyncio.run(main())
    return finish(result, state, duration)


def measure_until_quiet(label: str, run: Callable[[], Measurement], args: argparse.Namespace) -> Measurement:
    print(f"{label:<44}", end=" ", flush=True)
    for attempt in range(1 + args.retries):
        if args.max_other:
            wait_for_quiet(args.max_other / 100, args.quiet_wait)
        result = run()
        if not args.max_other or result.other_cpu * 100 <= args.max_other:
            break
        if attempt < args.retries:
            print(f"[noisy: other CPU {result.other_cpu * 100:.0f}%, again]", end=" ", flush=True)
    print(
        f"{result.rps:6.0f} req/s, p99 {percentile(sorted(result.latencies), 99) * 1000:6.1f} ms, "
        f"{result.errors} errors, other CPU {result.other_cpu * 100:.0f}%",
        flush=True,
    )
    if result.errors:
        print(f"    statuses: {result.statuses}; first error: {result.first_error_body!r}", flush=True)
    return result


# --- report --------------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def row(result: Measurement) -> str:
    latencies = sorted(result.latencies)
    dup = f"{result.with_duplicates / result.completed * 100:.0f}%" if result.endpoint.key == "create" else "-"
    return (
        f"{result.endpoint.label:<34} {result.mode:<12} {result.rps:>7.0f} {percentile(latencies, 50) * 1000:>7.1f} "
        f"{percentile(latencies, 99) * 1000:>7.1f} {(latencies[-1] if latencies else float('nan')) * 1000:>7.1f} "
        f"{result.errors:>6} {dup:>4} {result.server_cpu * 100:>7.0f}% {result.store_cpu * 100:>6.0f}% "
        f"{result.gen_cpu * 100:>7.0f}% {result.other_cpu * 100:>5.0f}%"
    )


def print_report(
    closed: list[Measurement],
    paced: Measurement | None,
    counts: dict[str, int],
    args: argparse.Namespace,
    pinned: bool,
) -> None:
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("Django", "gunicorn", "psycopg"))
    db = urlsplit(args.database_url)
    print()
    print(f"Creating cases over HTTP - {datetime.datetime.now().isoformat(timespec='seconds')}")
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    print(f"  machine: {os.cpu_count()} cores, {system}; {versions}")
    print(
        f"  server: gunicorn config.wsgi:application, {args.workers} sync workers; database: PostgreSQL "
        f"{db.hostname}{db.path} (recreated); REDIS_URL {args.redis_url} (cache, cached_db sessions, channel layer)"
    )
    print("  settings: config.settings.local, DEBUG off, log level WARNING; 127.0.0.1 only")
    placement = "gunicorn pinned to CPU 0, load generator to CPU 1" if pinned else "not pinned"
    print(f"  load generator: this Python process (asyncio, raw HTTP/1.1); {placement}; PostgreSQL/Redis not pinned")
    print(
        f"  closed loop: {args.duration:g} s measured after {args.warmup:g} s warmup per level; paced: "
        f"{args.paced_duration:g} s at half the create peak; {args.merchants} merchants, random token and unique "
        "Idempotency-Key per request"
    )
    print(f"  baseline: GET {BARE}, a bare JsonResponse view (no database, session or Redis), same server, same run")
    print()
    header = (
        f"{'endpoint':<34} {'load':<12} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6} "
        f"{'dup':>4} {'srv CPU':>8} {'db CPU':>7} {'gen CPU':>8} {'other':>6}"
    )
    print(header)
    print("-" * len(header))
    for result in closed:
        print(row(result))
    if paced is not None:
        print(row(paced))
    print()
    peaks = {}
    for key in ("bare", "authed", "create"):
        mine = [result for result in closed if result.endpoint.key == key]
        if mine:
            peaks[key] = max(mine, key=lambda result: result.rps)
    for best in peaks.values():
        print(f"peak {best.endpoint.label}: {best.rps:.0f} req/s at {best.concurrency} connections")
    if "bare" in peaks and "create" in peaks:
        ratio = peaks["create"].rps / peaks["bare"].rps if peaks["bare"].rps else float("nan")
        met = ratio >= TARGET_RATIO and peaks["create"].errors == 0
        print(
            f"target create throughput >= {TARGET_RATIO * 100:.0f}% of the bare view's: {'met' if met else 'NOT met'} "
            f"({ratio * 100:.1f}%: {peaks['create'].rps:.0f} vs {peaks['bare'].rps:.0f} req/s)"
        )
    if "authed" in peaks and "create" in peaks and "bare" in peaks and peaks["bare"].rps and peaks["authed"].rps:
        print(
            f"context: the authenticated read alone is {peaks['authed'].rps / peaks['bare'].rps * 100:.1f}% of the "
            f"bare view; create / authenticated read: {peaks['create'].rps / peaks['authed'].rps * 100:.1f}%"
        )
    if paced is not None:
        latencies = sorted(paced.latencies)
        p99 = percentile(latencies, 99) * 1000
        met = p99 < TARGET_P99_MS and paced.errors == 0 and paced.shed == 0
        print(
            f"target p99 < {TARGET_P99_MS:.0f} ms at half the measured create peak ({paced.target_rate:.0f} req/s "
            f"offered, {paced.rps:.0f} answered/s): {'met' if met else 'NOT met'} ({p99:.1f} ms; "
            f"{paced.completed} requests, {paced.late} sent >5 ms late, {paced.shed} shed, {paced.errors} errors)"
        )
    if counts:
        print()
        print("database after the run: " + ", ".join(f"{name} {value}" for name, value in counts.items()))


# --- main ----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--merchants", type=int, default=50, help="merchants (members with a session token each)")
    parser.add_argument("--concurrency", default="8,16,32", help="closed-loop connection counts, comma-separated")
    parser.add_argument("--duration", type=float, default=6.0, help="measured seconds per closed-loop level")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each measurement")
    parser.add_argument("--paced-duration", type=float, default=20.0, help="measured seconds of the paced run")
    parser.add_argument("--paced-fraction", type=float, default=0.5, help="paced rate as a fraction of the peak")
    parser.add_argument("--max-in-flight", type=int, default=256, help="paced run: most requests open at once")
    parser.add_argument("--max-requests", type=int, default=100_000, help="stop a measurement after this many")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    parser.add_argument("--endpoint", choices=("incidents", "disputes"), default="incidents", help="what to create")
    parser.add_argument("--spread-km", type=float, default=10.0, help="side of the square the reports fall in")
    parser.add_argument("--seed", type=int, default=4, help="random seed for tokens and places")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL; DROPPED and recreated")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis database for cache and channel layer")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and load generator to CPUs")
    parser.add_argument(
        "--max-other",
        type=float,
        default=25.0,
        help="%% of a core other processes (not the server, PostgreSQL, Redis or this one) may use: wait for a "
        "quiet machine before each measurement and take it again when they used more (0: never wait)",
    )
    parser.add_argument("--retries", type=int, default=2, help="how often a noisy measurement is taken again")
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="longest wait for a quiet machine, seconds")
    args = parser.parse_args(argv)
    try:
        args.levels = [int(level) for level in args.concurrency.split(",") if level.strip()]
    except ValueError:
        parser.error("--concurrency takes comma-separated integers")
    if not args.levels or min(args.levels) < 1 or args.workers < 1 or args.merchants < 1:
        parser.error("concurrency levels, workers and merchants must be positive")
    if args.duration <= 0 or args.paced_duration <= 0 or args.warmup < 0 or not 0 < args.paced_fraction <= 1:
        parser.error("durations must be positive and --paced-fraction within (0, 1]")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally block stops the server
    pinned = not args.no_pin and (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")
    if pinned:
        os.sched_setaffinity(0, {1})
    if not redis_answers(args.redis_url):
        raise SystemExit(f"Redis does not answer at {args.redis_url}: this benchmark measures the Redis layout")
    env = server_env(args.database_url, args.redis_url)
    dbname = database_name(args.database_url)

    print(f"Recreating {dbname}, migrating, {args.merchants} merchants and sessions ...", flush=True)
    setup = prepare_database(env, args)
    cleared = clear_channel_layer_groups(args.redis_url)
    print(f"  alliance {setup['alliance']}, {len(setup['tokens'])} tokens; cleared {cleared} channel-layer keys")

    port = free_port()
    argv_server = [
        venv_script("gunicorn"),
        "--workers",
        str(args.workers),
        "--worker-class",
        "sync",
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "config.wsgi:application",
    ]
    bare = Endpoint("bare", f"GET {BARE} (bare view)", lambda: raw_request("GET", BARE, port, {}), 200)
    tokens = setup["tokens"]
    authed = Endpoint(
        "authed",
        f"GET {AUTHED} (auth only)",
        lambda: raw_request("GET", AUTHED, port, {"X-Session-Token": random.choice(tokens)}),
        200,
    )
    make_create = CreateRequests(args.endpoint, port, setup["alliance"], setup["tokens"], args.spread_km, args.seed)
    create = Endpoint("create", f"POST .../{setup['alliance']}/{args.endpoint}", make_create, 201)
    if args.endpoint == "disputes":
        print("NOTE: measuring POST /api/v1/alliances/{id}/disputes (dispute flags), not incidents", flush=True)

    closed: list[Measurement] = []
    paced: Measurement | None = None
    server = Server(argv_server, f"gunicorn {args.workers} sync workers", env, pin_cpu=0 if pinned else None, port=port)
    try:
        server.wait_ready()
        probe = make_create()
        head, _, body = probe.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
        status, answer = http_request(port, "POST", make_create.path, headers, body)
        if status != 201:
            raise SystemExit(
                f"the create endpoint answered {status} instead of 201: {answer[:500]!r}\n"
                f"server log:\n{server.log_tail()}\n(try again later, or --endpoint disputes)"
            )
        print(f"  probe: {make_create.path} answered 201 (id {json.loads(answer).get('id')})", flush=True)
        sampler = CpuSampler(server, dbname)
        for level in args.levels:
            for endpoint in (bare, authed, create):
                label = f"{endpoint.label} closed {level}"
                closed.append(
                    measure_until_quiet(
                        label, lambda e=endpoint, n=level: measure_closed(server, sampler, e, n, args), args
                    )
                )
        peak = max((result for result in closed if result.endpoint.key == "create"), key=lambda r: r.rps)
        rate = max(1.0, peak.rps * args.paced_fraction)
        paced = measure_until_quiet(
            f"{create.label} paced {rate:.0f}/s", lambda: measure_paced(server, sampler, create, rate, args), args
        )
        if server.proc.poll() is not None:
            raise SystemExit(f"gunicorn exited during the run:\n{server.log_tail()}")
    finally:
        server.stop()

    counts = database_counts(env)
    print_report(closed, paced, counts, args, pinned)
    return 0


if __name__ == "__main__":
    sys.exit(main())
