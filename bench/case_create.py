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
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from harness.load import LoadState, http_request, raw_request, run_closed_loop, run_paced
from harness.machine import CpuMeter, CpuUse, add_machine_options, measure_until_quiet
from harness.processes import Server, gunicorn_argv, pin_load_generator, run
from harness.stats import machine, percentile, print_header, stamped, versions
from harness.stores import (
    TOKEN_FOR,
    clear_channel_layer_groups,
    database_name,
    prepare_database,
    redis_answers,
    server_env,
    shell_result,
)

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

SETUP_SCRIPT = (
    TOKEN_FOR
    + """
from decimal import Decimal

from django.db import transaction

from accounts.models import Role, RoleGrant, User
from alliance.models import Alliance, AllianceMembership, Station, Store
from groups.services.contact_groups import contact_groups_create_defaults, contact_groups_member_joined

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

result = {{"alliance": alliance.pk, "group": main.pk, "tokens": [token_for(user) for user in merchants]}}
"""
)

COUNT_SCRIPT = """
from accounts.models import IdempotencyRecord
from groups.models import Message, OutboxEvent
from reports.models import CaseEvent, Dispute, Incident
result = {
    "incidents": Incident.objects.count(),
    "disputes": Dispute.objects.count(),
    "case events": CaseEvent.objects.count(),
    "case cards": Message.objects.filter(kind=Message.Kind.CARD).count(),
    "outbox rows": OutboxEvent.objects.count(),
    "outbox unsent": OutboxEvent.objects.filter(sent_at__isnull=True).count(),
    "idempotency records": IdempotencyRecord.objects.count(),
}
"""


def database_counts(env: dict[str, str]) -> dict[str, int]:
    try:
        return shell_result(env, COUNT_SCRIPT)
    except SystemExit:
        return {}


# --- requests ------------------------------------------------------------------------------------------------


@dataclass
class Endpoint:
    key: str  # "bare", "authed" or "create"
    label: str
    make: Callable[[], bytes]  # one complete HTTP/1.1 request
    ok_status: int


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


class CaseLoad(LoadState):
    """Also counts the answers that listed possible duplicates."""

    with_duplicates = 0

    def count(self, status: int, body: bytes, latency: float) -> None:
        super().count(status, body, latency)
        if status == self.ok_status and b'"duplicates":[{' in body:
            self.with_duplicates += 1


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

    def finish(self, state: CaseLoad, window: float, use: CpuUse) -> Measurement:
        self.completed = len(state.latencies)
        self.window = window
        self.latencies = state.latencies
        self.errors = state.errors
        self.statuses = state.statuses
        self.with_duplicates = state.with_duplicates
        self.first_error_body = state.first_error_body
        self.server_cpu, self.store_cpu = use.share(use.server), use.share(use.stores)
        self.gen_cpu, self.other_cpu = use.share(use.own), use.share(use.other)
        return self


def measure_closed(
    server: Server, meter: CpuMeter, endpoint: Endpoint, concurrency: int, args: argparse.Namespace
) -> Measurement:
    state = CaseLoad(args.warmup, args.duration, args.max_requests, endpoint.ok_status)
    use = run_closed_loop(state, server.port, endpoint.make, concurrency, args.timeout, meter)
    result = Measurement(endpoint=endpoint, mode=f"closed {concurrency}", concurrency=concurrency)
    return result.finish(state, state.measured_seconds, use)


def measure_paced(
    server: Server, meter: CpuMeter, endpoint: Endpoint, rate: float, args: argparse.Namespace
) -> Measurement:
    """Open loop (``harness.load.run_paced``): one request every 1/rate seconds, latency from when it was due."""
    duration = args.paced_duration
    total = min(args.max_requests, int(round((args.warmup + duration) * rate)))
    state = CaseLoad(args.warmup, duration, args.max_requests, endpoint.ok_status)
    result = Measurement(endpoint=endpoint, mode=f"paced {rate:.0f}/s", target_rate=rate)
    paced = run_paced(state, server.port, endpoint.make, rate, total, args.max_in_flight, args.timeout, meter)
    result.late, result.shed = paced.late, paced.shed
    return result.finish(state, duration, paced.use)


def measure_and_print(label: str, run: Callable[[], Measurement], args: argparse.Namespace) -> Measurement:
    print(f"{label:<44}", end=" ", flush=True)
    result = measure_until_quiet(run, lambda result: result.other_cpu, args)
    print(
        f"{result.rps:6.0f} req/s, p99 {percentile(sorted(result.latencies), 99) * 1000:6.1f} ms, "
        f"{result.errors} errors, other CPU {result.other_cpu * 100:.0f}%",
        flush=True,
    )
    if result.errors:
        print(f"    statuses: {result.statuses}; first error: {result.first_error_body!r}", flush=True)
    return result


# --- report --------------------------------------------------------------------------------------------------


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
    db = urlsplit(args.database_url)
    print()
    print(stamped("Creating cases over HTTP"))
    print(f"  machine: {machine()}; {versions('Django', 'gunicorn', 'psycopg')}")
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
    print_header(
        f"{'endpoint':<34} {'load':<12} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6} "
        f"{'dup':>4} {'srv CPU':>8} {'db CPU':>7} {'gen CPU':>8} {'other':>6}"
    )
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
    add_machine_options(parser, max_other=25.0, retries=2, quiet_wait=60.0)
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
    pinned = pin_load_generator(args.no_pin)
    if not redis_answers(args.redis_url):
        raise SystemExit(f"Redis does not answer at {args.redis_url}: this benchmark measures the Redis layout")
    env = server_env(args.database_url, args.redis_url)
    dbname = database_name(args.database_url)

    print(f"Recreating {dbname}, migrating, {args.merchants} merchants and sessions ...", flush=True)
    script = SETUP_SCRIPT.format(count=args.merchants, phone_base=PHONE_BASE, lat=CENTER[0], lon=CENTER[1])
    setup = prepare_database(env, script, recreate=True)
    cleared = clear_channel_layer_groups(args.redis_url)
    print(f"  alliance {setup['alliance']}, {len(setup['tokens'])} tokens; cleared {cleared} channel-layer keys")

    closed: list[Measurement] = []
    paced: Measurement | None = None
    server = Server(
        f"gunicorn {args.workers} sync workers",
        lambda port: gunicorn_argv(port, workers=args.workers),
        env,
        pinned=pinned,
    )
    try:
        port = server.port
        bare = Endpoint("bare", f"GET {BARE} (bare view)", lambda: raw_request("GET", BARE, port, {}), 200)
        tokens = setup["tokens"]
        authed = Endpoint(
            "authed",
            f"GET {AUTHED} (auth only)",
            lambda: raw_request("GET", AUTHED, port, {"X-Session-Token": random.choice(tokens)}),
            200,
        )
        make_create = CreateRequests(args.endpoint, port, setup["alliance"], tokens, args.spread_km, args.seed)
        create = Endpoint("create", f"POST .../{setup['alliance']}/{args.endpoint}", make_create, 201)
        if args.endpoint == "disputes":
            print("NOTE: measuring POST /api/v1/alliances/{id}/disputes (dispute flags), not incidents", flush=True)
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
        meter = CpuMeter([server], dbname)
        for level in args.levels:
            for endpoint in (bare, authed, create):
                closed.append(
                    measure_and_print(
                        f"{endpoint.label} closed {level}",
                        lambda e=endpoint, n=level: measure_closed(server, meter, e, n, args),
                        args,
                    )
                )
        peak = max((result for result in closed if result.endpoint.key == "create"), key=lambda r: r.rps)
        rate = max(1.0, peak.rps * args.paced_fraction)
        paced = measure_and_print(
            f"{create.label} paced {rate:.0f}/s", lambda: measure_paced(server, meter, create, rate, args), args
        )
        server.check_running()
    finally:
        server.stop()

    counts = database_counts(env)
    print_report(closed, paced, counts, args, pinned)
    return 0


if __name__ == "__main__":
    run(main)
