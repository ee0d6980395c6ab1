"""Live channel fan-out benchmark: one sender, one group of 1,000 members online, against a bare websockets floor.

What it measures
    Delivery latency of a group message from the moment one member sends it on the live channel (``/ws/``,
    frame ``{"type": "send", ...}``) until every other member's socket has the matching ``message`` event, with
    ``--members`` (1,000) receivers connected at once. Each of ``--rounds`` rounds sends one message; every
    (round, receiver) pair is one sample: ``arrival - t0``, where ``t0`` is taken right before the sender's frame
    goes out and ``arrival`` when the bytes of the receiver's text frame reach this process (the connection's
    ``data_received``, before the client's own queueing behind the other 999 sockets; the frame is then matched
    to its round by its body). The same clients, rounds and spacing run against up to three servers, each a
    separate process on a free 127.0.0.1 port:

    * ``floor (websockets)``: a minimal broadcast server in this file (``--floor-server PORT``) written directly on
      ``websockets.asyncio.server.serve``: a set of connections, and every ``send`` frame is decoded, numbered and
      sent to all of them with ``websockets.broadcast`` as one JSON ``message`` event shaped like ours. No
      database, no auth, no channel layer: the lowest cost of getting one frame to 1,000 sockets from Python;
    * ``ours, in-memory layer``: ONE daphne process serving ``config.asgi`` (``python -m daphne``), the embedded
      default (InMemoryChannelLayer, SQLite or the ``--database-url`` database);
    * ``ours, Redis layer``: the same with ``REDIS_URL=redis://127.0.0.1:6379/13``, i.e. channels-redis, the
      Redis cache and cached_db sessions as in production. Run when Redis answers (``--no-redis`` skips it,
      ``--redis-only`` runs only the floor and this).

    Our path per message: the sender's consumer stores the line (``groups.services.message_send``: group row
    lock, gap-free seq, INSERT) in a database thread, publishes it on commit to ``group.<id>`` once, the process's
    hub (groups/delivery.py) receives it once from the layer and hands the serialised text to each local socket
    (``LiveConsumer.hub_event`` -> ``send`` -> daphne/autobahn frame -> Twisted transport).

How to run it
    cd /work/main && .venv/bin/python bench/ws_fanout.py [--members 1000] [--rounds 50] [--warmup 5]
        [--database-url sqlite:////tmp/pingan-ws-bench.sqlite3 | postgres://postgres@127.0.0.1:5432/pingan_ws_bench]
        [--no-redis | --redis-only] [--no-pin] [--batch 50] [--spacing 0.05] [--min-interval 0.25]
        [--slice 10] [--max-other 20] [--retries 3] [--quiet-wait 120] [--round-timeout 10] [--timeout 1200]

    The script prepares the database first: ``manage.py migrate`` (DJANGO_SETTINGS_MODULE=config.settings.local),
    then, in ``manage.py shell``, one Station, one Alliance, its default groups, ``--members`` + 1 users (user 0
    sends, the others receive) added to the main group with ``bulk_create`` (no system line per member), and one
    logged-in session per user, whose key is the token in ``/ws/?token=``. The default SQLite file is recreated
    each run; a PostgreSQL database is created with ``createdb`` if absent and the previous run's bench rows
    (alliance ``ws-bench`` and its +86139 members) are deleted first. With Redis, the channel-layer group keys
    of database 13 are cleared so that no dead hub channel of an earlier run receives copies. The script then,
    per server: starts it (server pinned to CPU 0, this client process to CPU 1), opens the connections in
    batches of ``--batch`` (each waits for ``hello``), runs ``--warmup`` unmeasured rounds and ``--rounds``
    measured ones in slices of ``--slice`` rounds, closes the connections and stops the server (also on errors
    and Ctrl-C). Before each slice it waits (up to ``--quiet-wait`` s) until the rest of the machine uses at most
    ``--max-other`` % of a core, and measures a slice again (up to ``--retries`` times) when others used more
    meanwhile. About 3 minutes with the defaults on a quiet machine, mostly connecting 1,000 sockets to daphne.
    Everything is bounded by ``--timeout`` (per server) and ``--round-timeout`` (per round); a round that times
    out counts its missing receivers, and three such rounds end that server's run. A server that fails (refused
    connections, closed sockets, nothing delivered) is reported as FAILED with the tail of its log, and the
    others are still measured; the exit status is then 1.

How to read it
    * ``p50``/``p99``/``max`` pool every (round, receiver) sample of the measured rounds. The receivers are
      served one after the other, so within one round the latencies spread from the first socket written to the
      last; p99 is close to the time the last receivers get the message.
    * ``all p50``/``all p99``: per round, the time until ALL receivers had it (the slowest receiver), median and
      99th percentile over rounds (nearest rank: with 50 rounds p99 is the slowest round).
    * ``missing``: samples that never arrived within the round timeout (should be 0).
    * ``srv ms/round`` and ``cli ms/round``: CPU time the server process and this client process spent per
      measured round (round spacing included); ``other``: CPU used by everything else on the machine meanwhile
      (in % of one core, over the slices kept; well above a few % means the figures are noisy; with PostgreSQL
      or Redis their own CPU counts here). A note under a row says how many noisy slices were measured again.
    * The client shares the machine with the server: one asyncio process takes 1,000 frames per round on its
      own core (about 0.1 ms of CPU each), so the floor is mostly the client's own cost: its server needs a
      fraction of that. Ours is server-bound when ``srv ms/round`` exceeds ``cli ms/round``. The ratios
      ``ours/floor`` compare the servers on equal terms, and the target is p99 within 2x the floor.
    * Rounds start after the previous one completed plus ``--spacing`` (50 ms), and no sooner than
      ``--min-interval`` (250 ms) after the previous send, because the live channel limits a socket to 5
      messages a second (burst 20) and would answer ``rate_limited``; the floor gets the same schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import http.client
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only, never anything else
DEFAULT_DATABASE_URL = "sqlite:////tmp/pingan-ws-bench.sqlite3"
BENCH_REDIS_URL = "redis://127.0.0.1:6379/13"
BENCH_SLUG = "ws-bench"
PHONE_BASE = 13900000000  # +86139xxxxxxxx, one per user: user n is +86 (PHONE_BASE + n)
TARGET_RATIO = 2.0

SETUP_SCRIPT = """
import json
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from alliance.models import Alliance, Station
from groups.models import ContactGroup, GroupMembership
from groups.services import contact_groups_create_defaults

User = get_user_model()
COUNT = {count}
PHONES = ["+86" + str({phone_base} + n) for n in range(COUNT)]

with transaction.atomic():
    # A previous run against the same (PostgreSQL) database: start over.
    for old in Alliance.objects.filter(slug={slug!r}):
        ContactGroup.objects.filter(alliance=old).delete()
        station = old.station
        old.delete()
        if not station.alliances.exists():
            station.delete()
    User.objects.filter(display_name__startswith="ws-bench ").delete()

    station = Station.objects.create(name="ws-bench station", city="Hangzhou")
    alliance = Alliance.objects.create(name="ws-bench alliance", slug={slug!r}, station=station)
    group = contact_groups_create_defaults(alliance=alliance)[0]
    users = [User(phone=phone, display_name="ws-bench " + str(n)) for n, phone in enumerate(PHONES)]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users, batch_size=500)
    by_phone = {{str(user.phone): user for user in User.objects.filter(phone__in=PHONES)}}
    users = [by_phone[phone] for phone in PHONES]
    GroupMembership.objects.bulk_create(
        [GroupMembership(group=group, user=user, role=GroupMembership.Role.MEMBER) for user in users], batch_size=500
    )
    engine = import_module(settings.SESSION_ENGINE)
    tokens = []
    for user in users:
        session = engine.SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        tokens.append(session.session_key)

with open({out!r}, "w") as handle:
    json.dump({{"group": group.pk, "tokens": tokens}}, handle)
print("WS-BENCH-SETUP-OK")
"""


# --- environment and database --------------------------------------------------------------------------------


def server_env(database_url: str, redis_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DJANGO_DEBUG", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": database_url,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def ensure_postgres_database(database_url: str) -> None:
    url = urlsplit(database_url)
    name = unquote(url.path.lstrip("/"))
    if not name:
        raise SystemExit(f"no database name in {database_url!r}")
    conn = ["-h", url.hostname or HOST, "-p", str(url.port or 5432), "-U", unquote(url.username or "postgres")]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = unquote(url.password)
    found = subprocess.run(
        ["psql", *conn, "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    if found.stdout.strip() != "1":
        subprocess.run(["createdb", *conn, name], env=env, check=True)


def prepare_database(database_url: str, members: int) -> tuple[int, list[str]]:
    """Migrate, create the alliance, its group, members + 1 users and their sessions; return (group id, tokens)."""
    env = server_env(database_url)
    scheme = urlsplit(database_url).scheme
    if scheme in ("postgres", "postgresql", "pgsql", "psql"):
        ensure_postgres_database(database_url)
    elif scheme == "sqlite" and database_url == DEFAULT_DATABASE_URL:
        for suffix in ("", "-wal", "-shm"):  # throwaway file: start fresh so every run sees the same database
            Path(urlsplit(database_url).path + suffix).unlink(missing_ok=True)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    with tempfile.NamedTemporaryFile(prefix="ws-bench-setup-", suffix=".json", delete=False) as handle:
        out_path = handle.name
    try:
        script = SETUP_SCRIPT.format(count=members + 1, phone_base=PHONE_BASE, slug=BENCH_SLUG, out=out_path)
        done = subprocess.run(
            [*manage, "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0 or "WS-BENCH-SETUP-OK" not in done.stdout:
            raise SystemExit(f"setup failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        data = json.loads(Path(out_path).read_text())
    finally:
        Path(out_path).unlink(missing_ok=True)
    return data["group"], data["tokens"]


def redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def clear_channel_layer_groups(url: str) -> int:
    """Forget channel-layer group memberships left in the bench's Redis database by earlier runs."""
    import redis  # installed with channels-redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match="asgi:group:*", count=1000))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


def raise_open_files_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise SystemExit(f"open files limit {soft} is below the {needed} this run needs (ulimit -n)")
    return soft


# --- servers -------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 2.0) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@dataclass
class ServerSpec:
    key: str  # "floor", "memory", "redis"
    label: str
    ws_path: str  # "/ws/" for ours, "/" for the floor
    redis: bool = False


class Server:
    def __init__(self, spec: ServerSpec, env: dict[str, str], pin_cpu: int | None):
        self.spec = spec
        self.port = free_port()
        if spec.key == "floor":
            argv = [sys.executable, str(Path(__file__).resolve()), "--floor-server", str(self.port)]
        else:
            argv = [sys.executable, "-m", "daphne", "-b", HOST, "-p", str(self.port), "-v", "0"]
            argv.append("config.asgi:application")
        self.log = tempfile.NamedTemporaryFile(prefix=f"ws-bench-{spec.key}-", suffix=".log", delete=False)
        preexec = (lambda: os.sched_setaffinity(0, {pin_cpu})) if pin_cpu is not None else None
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec,  # the parent is single-threaded when servers start
        )

    def log_tail(self, lines: int = 40) -> str:
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.spec.label} exited with {self.proc.returncode}")
            try:
                if self.spec.key == "floor":
                    with socket.create_connection((HOST, self.port), timeout=1):
                        return
                elif http_get(self.port, "/healthz") == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.spec.label} did not answer within {timeout:.0f} s")

    def cpu_seconds(self) -> float:
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

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


def machine_busy_seconds() -> float:
    """CPU time spent busy by the whole machine (all cores), from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


async def wait_for_quiet(limit: float, timeout: float) -> float:
    """Wait until the machine's busy CPU over one second is at most ``limit`` (fraction of one core)."""
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        before = machine_busy_seconds()
        await asyncio.sleep(1.0)
        busy = machine_busy_seconds() - before
        if busy <= limit or time.monotonic() >= deadline:
            if announced:
                print(f"  (busy {busy * 100:.0f}%, measuring)", flush=True)
            return busy
        if not announced:
            print(f"  [machine busy {busy * 100:.0f}% of a core, waiting up to {timeout:.0f} s]", flush=True)
            announced = True


# --- the floor: a bare broadcast server on websockets ----------------------------------------------------------


def floor_server(port: int) -> int:
    """Every connection joins one set; every ``send`` frame is numbered and broadcast to all as one JSON event."""
    import websockets
    from websockets.asyncio.server import serve

    connections: set = set()
    state = {"seq": 0}

    async def handler(ws) -> None:
        connections.add(ws)
        try:
            await ws.send(json.dumps({"type": "hello", "user": {"id": 0, "display_name": ""}, "groups": {}}))
            async for raw in ws:
                frame = json.loads(raw)
                if not isinstance(frame, dict) or frame.get("type") != "send":
                    continue
                state["seq"] += 1
                seq, group = state["seq"], frame.get("group")
                body, client_id = str(frame.get("body", "")), str(frame.get("client_id", ""))
                # The same fields as groups.presentation.message_payload, so clients decode the same amount.
                event = {
                    "type": "message",
                    "group": group,
                    "seq": seq,
                    "message": {
                        "group": group,
                        "seq": seq,
                        "kind": "text",
                        "sender": {"id": 1, "display_name": "ws-bench 0"},
                        "body": body,
                        "payload": {},
                        "client_id": client_id,
                        "is_pinned": False,
                        "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
                        "deleted": False,
                        "location": None,
                        "image": None,
                    },
                }
                websockets.broadcast(connections, json.dumps(event, ensure_ascii=False))
                ack = {"type": "sent", "group": group, "seq": seq, "client_id": client_id, "created": True}
                await ws.send(json.dumps(ack))
        finally:
            connections.discard(ws)

    async def main() -> None:
        async with serve(handler, HOST, port, compression=None, ping_interval=None, backlog=512) as server:
            await server.serve_forever()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        asyncio.run(main())
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


# --- clients -------------------------------------------------------------------------------------------------


@dataclass
class Round:
    index: int
    body: str
    receivers: int
    t0: float = 0.0
    arrivals: dict[int, float] = field(default_factory=dict)  # receiver index -> latency in seconds
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def arrived(self, receiver: int, now: float) -> None:
        if receiver not in self.arrivals:
            self.arrivals[receiver] = now - self.t0
            if len(self.arrivals) == self.receivers:
                self.done.set()


@dataclass
class Result:
    spec: ServerSpec
    members: int
    rounds: list[Round]
    connect_seconds: float
    server_cpu: float  # seconds over the measured rounds
    client_cpu: float
    other_cpu: float  # fraction of one core
    window: float
    sender_errors: list[dict]
    repeated: int = 0  # noisy slices measured again


def stamping_connection_class():
    """A websockets client connection that notes when the bytes of each text frame reach this process.

    The event loop hands every readable socket its bytes first (``data_received``) and resumes the tasks waiting
    in ``recv()`` afterwards, so the time ``recv()`` returns includes the client's own work on the other sockets
    that were ready in the same turn. The stamp here is taken before that: a server text frame starts with 0x81
    (FIN + text, unmasked); one stamp per chunk that starts one (the events of a round are small and arrive one
    per chunk; a chunk holding more than one frame leaves the later frames to the ``recv()`` time).
    """
    from collections import deque

    from websockets.asyncio.client import ClientConnection

    class StampingConnection(ClientConnection):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.stamps: deque[float] = deque()

        def data_received(self, data: bytes) -> None:
            if data[:1] == b"\x81":
                self.stamps.append(time.perf_counter())
            super().data_received(data)

        def arrival(self) -> float:
            """The stamp of the text frame ``recv()`` just returned (or now, when it had none)."""
            return self.stamps.popleft() if self.stamps else time.perf_counter()

    return StampingConnection


class FanoutClient:
    """N receiving sockets and one sending socket, all in this process's event loop."""

    def __init__(
        self, url: str, tokens: list[str], group: int, args: argparse.Namespace, check_group: bool, first_index: int
    ):
        self.url = url
        self.tokens = tokens  # tokens[0] sends, tokens[1:] receive
        self.group = group
        self.args = args
        self.check_group = check_group
        self.sockets: list = []
        self.readers: list[asyncio.Task] = []
        self.by_body: dict[str, Round] = {}
        self.sender_errors: list[dict] = []
        self.connection_class = stamping_connection_class()
        self.next_index = first_index

    async def open_one(self, token: str):
        from websockets.asyncio.client import connect

        ws = await connect(
            f"{self.url}?token={token}",
            compression=None,
            ping_interval=None,
            proxy=None,
            open_timeout=self.args.round_timeout * 3,
            close_timeout=2,
            max_queue=None,
            create_connection=self.connection_class,
        )
        hello = json.loads(await asyncio.wait_for(ws.recv(), self.args.round_timeout * 3))
        ws.stamps.clear()
        if hello.get("type") != "hello":
            await ws.close()
            raise RuntimeError(f"expected hello, got {hello}")
        if self.check_group and str(self.group) not in hello.get("groups", {}):
            await ws.close()
            raise RuntimeError(f"the bench group {self.group} is not in hello: {hello}")
        return ws

    async def connect_all(self) -> None:
        batch = self.args.batch
        for start in range(0, len(self.tokens), batch):
            opened = await asyncio.gather(
                *(self.open_one(token) for token in self.tokens[start : start + batch]), return_exceptions=True
            )
            for ws in opened:
                if not isinstance(ws, BaseException):
                    self.sockets.append(ws)
            failures = [ws for ws in opened if isinstance(ws, BaseException)]
            if failures:
                raise RuntimeError(f"{len(failures)} connections failed, first: {failures[0]!r}")
            print(f"\r  connected {len(self.sockets)}/{len(self.tokens)}", end="", flush=True)
        print(flush=True)
        self.readers = [asyncio.create_task(self.read_sender(self.sockets[0]))]
        self.readers += [asyncio.create_task(self.read(ws, n)) for n, ws in enumerate(self.sockets[1:])]

    async def read(self, ws, receiver: int) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in ws:
                now = ws.arrival()
                event = json.loads(raw)
                if event.get("type") == "message":
                    found = self.by_body.get(event["message"]["body"])
                    if found is not None:
                        found.arrived(receiver, now)
        except ConnectionClosed:
            pass

    async def read_sender(self, ws) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in ws:
                ws.arrival()
                event = json.loads(raw)
                if event.get("type") == "error":
                    self.sender_errors.append(event)
        except ConnectionClosed:
            pass

    async def run_rounds(self, total: int) -> list[Round]:
        rounds = []
        receivers = len(self.sockets) - 1
        last_send = 0.0
        timeouts = 0
        for _ in range(total):
            # Unique over the whole run: the server stores each message and answers a repeated client_id from
            # the same sender with the stored one, without publishing it again.
            index = self.next_index
            self.next_index += 1
            wait = last_send + self.args.min_interval - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            body = f"bench {index}"
            current = Round(index=index, body=body, receivers=receivers)
            self.by_body[body] = current
            frame = json.dumps({"type": "send", "group": self.group, "client_id": f"b-{index}", "body": body})
            current.t0 = last_send = time.perf_counter()
            await self.sockets[0].send(frame)
            try:
                await asyncio.wait_for(current.done.wait(), self.args.round_timeout)
            except TimeoutError:
                print(f"  round {body!r}: {len(current.arrivals)}/{receivers} arrived in time", flush=True)
                timeouts += 1
                if timeouts >= 3:
                    raise RuntimeError(f"3 rounds timed out; sender errors: {self.sender_errors[-3:]}")
            rounds.append(current)
            await asyncio.sleep(self.args.spacing)
        return rounds

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        for start in range(0, len(self.sockets), 200):
            await asyncio.gather(*(ws.close() for ws in self.sockets[start : start + 200]), return_exceptions=True)


def measure(server: Server, tokens: list[str], group: int, args: argparse.Namespace, first_index: int) -> Result:
    url = f"ws://{HOST}:{server.port}{server.spec.ws_path}"
    client = FanoutClient(url, tokens, group, args, check_group=server.spec.key != "floor", first_index=first_index)
    totals = {"server": 0.0, "client": 0.0, "other": 0.0, "t": 0.0, "connect": 0.0, "repeated": 0}

    async def measured_slice(count: int) -> tuple[list[Round], dict[str, float]]:
        """``count`` rounds; returns them and the CPU seconds used meanwhile by the server, this client and others."""
        server_cpu, client_cpu, busy, started = (
            server.cpu_seconds(),
            time.process_time(),
            machine_busy_seconds(),
            time.perf_counter(),
        )
        rounds = await client.run_rounds(count)
        server_cpu = server.cpu_seconds() - server_cpu
        client_cpu = time.process_time() - client_cpu
        busy = machine_busy_seconds() - busy
        elapsed = time.perf_counter() - started
        other = max(0.0, busy - server_cpu - client_cpu)
        return rounds, {"server": server_cpu, "client": client_cpu, "other": other, "t": elapsed}

    async def main() -> list[Round]:
        measured: list[Round] = []
        try:
            async with asyncio.timeout(args.timeout):
                started = time.perf_counter()
                await client.connect_all()
                totals["connect"] = time.perf_counter() - started
                await asyncio.sleep(1.0)  # let the server finish what connecting queued
                await client.run_rounds(args.warmup)
                # Measured in slices; before each the machine must be quiet, and a slice during which other
                # processes used more than --max-other is measured again (up to --retries times).
                remaining = args.rounds
                while remaining:
                    count = min(args.slice, remaining)
                    for attempt in range(args.retries + 1):
                        await asyncio.sleep(0.3)
                        if args.max_other:
                            await wait_for_quiet(args.max_other / 100, args.quiet_wait)
                        rounds, used = await measured_slice(count)
                        other = used["other"] / used["t"]
                        if not args.max_other or other * 100 <= args.max_other or attempt == args.retries:
                            break
                        totals["repeated"] += 1
                        print(f"  [noisy slice: other CPU {other * 100:.0f}%, measuring it again]", flush=True)
                    for key in ("server", "client", "other", "t"):
                        totals[key] += used[key]
                    measured += rounds
                    remaining -= count
                return measured
        finally:
            try:
                async with asyncio.timeout(30):
                    await client.close()
            except TimeoutError:
                print("  closing the client connections timed out", flush=True)

    measured = asyncio.run(main())
    return Result(
        spec=server.spec,
        members=len(tokens) - 1,
        rounds=measured,
        connect_seconds=totals["connect"],
        server_cpu=totals["server"],
        client_cpu=totals["client"],
        other_cpu=totals["other"] / totals["t"] if totals["t"] else 0.0,
        window=totals["t"],
        sender_errors=client.sender_errors,
        repeated=int(totals["repeated"]),
    )


# --- report --------------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Row:
    result: Result
    p50: float
    p99: float
    max: float
    all_p50: float
    all_p99: float
    missing: int


def summarise(result: Result) -> Row:
    samples = sorted(latency for r in result.rounds for latency in r.arrivals.values())
    complete = sorted(max(r.arrivals.values()) for r in result.rounds if len(r.arrivals) == r.receivers)
    missing = sum(r.receivers - len(r.arrivals) for r in result.rounds)
    return Row(
        result=result,
        p50=percentile(samples, 50) * 1000,
        p99=percentile(samples, 99) * 1000,
        max=(samples[-1] if samples else float("nan")) * 1000,
        all_p50=percentile(complete, 50) * 1000,
        all_p99=percentile(complete, 99) * 1000,
        missing=missing,
    )


def print_report(
    rows: list[Row], failures: dict[str, str], args: argparse.Namespace, db_label: str, pinned: bool
) -> None:
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("Django", "channels", "channels-redis", "daphne", "websockets")
    )
    print()
    print(f"Live channel fan-out - {datetime.datetime.now().isoformat(timespec='seconds')}")
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    print(f"  machine: {os.cpu_count()} cores, {system}")
    print(f"  {versions}")
    print(f"  database: {db_label}; settings: config.settings.local, DEBUG off, log level WARNING; 127.0.0.1 only")
    print(
        f"  one sender, {args.members} receivers online in one group; {args.rounds} measured rounds after "
        f"{args.warmup} warmup rounds; next round {args.spacing * 1000:.0f} ms after all received, at most one "
        f"send per {args.min_interval * 1000:.0f} ms"
    )
    placement = "servers pinned to CPU 0, client to CPU 1" if pinned else "not pinned"
    print(f"  client: this Python process (asyncio, websockets), shares the machine with the server; {placement}")
    print()
    header = (
        f"{'server':<24} {'N':>5} {'rounds':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'all p50':>8} "
        f"{'all p99':>8} {'missing':>7} {'srv ms/round':>12} {'cli ms/round':>12} {'other':>6} {'connect s':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        r = row.result
        n_rounds = len(r.rounds) or 1
        print(
            f"{r.spec.label:<24} {r.members:>5} {len(r.rounds):>6} {row.p50:>8.1f} {row.p99:>8.1f} {row.max:>8.1f} "
            f"{row.all_p50:>8.1f} {row.all_p99:>8.1f} {row.missing:>7} {r.server_cpu / n_rounds * 1000:>12.1f} "
            f"{r.client_cpu / n_rounds * 1000:>12.1f} {r.other_cpu * 100:>5.0f}% {r.connect_seconds:>9.1f}"
        )
        if r.repeated:
            print(f"    {r.repeated} noisy slices of {args.slice} rounds were measured again")
        if r.sender_errors:
            print(f"    sender got {len(r.sender_errors)} error events, first: {r.sender_errors[0]}")
    for label, reason in failures.items():
        print(f"{label:<24} FAILED: {reason}")
    floor = next((row for row in rows if row.result.spec.key == "floor"), None)
    ours = [row for row in rows if row.result.spec.key != "floor"]
    if floor is None or not ours:
        return
    print()
    print("Ratio ours/floor:")
    for row in ours:
        print(
            f"  {row.result.spec.label:<24} p50 {row.p50 / floor.p50:.2f}x   p99 {row.p99 / floor.p99:.2f}x   "
            f"all-received p99 {row.all_p99 / floor.all_p99:.2f}x"
        )
    for row in ours:
        met = row.missing == 0 and row.p99 <= TARGET_RATIO * floor.p99
        print(
            f"target p99 <= {TARGET_RATIO:g}x floor ({row.result.spec.label}): {'met' if met else 'not met'} "
            f"({row.p99:.1f} ms vs {TARGET_RATIO * floor.p99:.1f} ms)"
        )


# --- main ----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000, help="receivers online in the group (plus one sender)")
    parser.add_argument("--rounds", type=int, default=50, help="measured rounds (one message each)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured rounds first")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="sqlite:////... or postgres://...")
    layers = parser.add_mutually_exclusive_group()
    layers.add_argument("--no-redis", action="store_true", help="only the in-memory channel layer")
    layers.add_argument("--redis-only", action="store_true", help="only the Redis channel layer (and the floor)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin servers and client to CPUs")
    parser.add_argument("--batch", type=int, default=50, help="connections opened at a time")
    parser.add_argument("--spacing", type=float, default=0.05, help="seconds between all received and next send")
    parser.add_argument(
        "--min-interval", type=float, default=0.25, help="at least this many seconds between two sends (rate limit)"
    )
    parser.add_argument("--round-timeout", type=float, default=10.0, help="seconds a round may take")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per server, connecting included")
    parser.add_argument(
        "--max-other",
        type=float,
        default=20.0,
        help="%% of a core other processes may use: wait for a quiet machine before the measured rounds (0: never)",
    )
    parser.add_argument("--slice", type=int, default=10, help="measured rounds per slice (noise check and retry)")
    parser.add_argument("--retries", type=int, default=3, help="how often a noisy slice is measured again")
    parser.add_argument("--quiet-wait", type=float, default=120.0, help="longest wait for a quiet machine, seconds")
    parser.add_argument("--floor-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_server is None and (args.members < 1 or args.rounds < 1 or args.warmup < 0 or args.batch < 1):
        parser.error("members, rounds and batch must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.floor_server is not None:
        raise_open_files_limit(args.members + 1 + 256)
        return floor_server(args.floor_server)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks stop the servers
    limit = raise_open_files_limit(args.members + 1 + 256)  # inherited by the servers

    specs = [ServerSpec("floor", "floor (websockets)", "/")]
    redis_up = redis_answers(BENCH_REDIS_URL)
    if not args.redis_only:
        specs.append(ServerSpec("memory", "ours, in-memory layer", "/ws/"))
    if not args.no_redis:
        if redis_up:
            specs.append(ServerSpec("redis", "ours, Redis layer", "/ws/", redis=True))
        elif args.redis_only:
            raise SystemExit(f"--redis-only, but Redis does not answer at {BENCH_REDIS_URL}")
        else:
            print(f"Redis does not answer at {BENCH_REDIS_URL}: measuring the in-memory layer only", flush=True)

    pinned = not args.no_pin and (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")
    if pinned:
        os.sched_setaffinity(0, {1})
    db = urlsplit(args.database_url)
    db_label = f"{db.scheme} {db.path if db.scheme == 'sqlite' else (db.hostname or '') + db.path}"
    print(f"Preparing the database ({db_label}): {args.members + 1} users and sessions ...", flush=True)
    group, tokens = prepare_database(args.database_url, args.members)
    print(f"  group {group}, {len(tokens)} tokens; open files limit {limit}", flush=True)

    results: list[Result] = []
    failures: dict[str, str] = {}
    for position, spec in enumerate(specs):
        if spec.redis:
            cleared = clear_channel_layer_groups(BENCH_REDIS_URL)
            if cleared:
                print(f"  cleared {cleared} channel-layer group keys left in {BENCH_REDIS_URL}", flush=True)
        env = server_env(args.database_url, BENCH_REDIS_URL if spec.redis else None)
        server = Server(spec, env, pin_cpu=0 if pinned else None)
        try:
            print(f"{spec.label}: starting on port {server.port}", flush=True)
            server.wait_ready()
            result = measure(server, tokens, group, args, first_index=position * 100_000)
            if server.proc.poll() is not None:
                raise RuntimeError(f"{spec.label} exited during the run")
            row = summarise(result)
            print(
                f"  p50 {row.p50:.1f} ms, p99 {row.p99:.1f} ms, max {row.max:.1f} ms, missing {row.missing}",
                flush=True,
            )
            results.append(result)
        except Exception as error:  # noqa: BLE001 - report it, measure the other servers
            failures[spec.label] = f"{type(error).__name__}: {error}"[:300]
            print(f"  FAILED: {failures[spec.label]}\n  server log (last lines):\n{server.log_tail()}", flush=True)
        finally:
            server.stop()

    print_report([summarise(result) for result in results], failures, args, db_label, pinned)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
