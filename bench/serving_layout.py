"""Serving layout benchmark: the same Django views under a WSGI server (gunicorn) and an ASGI server (daphne).

What it measures
    Requests per second, median (p50) and 99th percentile (p99) latency and errors for two endpoints:

    * ``/healthz``   - a bare JSON view, no database;
    * ``/api/v1/me`` - a DRF view authenticated with the ``X-Session-Token`` header (allauth headless app
      client), which reads the Django session and the user from the database.

    Each endpoint is served by ``gunicorn config.wsgi:application`` (ONE sync worker) and by
    ``daphne config.asgi:application`` (ONE process): one process against one process, because daphne has no
    shared-socket pre-fork mode, and gunicorn's throughput scales with its worker count anyway. Both servers
    run in the same invocation and each measurement is cut into slices that alternate between them (ABBA
    order), so they see the same machine noise. The project note under test: "a bare Django view serves about
    3x more requests under a WSGI server than under an ASGI one".

How to run it
    cd /work/main && .venv/bin/python bench/serving_layout.py [--duration 8] [--concurrency 16]
        [--database-url sqlite:////tmp/pingan-bench.sqlite3 | postgres://postgres@127.0.0.1:5432/pingan_bench]
        [--slices 4] [--warmup 1] [--max-requests 200000] [--gunicorn-threads 1] [--no-pin]

    The script prepares the database (``manage.py migrate``, one user, one logged-in session whose key is the
    session token; the default SQLite file is recreated each run, a PostgreSQL database is created with
    ``createdb`` if absent), starts both servers itself on free 127.0.0.1 ports, waits for ``/healthz``, checks
    that ``/api/v1/me`` answers 200 on each, then loads one server at a time: ``--warmup`` seconds unmeasured,
    then ``--duration / --slices`` seconds measured, per slice. It stops the servers (also on errors and
    Ctrl-C) and prints one table. Nothing listens beyond loopback. Server settings: ``config.settings.local``
    with DJANGO_DEBUG unset, DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost, DJANGO_LOG_LEVEL=WARNING, no REDIS_URL.
    About a minute with the defaults; longer when it has to wait for a quiet machine.

How to read it
    * ``req/s`` is the median over the slices of completed requests / measured seconds; the slices are listed
      at the end of each row. ``p50``/``p99`` pool all slices and include the TCP connect when the server
      closes connections (gunicorn's sync worker answers ``Connection: close``; daphne keeps connections
      alive). With ``--concurrency`` connections against one process, latency is mostly queueing: p50 is
      roughly concurrency / throughput.
    * ``srv CPU`` is the server's CPU use in % of one core; near 100 % means the server process was the
      bottleneck, which is what this benchmark wants. ``gen CPU`` is the load generator's (this Python
      process, asyncio); near 100 % would mean the client was the limit and the faster server is understated.
      ``other`` is what everything else on the machine used meanwhile (per slice in parentheses): well above
      a few % means another workload competed and that slice is noise (with PostgreSQL, the database
      server's own CPU for ``/api/v1/me`` also counts here: raise ``--max-other``). Before each slice the script waits
      for the machine to be quiet and measures a slice again when ``other`` exceeded ``--max-other`` (20 %),
      up to ``--retries`` times; rows that still show a high ``other`` should be rerun on a quiet machine.
    * The load generator shares the 2 cores with the server. By default the servers are pinned to CPU 0 and
      the load generator to CPU 1 (``--no-pin`` lets the scheduler decide).
    * The last lines give the WSGI/ASGI ratio of requests per second for each endpoint.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from harness.load import LoadState, http_request, raw_request, run_closed_loop
from harness.machine import CpuMeter, add_machine_options, measure_until_quiet
from harness.processes import Server, daphne_argv, gunicorn_argv, pin_load_generator, run
from harness.stats import machine, percentile, print_header, stamped, versions
from harness.stores import TOKEN_FOR, database_label, prepare_database, server_env

DEFAULT_DATABASE_URL = "sqlite:////tmp/pingan-bench.sqlite3"
BENCH_PHONE = "+8613800138000"
ENDPOINTS = ("/healthz", "/api/v1/me")
CLAIMED_RATIO = 3.0

TOKEN_SCRIPT = (
    TOKEN_FOR
    + f"""
from django.contrib.auth import get_user_model
User = get_user_model()
user = User.objects.filter(phone={BENCH_PHONE!r}).first() or User.objects.create_user({BENCH_PHONE!r})
result = token_for(user)
"""
)


# --- servers -------------------------------------------------------------------------------------------------


@dataclass
class ServerSpec:
    key: str  # "WSGI" or "ASGI"
    label: str
    argv_for_port: Callable[[int], list[str]]


def server_specs(gunicorn_threads: int) -> list[ServerSpec]:
    if gunicorn_threads > 1:
        wsgi_label = f"gunicorn 1 gthread worker x{gunicorn_threads}"
    else:
        wsgi_label = "gunicorn 1 sync worker"
    return [
        ServerSpec("WSGI", wsgi_label, lambda port: gunicorn_argv(port, workers=1, threads=gunicorn_threads)),
        ServerSpec("ASGI", "daphne 1 process", daphne_argv),
    ]


# --- load generator ------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    server: str
    endpoint: str
    completed: int = 0
    window: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    server_cpu: float = 0.0  # fraction of one core
    gen_cpu: float = 0.0
    other_cpu: float = 0.0  # everything else on the machine: noise

    @property
    def rps(self) -> float:
        return self.completed / self.window if self.window else 0.0


def measure(
    server: Server, endpoint: str, headers: dict[str, str], duration: float, max_requests: int, args: argparse.Namespace
) -> Measurement:
    request = raw_request("GET", endpoint, server.port, headers)
    state = LoadState(args.warmup, duration, max_requests, ok_status=200)
    use = run_closed_loop(state, server.port, lambda: request, args.concurrency, args.timeout, CpuMeter([server]))
    return Measurement(
        server=server.label,
        endpoint=endpoint,
        completed=len(state.latencies),
        window=state.measured_seconds,
        latencies=state.latencies,
        errors=state.errors,
        statuses=state.statuses,
        server_cpu=use.share(use.server),
        gen_cpu=use.share(use.own),
        other_cpu=use.share(use.other),
    )


# --- report --------------------------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    server: str
    endpoint: str
    rps: float
    slices: list[Measurement]
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu: float
    gen_cpu: float
    other_cpu: float


def combine(key: str, runs: list[Measurement]) -> Row:
    latencies = sorted(latency for run in runs for latency in run.latencies)
    return Row(
        key=key,
        server=runs[0].server,
        endpoint=runs[0].endpoint,
        rps=statistics.median(run.rps for run in runs),
        slices=runs,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        errors=sum(run.errors for run in runs),
        server_cpu=statistics.mean(run.server_cpu for run in runs),
        gen_cpu=statistics.mean(run.gen_cpu for run in runs),
        other_cpu=statistics.mean(run.other_cpu for run in runs),
    )


def print_report(rows: list[Row], args: argparse.Namespace, db_label: str, pinned: bool) -> None:
    print()
    print(stamped("Serving layout: WSGI vs ASGI"))
    print(f"  machine: {machine()}")
    print(
        f"  {versions('Django', 'gunicorn', 'daphne')}; database: {db_label}; settings: config.settings.local, "
        "DEBUG off, log level WARNING"
    )
    print("  layout: ONE gunicorn worker vs ONE daphne process (one process each); 127.0.0.1 only")
    print(
        f"  load: {args.concurrency} connections, {args.duration:g} s measured (max {args.max_requests} requests) "
        f"per server and endpoint, in {args.slices} slices alternating the servers (ABBA), {args.warmup:g} s "
        "warmup before each slice; req/s is the median of the slices"
    )
    placement = "servers pinned to CPU 0, load generator to CPU 1" if pinned else "not pinned"
    print(f"  load generator: this Python process (asyncio), shares the machine with the server; {placement}")
    print("  gunicorn sync closes the connection after every response (latency includes the connect);")
    print("  daphne keeps connections alive")
    print()
    print_header(
        f"{'server':<30} {'endpoint':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'srv CPU':>8} {'gen CPU':>8} {'other':>6}  req/s (other CPU) per slice"
    )
    for row in rows:
        per_slice = " ".join(f"{run.rps:.0f} ({run.other_cpu * 100:.0f}%)" for run in row.slices)
        print(
            f"{row.server:<30} {row.endpoint:<12} {row.rps:>8.0f} {row.p50_ms:>8.1f} {row.p99_ms:>8.1f} "
            f"{row.errors:>6} {row.server_cpu * 100:>7.0f}% {row.gen_cpu * 100:>7.0f}% "
            f"{row.other_cpu * 100:>5.0f}%  {per_slice}"
        )
    print()
    print(f"Ratio WSGI/ASGI requests/s (project note claims about {CLAIMED_RATIO:g}x):")
    by_key = {(row.key, row.endpoint): row for row in rows}
    for endpoint in ENDPOINTS:
        wsgi, asgi = by_key[("WSGI", endpoint)], by_key[("ASGI", endpoint)]
        ratio = wsgi.rps / asgi.rps if asgi.rps else float("inf")
        p50_ratio = asgi.p50_ms / wsgi.p50_ms if wsgi.p50_ms else float("inf")
        print(f"  {endpoint:<12} {ratio:.2f}x   (ASGI/WSGI p50 latency: {p50_ratio:.2f}x)")


# --- main ----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per server and endpoint")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop a measurement after this many")
    parser.add_argument(
        "--slices", type=int, default=4, help="split each measurement into slices, alternating the servers"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="sqlite:////... or postgres://...")
    parser.add_argument(
        "--gunicorn-threads", type=int, default=1, help="more than 1 uses gunicorn's gthread worker instead of sync"
    )
    add_machine_options(parser, max_other=20.0, retries=3, quiet_wait=120.0)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.concurrency < 1 or args.max_requests < 1 or args.slices < 1:
        parser.error("duration, concurrency, max-requests and slices must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pinned = pin_load_generator(args.no_pin)
    env = server_env(args.database_url)
    db_label = database_label(args.database_url)

    print(f"Preparing the database ({db_label}) ...", flush=True)
    token = prepare_database(env, TOKEN_SCRIPT, throwaway=DEFAULT_DATABASE_URL)  # the X-Session-Token
    endpoint_headers = {"/healthz": {}, "/api/v1/me": {"X-Session-Token": token}}

    specs = server_specs(args.gunicorn_threads)
    servers: list[tuple[ServerSpec, Server]] = []
    runs: dict[tuple[str, str], list[Measurement]] = {}
    try:
        # Both servers stay up for the whole run; only the one under load uses CPU. Slices alternate between them
        # in ABBA order so that a slow drift or a burst of other work on the machine hits both alike.
        for spec in specs:
            servers.append((spec, Server(spec.label, spec.argv_for_port, env, pinned=pinned)))
        for spec, server in servers:
            server.wait_ready()
            status, body = http_request(server.port, "GET", "/api/v1/me", endpoint_headers["/api/v1/me"], timeout=5)
            if status != 200 or "phone" not in json.loads(body):
                raise SystemExit(f"{spec.label}: /api/v1/me answered {status}: {body[:300]!r}")
        slice_duration = args.duration / args.slices
        slice_max = -(-args.max_requests // args.slices)
        for endpoint in ENDPOINTS:
            for slice_no in range(args.slices):
                for spec, server in servers if slice_no % 2 == 0 else reversed(servers):
                    label = f"{endpoint} slice {slice_no + 1}/{args.slices}: {spec.label}"
                    print(f"{label:<56}", end=" ", flush=True)
                    headers = endpoint_headers[endpoint]
                    run_slice = partial(measure, server, endpoint, headers, slice_duration, slice_max, args)
                    result = measure_until_quiet(run_slice, lambda result: result.other_cpu, args)
                    print(
                        f"{result.rps:6.0f} req/s, {result.errors} errors, other CPU {result.other_cpu * 100:.0f}%",
                        flush=True,
                    )
                    if result.errors:
                        print(f"    statuses: {result.statuses}", flush=True)
                    runs.setdefault((spec.key, endpoint), []).append(result)
    finally:
        for _spec, server in servers:
            server.stop()

    rows = [combine(spec.key, runs[(spec.key, endpoint)]) for spec in specs for endpoint in ENDPOINTS]
    print_report(rows, args, db_label, pinned)
    return 0


if __name__ == "__main__":
    run(main)
