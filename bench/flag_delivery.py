"""Flag delivery benchmark: from a merchant's dispute flag over HTTP to the phones of 50 on-duty responders.

What it measures
    The time from sending ``POST /api/v1/alliances/{id}/disputes`` (``{"category": "quarrel"}``, the merchant's
    session token, a unique Idempotency-Key, as the app sends it) until each of ``--responders`` (50) responders,
    connected by WebSocket (``/ws/?token=...``) to ONE daphne process serving ``config.asgi:application``, has the
    ``case`` event for that dispute (matched by ``dispute.dispute_id``). Every responder is an alliance member with
    role mall_manager or volunteer, ``on_duty=True`` and ``on_duty_since`` set (as tests/reports/conftest.py builds
    them), so the flag reaches all of them at level 1 of the ladder; they are also in the alliance's contact groups
    (``contact_groups_member_joined``), so each also gets the case card as a group ``message`` (not counted).

    The path: the request's transaction stores the flag, its timeline, the card line (published to the group on
    commit) and ONE outbox row whose topics are the reporter's and the 50 responders' ``user.<id>``; after commit
    ``outbox_relay`` sends it to the Redis channel layer topic by topic; daphne's hub (groups/delivery.py) receives
    each once and writes it to the responder's socket.

    ``--via`` says which server answers the POST (both share Redis and the database):
    * ``gunicorn``: ``gunicorn config.wsgi:application`` with ``--workers`` (2) sync workers, as in production,
      where the REST API is served by WSGI workers and daphne serves only ``/ws/``;
    * ``daphne``: the same daphne process the sockets are connected to.
    The default measures both, gunicorn first; the target is judged on each row, production's is gunicorn's.

    Environment of both servers: DJANGO_SETTINGS_MODULE=config.settings.local, DATABASE_URL=``--database-url``
    (PostgreSQL, dropped and recreated each run), REDIS_URL=``--redis-url`` (Redis cache, cached_db sessions,
    Redis channel layer), DJANGO_LOG_LEVEL=WARNING, DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost, DEBUG off.

How to run it
    cd /work/main && .venv/bin/python bench/flag_delivery.py [--responders 50] [--rounds 30] [--warmup 3]
        [--via gunicorn,daphne] [--workers 2] [--spacing 0.3]
        [--database-url postgres://postgres@127.0.0.1:5432/pingan_bench_flags]
        [--redis-url redis://127.0.0.1:6379/12] [--no-pin] [--max-other 25]

    The script recreates the database (``dropdb --force``, ``createdb``, ``migrate``), creates in ``manage.py
    shell`` a station with its office, one alliance with its contact groups, one merchant with a store (the flag's
    location defaults to it) and the responders, and one logged-in session per person (the key is the token). It
    clears the channel-layer group keys (``asgi:group:*``) of the Redis database, starts daphne (and gunicorn) on
    free 127.0.0.1 ports, pinned to CPU 0 (this client to CPU 1), waits for ``/healthz``, connects the
    responders (each waits for ``hello``), runs ``--warmup`` unmeasured rounds and ``--rounds`` measured ones per
    server, and stops everything (also on errors and Ctrl-C). A round starts ``--spacing`` seconds after the
    previous one completed (all responders had it), so rounds never overlap. About a minute. Bounded by
    ``--round-timeout`` per round (a late responder counts as missing) and ``--timeout`` per server.

How to read it
    * ``p50``/``p99``/``max`` pool every (round, responder) sample: arrival minus the moment the POST was written
      to an already open connection (the connect is not counted). The arrival is stamped when the client's event
      loop receives the frame's bytes (before it decodes JSON), as bench/ws_fanout.py does.
    * ``last p50``/``last max``: per round, the time until the LAST responder had it (the slowest receiver);
      ``first p50``: until the first had it; the per-round last-receiver times are listed under the table.
      The spread between first and last is the relay going through the 51 topics one after the other.
    * ``POST p50``: until the HTTP answer (201) arrived. With gunicorn the relay runs in the request after the
      commit, so the answer comes after the events were handed to Redis.
    * ``srv ms/round``: CPU the HTTP server (gunicorn workers, or daphne when it serves the POST) and daphne
      spent per measured round; ``db ms/round``: PostgreSQL (this database's backends and its own processes) and
      redis-server; ``other``: everything else on the machine meanwhile, in % of one core (a slice above
      ``--max-other`` is measured again).
    * Steady state: rounds follow each other within a second, so daphne's hub always has traffic. An idle hub
      behaves differently: with redis-py 8 (default socket timeout 5 s) and channels-redis (BZPOPMIN for 5 s),
      the hub's blocking read times out after 5 idle seconds, groups/delivery.py logs a warning, sleeps 1 s and
      joins its topics again; a flag sent in that second waits for it. After every quiet wait the script
      therefore runs one unmeasured round before a measured slice. ``--spacing 5.5`` (rounds about 6 s apart)
      shows the idle behaviour.
    * Escalation after 2 minutes never fires: no Celery worker runs, and the run is shorter.
    * Target: p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from harness import HOST
from harness.load import (
    add_round_options,
    measure_rounds,
    open_in_batches,
    open_socket,
    raw_request,
    read_response,
    stamping_connection_class,
)
from harness.machine import CpuMeter, add_machine_options
from harness.processes import Server, daphne_argv, gunicorn_argv, pin_load_generator, raise_open_files_limit, run
from harness.stats import machine, percentile, print_header, stamped, versions
from harness.stores import (
    TOKEN_FOR,
    clear_channel_layer_groups,
    database_name,
    prepare_database,
    redis_answers,
    server_env,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_flags"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
PHONE_BASE = 13600000000  # person n is +86 (PHONE_BASE + n); 0 is the merchant
TARGET_P99_MS = 100.0

SETUP_SCRIPT = (
    TOKEN_FOR
    + """
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleGrant, User
from alliance.models import Alliance, AllianceMembership, Station, Store
from groups.services.contact_groups import contact_groups_create_defaults, contact_groups_member_joined

COUNT = {count}
now = timezone.now()
with transaction.atomic():
    station = Station.objects.create(name="基准派出所", city="常州", kind=Station.Kind.STATION)
    office = Station.objects.create(name="基准警务室", city="常州", kind=Station.Kind.OFFICE, parent=station)
    alliance = Alliance.objects.create(name="基准联盟", slug="bench-flags", station=station, office=office)
    contact_groups_create_defaults(alliance=alliance)
    merchant = User.objects.create_user("+86" + str({phone_base}), display_name="基准李老板")
    RoleGrant.objects.create(user=merchant, role=Role.MERCHANT, reason="bench")
    AllianceMembership.objects.create(alliance=alliance, user=merchant, role=AllianceMembership.Role.MERCHANT)
    contact_groups_member_joined(alliance=alliance, user=merchant)
    Store.objects.create(
        alliance=alliance, owner=merchant, name="花漾花店", address="青果巷 12 号",
        latitude=Decimal("31.777012"), longitude=Decimal("119.956301"),
    )
    responders = []
    for n in range(COUNT):
        role = ("mall_manager", "volunteer")[n % 2]
        user = User.objects.create_user("+86" + str({phone_base} + 1 + n), display_name="基准值班" + str(n))
        RoleGrant.objects.create(user=user, role=role, reason="bench")
        AllianceMembership.objects.create(
            alliance=alliance, user=user, role=role, on_duty=True, on_duty_since=now - timedelta(minutes=COUNT - n)
        )
        contact_groups_member_joined(alliance=alliance, user=user)
        responders.append(user)

result = {{
    "alliance": alliance.pk,
    "merchant": token_for(merchant),
    "responders": [[user.pk, token_for(user)] for user in responders],
}}
"""
)


# --- the client ----------------------------------------------------------------------------------------------


@dataclass
class Round:
    index: int
    receivers: int
    t0: float = 0.0
    http_seconds: float = 0.0
    dispute_id: int | None = None
    arrivals: dict[int, float] = field(default_factory=dict)  # responder index -> latency in seconds
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Result:
    via: str
    rounds: list[Round]
    connect_seconds: float
    server_cpu: float  # seconds over the measured rounds, HTTP server and daphne
    store_cpu: float
    other_cpu: float  # fraction of one core
    repeated: int = 0
    http_errors: list[str] = field(default_factory=list)


class FlagClient:
    def __init__(self, ws_port: int, http_port: int, setup: dict, args: argparse.Namespace):
        self.ws_port = ws_port
        self.http_port = http_port
        self.alliance = setup["alliance"]
        self.merchant_token = setup["merchant"]
        self.responders = setup["responders"]  # [user id, token]
        self.args = args
        self.sockets: list = []
        self.readers: list[asyncio.Task] = []
        # dispute id -> {responder index: perf_counter stamp}; events can arrive before the HTTP answer names the id
        self.seen: dict[int, dict[int, float]] = {}
        self.current: Round | None = None
        self.connection_class = stamping_connection_class()
        self.run_id = uuid.uuid4().hex[:8]
        self.count = 0

    async def open_one(self, responder: list):
        user_id, token = responder
        url = f"ws://{HOST}:{self.ws_port}/ws/?token={token}"
        ws, hello = await open_socket(url, self.args.round_timeout * 3, self.connection_class)
        if hello.get("type") != "hello" or hello.get("user", {}).get("id") != user_id:
            await ws.close()
            raise RuntimeError(f"expected hello for user {user_id}, got {str(hello)[:200]}")
        return ws

    async def connect_all(self) -> None:
        await open_in_batches(self.open_one, self.responders, 25, self.sockets)
        self.readers = [asyncio.create_task(self.read(ws, n)) for n, ws in enumerate(self.sockets)]

    async def read(self, ws, receiver: int) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in ws:
                stamp = ws.arrival()
                event = json.loads(raw)
                if event.get("type") != "case" or event.get("case") != "dispute":
                    continue
                dispute_id = event.get("dispute", {}).get("dispute_id")
                got = self.seen.setdefault(dispute_id, {})
                got.setdefault(receiver, stamp)
                current = self.current
                if current is not None and current.dispute_id == dispute_id and len(got) == current.receivers:
                    current.done.set()
        except ConnectionClosed:
            pass

    async def flag(self) -> Round:
        """One round: POST the flag on an open connection, wait for every responder's case event."""
        self.count += 1
        current = Round(index=self.count, receivers=len(self.sockets))
        self.current = current
        headers = {
            "X-Session-Token": self.merchant_token,
            "Idempotency-Key": f"flag-{self.run_id}-{self.count}",
            "Connection": "close",
        }
        path = f"/api/v1/alliances/{self.alliance}/disputes"
        request = raw_request("POST", path, self.http_port, headers, json.dumps({"category": "quarrel"}).encode())
        reader, writer = await asyncio.open_connection(HOST, self.http_port)
        try:
            current.t0 = time.perf_counter()
            writer.write(request)
            async with asyncio.timeout(self.args.round_timeout):
                status, payload, _keep = await read_response(reader)
            current.http_seconds = time.perf_counter() - current.t0
        finally:
            writer.close()
        if status != 201:
            raise RuntimeError(f"flag answered {status}: {payload[:300]!r}")
        answer = json.loads(payload)
        if answer.get("level") != 1:
            raise RuntimeError(f"the flag went to level {answer.get('level')}, not 1 (responders on duty?)")
        current.dispute_id = answer["id"]
        if len(self.seen.get(current.dispute_id, {})) == current.receivers:
            current.done.set()
        try:
            await asyncio.wait_for(current.done.wait(), self.args.round_timeout)
        except TimeoutError:
            got = len(self.seen.get(current.dispute_id, {}))
            print(f"  round {current.index}: {got}/{current.receivers} responders had it in time", flush=True)
        current.arrivals = {n: stamp - current.t0 for n, stamp in self.seen.pop(current.dispute_id, {}).items()}
        self.current = None
        return current

    async def run_rounds(self, total: int) -> list[Round]:
        rounds = []
        for _ in range(total):
            rounds.append(await self.flag())
            await asyncio.sleep(self.args.spacing)
        return rounds


def measure(via: str, daphne: Server, http_server: Server, setup: dict, args: argparse.Namespace) -> Result:
    client = FlagClient(daphne.port, http_server.port, setup, args)
    servers = [daphne] if http_server is daphne else [daphne, http_server]
    meter = CpuMeter(servers, database_name(args.database_url))

    # After a quiet wait the hub has been idle: its Redis read may be in the ~1 s idle gap (see "How to read it").
    # One unmeasured round brings the path back to steady state.
    kept, connect = measure_rounds(client, meter, args, after_quiet=lambda: client.run_rounds(1))
    return Result(
        via=via,
        rounds=kept.items,
        connect_seconds=connect,
        server_cpu=kept.use.server,
        store_cpu=kept.use.stores,
        other_cpu=kept.use.share(kept.use.other),
        repeated=kept.repeated,
    )


# --- report --------------------------------------------------------------------------------------------------


@dataclass
class Summary:
    result: Result
    samples: list[float]
    last: list[float]  # per round, in round order
    first: list[float]
    http: list[float]
    missing: int


def summarise(result: Result) -> Summary:
    complete = [r for r in result.rounds if len(r.arrivals) == r.receivers and r.arrivals]
    return Summary(
        result=result,
        samples=sorted(latency for r in result.rounds for latency in r.arrivals.values()),
        last=[max(r.arrivals.values()) for r in complete],
        first=[min(r.arrivals.values()) for r in complete],
        http=sorted(r.http_seconds for r in result.rounds),
        missing=sum(r.receivers - len(r.arrivals) for r in result.rounds),
    )


def via_label(via: str, args: argparse.Namespace) -> str:
    return f"gunicorn ({args.workers} sync)" if via == "gunicorn" else "daphne (same process)"


def print_report(summaries: list[Summary], failures: dict[str, str], args: argparse.Namespace, pinned: bool) -> None:
    db = urlsplit(args.database_url)
    print()
    print(stamped("Flag to responder delivery"))
    print(f"  machine: {machine()}")
    print(f"  {versions('Django', 'channels', 'channels-redis', 'daphne', 'gunicorn', 'websockets')}")
    print(
        f"  database: PostgreSQL {db.hostname}{db.path} (recreated); REDIS_URL {args.redis_url} (cache, sessions, "
        "channel layer); config.settings.local, DEBUG off, log level WARNING; 127.0.0.1 only"
    )
    print(
        f"  {args.responders} on-duty responders connected to ONE daphne process; one merchant flags over HTTP; "
        f"{args.rounds} measured rounds after {args.warmup} warmup rounds, next round {args.spacing * 1000:.0f} ms "
        "after all responders had the previous one"
    )
    placement = "servers pinned to CPU 0, client to CPU 1" if pinned else "not pinned"
    print(f"  client: this Python process (asyncio, websockets + raw HTTP/1.1); {placement}")
    print()
    print_header(
        f"{'POST served by':<24} {'N':>3} {'rounds':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'first p50':>9} "
        f"{'last p50':>8} {'last max':>8} {'POST p50':>8} {'missing':>7} {'srv ms/round':>12} {'db ms/round':>11} "
        f"{'other':>6}"
    )
    for s in summaries:
        r = s.result
        n_rounds = len(r.rounds) or 1
        print(
            f"{via_label(r.via, args):<24} {args.responders:>3} {len(r.rounds):>6} "
            f"{percentile(s.samples, 50) * 1000:>7.1f} {percentile(s.samples, 99) * 1000:>7.1f} "
            f"{(s.samples[-1] if s.samples else float('nan')) * 1000:>7.1f} "
            f"{percentile(sorted(s.first), 50) * 1000:>9.1f} {percentile(sorted(s.last), 50) * 1000:>8.1f} "
            f"{(max(s.last) if s.last else float('nan')) * 1000:>8.1f} {percentile(s.http, 50) * 1000:>8.1f} "
            f"{s.missing:>7} {r.server_cpu / n_rounds * 1000:>12.1f} {r.store_cpu / n_rounds * 1000:>11.1f} "
            f"{r.other_cpu * 100:>5.0f}%"
        )
        if r.repeated:
            print(f"    {r.repeated} noisy slices of {args.slice} rounds were measured again")
    for label, reason in failures.items():
        print(f"{label:<24} FAILED: {reason}")
    for s in summaries:
        print()
        print(f"last receiver per round, ms ({via_label(s.result.via, args)}):")
        print("  " + " ".join(f"{value * 1000:.0f}" for value in s.last))
    print()
    for s in summaries:
        p99 = percentile(s.samples, 99) * 1000
        met = s.missing == 0 and p99 < TARGET_P99_MS
        print(
            f"target p99 < {TARGET_P99_MS:.0f} ms, POST served by {via_label(s.result.via, args)}: "
            f"{'met' if met else 'NOT met'} ({p99:.1f} ms over {len(s.samples)} samples, {s.missing} missing)"
        )


# --- main ----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responders", type=int, default=50, help="on-duty responders connected by WebSocket")
    add_round_options(parser, rounds=30, warmup=3, each="flag")
    parser.add_argument("--via", default="gunicorn,daphne", help="which server answers the POST: gunicorn, daphne")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--spacing", type=float, default=0.3, help="seconds between a completed round and the next")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds per server, connecting and quiet waits included"
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL; DROPPED and recreated")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis database for cache and channel layer")
    add_machine_options(parser, max_other=25.0, retries=2, quiet_wait=60.0, slice_rounds=10)
    args = parser.parse_args(argv)
    args.vias = [via.strip() for via in args.via.split(",") if via.strip()]
    if not args.vias or any(via not in ("gunicorn", "daphne") for via in args.vias):
        parser.error("--via takes gunicorn, daphne or both, comma-separated")
    if args.responders < 1 or args.rounds < 1 or args.warmup < 0 or args.workers < 1 or args.slice < 1:
        parser.error("responders, rounds, workers and slice must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_open_files_limit(args.responders + 256)
    if not redis_answers(args.redis_url):
        raise SystemExit(f"Redis does not answer at {args.redis_url}: this benchmark needs the Redis layout")
    pinned = pin_load_generator(args.no_pin)
    env = server_env(args.database_url, args.redis_url)
    print(f"Recreating {database_name(args.database_url)}: 1 merchant, {args.responders} responders ...", flush=True)
    setup = prepare_database(env, SETUP_SCRIPT.format(count=args.responders, phone_base=PHONE_BASE), recreate=True)
    cleared = clear_channel_layer_groups(args.redis_url)
    print(f"  alliance {setup['alliance']}; cleared {cleared} channel-layer group keys", flush=True)

    servers: list[Server] = []
    summaries: list[Summary] = []
    failures: dict[str, str] = {}
    try:
        daphne = Server("daphne", daphne_argv, env, pinned=pinned)
        servers.append(daphne)
        gunicorn = None
        if "gunicorn" in args.vias:
            gunicorn = Server("gunicorn", lambda port: gunicorn_argv(port, workers=args.workers), env, pinned=pinned)
            servers.append(gunicorn)
        for server in servers:
            server.wait_ready()
        for via in args.vias:
            http_server = gunicorn if via == "gunicorn" else daphne
            label = via_label(via, args)
            print(f"{label}: {args.responders} sockets on daphne :{daphne.port}, POST to :{http_server.port}")
            try:
                result = measure(via, daphne, http_server, setup, args)
                for server in servers:
                    server.check_running()
                summary = summarise(result)
                print(
                    f"  p50 {percentile(summary.samples, 50) * 1000:.1f} ms, "
                    f"p99 {percentile(summary.samples, 99) * 1000:.1f} ms, missing {summary.missing}",
                    flush=True,
                )
                summaries.append(summary)
            except Exception as error:  # noqa: BLE001 - report it, measure the other way
                reason = str(error)
                if not reason and isinstance(error, TimeoutError):
                    reason = f"not done within --timeout {args.timeout:g} s"
                failures[label] = f"{type(error).__name__}: {reason}"[:300]
                print(f"  FAILED: {failures[label]}\n  daphne log:\n{daphne.log_tail()}", flush=True)
    finally:
        for server in servers:
            server.stop()

    print_report(summaries, failures, args, pinned)
    return 1 if failures else 0


if __name__ == "__main__":
    run(main)
