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
import asyncio
import datetime
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only, never anything else
DEFAULT_DATABASE_URL = "sqlite:////tmp/pingan-bench.sqlite3"
BENCH_PHONE = "+8613800138000"
ENDPOINTS = ("/healthz", "/api/v1/me")
CLAIMED_RATIO = 3.0

TOKEN_SCRIPT = f"""
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
User = get_user_model()
user = User.objects.filter(phone={BENCH_PHONE!r}).first() or User.objects.create_user({BENCH_PHONE!r})
s = SessionStore()
s["_auth_user_id"] = str(user.pk)
s["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
s["_auth_user_hash"] = user.get_session_auth_hash()
s.create()
print("BENCH-TOKEN=" + s.session_key)
"""


# --- environment and database --------------------------------------------------------------------------------


def server_env(database_url: str) -> dict[str, str]:
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


def prepare_database(database_url: str, env: dict[str, str]) -> str:
    """Migrate, create the bench user and a logged-in session; return its key, the X-Session-Token."""
    scheme = urlsplit(database_url).scheme
    if scheme in ("postgres", "postgresql", "pgsql", "psql"):
        ensure_postgres_database(database_url)
    elif scheme == "sqlite" and database_url == DEFAULT_DATABASE_URL:
        for suffix in ("", "-wal", "-shm"):  # throwaway file: start fresh so every run sees the same database
            Path(urlsplit(database_url).path + suffix).unlink(missing_ok=True)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(
        [*manage, "shell", "-c", TOKEN_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    for line in out.splitlines():
        if line.startswith("BENCH-TOKEN="):
            return line.removeprefix("BENCH-TOKEN=").strip()
    raise SystemExit(f"could not create a session token; manage.py shell printed:\n{out}")


# --- servers -------------------------------------------------------------------------------------------------


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


@dataclass
class ServerSpec:
    key: str  # "WSGI" or "ASGI"
    label: str
    argv_for_port: Callable[[int], list[str]]


def server_specs(gunicorn_threads: int) -> list[ServerSpec]:
    if gunicorn_threads > 1:
        wsgi_label = f"gunicorn 1 gthread worker x{gunicorn_threads}"
        worker = ["--worker-class", "gthread", "--threads", str(gunicorn_threads)]
    else:
        wsgi_label = "gunicorn 1 sync worker"
        worker = ["--worker-class", "sync"]
    return [
        ServerSpec(
            "WSGI",
            wsgi_label,
            lambda port: [
                venv_script("gunicorn"),
                "--workers",
                "1",
                *worker,
                "--bind",
                f"{HOST}:{port}",
                "--log-level",
                "warning",
                "config.wsgi:application",
            ],
        ),
        ServerSpec(
            "ASGI",
            "daphne 1 process",
            lambda port: [venv_script("daphne"), "-b", HOST, "-p", str(port), "-v", "0", "config.asgi:application"],
        ),
    ]


class Server:
    def __init__(self, spec: ServerSpec, env: dict[str, str], pin_cpu: int | None):
        self.spec = spec
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{spec.key.lower()}-", suffix=".log", delete=False)
        preexec = (lambda: os.sched_setaffinity(0, {pin_cpu})) if pin_cpu is not None else None
        self.proc = subprocess.Popen(
            spec.argv_for_port(self.port),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops gunicorn's worker too
            preexec_fn=preexec,  # the parent is single-threaded
        )

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.spec.label} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, _ = http_get(self.port, "/healthz", {}, timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.spec.label} did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of every process in the server's process group (gunicorn master + worker)."""
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == self.proc.pid:  # pgrp
                total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
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


def http_get(port: int, path: str, headers: dict[str, str], timeout: float = 5) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


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


class LoadState:
    def __init__(self, warmup: float, duration: float, max_requests: int):
        now = time.perf_counter()
        self.window_start = now + warmup
        self.window_end = self.window_start + duration
        self.max_requests = max_requests
        self.latencies: list[float] = []
        self.errors = 0
        self.statuses: dict[int, int] = {}
        self.stopped_at: float | None = None

    def done(self) -> bool:
        return self.stopped_at is not None or time.perf_counter() >= self.window_end

    def in_window(self, t_end: float) -> bool:
        return self.window_start <= t_end <= self.window_end and self.stopped_at is None

    def record(self, t_start: float, t_end: float, status: int) -> None:
        if not self.in_window(t_end):
            return
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if not 200 <= status < 300:
            self.errors += 1
        self.latencies.append(t_end - t_start)
        if len(self.latencies) >= self.max_requests:
            self.stopped_at = t_end

    def error(self) -> None:
        if self.in_window(time.perf_counter()):
            self.errors += 1


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.x response; return (status, connection may be reused)."""
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
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            await reader.readexactly(size + 2)
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        return int(status_text), False
    if version == b"HTTP/1.1":
        keep = connection != b"close"
    else:
        keep = connection == b"keep-alive"
    return int(status_text), keep


async def connection_worker(state: LoadState, port: int, request: bytes, timeout: float) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while not state.done():
        t_start = time.perf_counter()  # includes the TCP connect when the server closed the last one
        reused = writer is not None
        try:
            async with asyncio.timeout(timeout):
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                writer.write(request)
                status, keep = await read_response(reader)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            if writer is not None:
                writer.close()
            reader = writer = None
            stale = reused and isinstance(exc, asyncio.IncompleteReadError) and not exc.partial
            if not stale:  # a kept-alive connection the server had closed: retry quietly, as clients do
                state.error()
                await asyncio.sleep(0.01)
            continue
        state.record(t_start, time.perf_counter(), status)
        if not keep:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def run_load(state: LoadState, port: int, request: bytes, concurrency: int, timeout: float) -> None:
    await asyncio.gather(*(connection_worker(state, port, request, timeout) for _ in range(concurrency)))


def measure(
    server: Server, endpoint: str, headers: dict[str, str], duration: float, max_requests: int, args: argparse.Namespace
) -> Measurement:
    lines = [f"GET {endpoint} HTTP/1.1", f"Host: {HOST}:{server.port}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    state = LoadState(args.warmup, duration, max_requests)
    cpu: dict[str, float] = {}

    async def sample_cpu() -> None:
        """Read both processes' CPU time at the start and at the end of the measured window."""
        await asyncio.sleep(max(0.0, state.window_start - time.perf_counter()))
        cpu["server"], cpu["gen"], cpu["busy"] = server.cpu_seconds(), time.process_time(), machine_busy_seconds()
        cpu["t"] = time.perf_counter()
        while not state.done():
            await asyncio.sleep(min(0.05, max(0.0, state.window_end - time.perf_counter())))
        server_used = server.cpu_seconds() - cpu["server"]
        gen_used = time.process_time() - cpu["gen"]
        busy = machine_busy_seconds() - cpu["busy"]
        elapsed = time.perf_counter() - cpu["t"]
        cpu["server"], cpu["gen"] = server_used / elapsed, gen_used / elapsed
        cpu["other"] = max(0.0, busy - server_used - gen_used) / elapsed

    async def main() -> None:
        sampler = asyncio.create_task(sample_cpu())
        await run_load(state, server.port, request, args.concurrency, args.timeout)
        await sampler

    asyncio.run(main())
    end = state.stopped_at or state.window_end
    window = end - state.window_start
    result = Measurement(
        server=server.spec.label,
        endpoint=endpoint,
        completed=len(state.latencies),
        window=window,
        latencies=state.latencies,
        errors=state.errors,
        statuses=state.statuses,
    )
    result.server_cpu, result.gen_cpu, result.other_cpu = cpu["server"], cpu["gen"], cpu["other"]
    return result


# --- report --------------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


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
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("Django", "gunicorn", "daphne"))
    print()
    print(f"Serving layout: WSGI vs ASGI - {datetime.datetime.now().isoformat(timespec='seconds')}")
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    print(f"  machine: {os.cpu_count()} cores, {system}")
    print(f"  {versions}; database: {db_label}; settings: config.settings.local, DEBUG off, log level WARNING")
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
    header = (
        f"{'server':<30} {'endpoint':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'srv CPU':>8} {'gen CPU':>8} {'other':>6}  req/s (other CPU) per slice"
    )
    print(header)
    print("-" * len(header))
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
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and load generator to CPUs")
    parser.add_argument(
        "--max-other",
        type=float,
        default=20.0,
        help="%% of a core other processes may use: wait for a quiet machine before each slice and measure a slice "
        "again when they used more (0: never wait)",
    )
    parser.add_argument("--retries", type=int, default=3, help="how often a noisy slice is measured again")
    parser.add_argument("--quiet-wait", type=float, default=120.0, help="longest wait for a quiet machine, seconds")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.concurrency < 1 or args.max_requests < 1 or args.slices < 1:
        parser.error("duration, concurrency, max-requests and slices must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks stop the servers
    pinned = not args.no_pin and (os.cpu_count() or 1) >= 2
    if pinned:
        os.sched_setaffinity(0, {1})
    env = server_env(args.database_url)
    db = urlsplit(args.database_url)
    db_label = f"{db.scheme} {db.path if db.scheme == 'sqlite' else (db.hostname or '') + db.path}"

    print(f"Preparing the database ({db_label}) ...", flush=True)
    token = prepare_database(args.database_url, env)
    endpoint_headers = {"/healthz": {}, "/api/v1/me": {"X-Session-Token": token}}

    specs = server_specs(args.gunicorn_threads)
    servers: list[Server] = []
    runs: dict[tuple[str, str], list[Measurement]] = {}
    try:
        # Both servers stay up for the whole run; only the one under load uses CPU. Slices alternate between them
        # in ABBA order so that a slow drift or a burst of other work on the machine hits both alike.
        for spec in specs:
            servers.append(Server(spec, env, pin_cpu=0 if pinned else None))
        for server in servers:
            server.wait_ready()
            status, body = http_get(server.port, "/api/v1/me", endpoint_headers["/api/v1/me"])
            if status != 200 or "phone" not in json.loads(body):
                raise SystemExit(f"{server.spec.label}: /api/v1/me answered {status}: {body[:300]!r}")
        slice_duration = args.duration / args.slices
        slice_max = -(-args.max_requests // args.slices)
        for endpoint in ENDPOINTS:
            for slice_no in range(args.slices):
                for server in servers if slice_no % 2 == 0 else reversed(servers):
                    label = f"{endpoint} slice {slice_no + 1}/{args.slices}: {server.spec.label}"
                    print(f"{label:<56}", end=" ", flush=True)
                    for attempt in range(1 + args.retries):
                        if args.max_other:
                            wait_for_quiet(args.max_other / 100, args.quiet_wait)
                        result = measure(server, endpoint, endpoint_headers[endpoint], slice_duration, slice_max, args)
                        if not args.max_other or result.other_cpu * 100 <= args.max_other:
                            break
                        if attempt < args.retries:
                            print(f"[noisy: other CPU {result.other_cpu * 100:.0f}%, again]", end=" ", flush=True)
                    print(
                        f"{result.rps:6.0f} req/s, {result.errors} errors, other CPU {result.other_cpu * 100:.0f}%",
                        flush=True,
                    )
                    if result.errors:
                        print(f"    statuses: {result.statuses}", flush=True)
                    runs.setdefault((server.spec.key, endpoint), []).append(result)
    finally:
        for server in servers:
            server.stop()

    rows = [combine(spec.key, runs[(spec.key, endpoint)]) for spec in specs for endpoint in ENDPOINTS]
    print_report(rows, args, db_label, pinned)
    return 0


if __name__ == "__main__":
    sys.exit(main())
