"""Reconnect storm benchmark (issue 10): N phones (re)connect their live-channel socket to ONE server process at once.

What it measures
    After a server restart every phone opens ``/ws/?token=...`` again. This script prepares ``--users`` (5,000)
    users with session tokens in a city's shape (``--alliances`` alliances under one station; each user is a
    member of one alliance and of its contact group, every third also of its prevention group, each group with a
    last seq, so ``hello`` lists one or two groups), starts ONE daphne process with the Redis channel layer
    (``--redis-url``, db 7: cache, cached_db sessions and channel layer as in production) and connects all N
    sockets as fast as this client can, ``--concurrency`` connections in flight at a time. A socket counts as
    connected when its ``hello`` reaches this process. The same storm runs first against the floor: the bare
    ``websockets`` server of ws_fanout.py (``--floor-server``), which answers a ``hello`` to every connection
    and does nothing else. ``--memory`` adds a run of ours with the in-memory channel layer (the sessions are
    then read from PostgreSQL only). Sockets stay open until the last one is connected, then all are closed.

    The issue's scenario is a restart: the phones were connected before it, so Redis holds what their connects left
    there. Each storm of ours gets a FRESH server process, and the Redis storms run in two states of the cache:
      * ``cold users``: the sessions are in Redis (cached_db writes them at log-in and keeps them for the session's
        60 days), the user entries (accounts/user_cache.py) are not: the benchmark's users never connected, and a
        real user's entry lives only ``USER_CACHE_SECONDS`` (60 s) after their last request, so after a restart this
        is what most phones meet;
      * ``warm``: right before the server starts, every token is looked up once as a request would
        (``authenticate_session_token``: session and user entry read, the entry written): the best case, everyone
        active within the last minute. The warm-up's duration is printed; the entries must outlive it plus the
        storm (60 s), which holds while the storm takes under ~40 s.
    ``--states cold,warm`` chooses (both by default).

How to run it
    cd /work/b2 && .venv/bin/python bench/reconnect_storm.py [--users 5000] [--concurrency 100] [--memory]
        [--states cold,warm] [--database-url postgres://postgres@127.0.0.1:5432/pingan_bench_reconnect]
        [--redis-url redis://127.0.0.1:6379/7] [--connect-timeout 60] [--timeout 240] [--no-pin]

    The database (its name must start with pingan_bench) is dropped and created, migrated and filled each run
    (about a minute at 5,000 users); in Redis only this database's channel-layer group keys are cleared.

How to read it
    ``total s``: first connect to last hello; ``conn/s``: connected / total; ``p50``/``p99``: time from opening
    the TCP connection to its hello (this client's queueing included); ``srv CPU s`` / ``cli CPU s``: CPU of the
    server process and of this client over the storm; ``other``: everything else on the machine, % of one core
    (PostgreSQL and Redis are counted apart, ``db+redis``). When ``cli CPU s`` is close to ``total s`` the client
    (one asyncio process on one core) is the limit, which is what the floor mostly measures. Target: all 5,000
    connected within 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import HOST
from harness.load import close_sockets, stamping_connection_class
from harness.machine import CpuMeter, CpuUse, add_machine_options, wait_for_quiet
from harness.processes import Server, daphne_argv, pin_load_generator, raise_open_files_limit, run
from harness.stats import machine, percentile, print_header, stamped, versions
from harness.stores import (
    TOKEN_FOR,
    clear_channel_layer_groups,
    database_label,
    database_name,
    prepare_database,
    redis_answers,
    redis_client,
    server_env,
    shell_result,
)

PHONE_BASE = 13700000000  # user n is +86 (PHONE_BASE + n)
USER_ENTRY_KEYS = "*pingan:user:*"  # accounts/user_cache.py's entries and versions (under Django's key prefix)

# Every phone active within the last minute: each token looked up as a request does (session, user entry written).
# (The tokens are the sessions' keys: read from the database, a command line could not carry 5,000 of them.)
WARM_SCRIPT = """
from django.contrib.sessions.models import Session

from accounts.authentication import authenticate_session_token

tokens = Session.objects.order_by("pk").values_list("session_key", flat=True).iterator()
result = sum(1 for token in tokens if authenticate_session_token(token))
"""
TARGET_SECONDS = 10.0

SETUP_SCRIPT = (
    TOKEN_FOR
    + """
from django.contrib.auth import get_user_model
from django.db import transaction

from alliance.models import Alliance, AllianceMembership, Station
from groups.models import ContactGroup, GroupMembership
from groups.services.contact_groups import contact_groups_create_defaults

User = get_user_model()
COUNT, ALLIANCES = {count}, {alliances}

with transaction.atomic():
    station = Station.objects.create(name="reconnect-bench station", city="Hangzhou")
    groups = []
    for a in range(ALLIANCES):
        alliance = Alliance.objects.create(name=f"storm alliance {{a}}", slug=f"storm-{{a}}", station=station)
        main, prevention = contact_groups_create_defaults(alliance=alliance)
        groups.append((alliance, main, prevention))
        ContactGroup.objects.filter(pk=main.pk).update(last_seq=1000 + 37 * a)
        ContactGroup.objects.filter(pk=prevention.pk).update(last_seq=40 + a)
    users = [User(phone="+86" + str({phone_base} + n), display_name=f"storm {{n}}") for n in range(COUNT)]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users, batch_size=1000)
    users = list(User.objects.filter(display_name__startswith="storm ").order_by("phone"))
    alliance_rows, group_rows = [], []
    for n, user in enumerate(users):
        alliance, main, prevention = groups[n % ALLIANCES]
        alliance_rows.append(AllianceMembership(alliance=alliance, user=user, role="merchant"))
        group_rows.append(GroupMembership(group=main, user=user, role=GroupMembership.Role.MEMBER))
        if n % 3 == 0:
            group_rows.append(GroupMembership(group=prevention, user=user, role=GroupMembership.Role.MEMBER))
    AllianceMembership.objects.bulk_create(alliance_rows, batch_size=1000)
    GroupMembership.objects.bulk_create(group_rows, batch_size=1000)
tokens = [token_for(user) for user in users]
result = {{"tokens": tokens, "memberships": len(group_rows)}}
"""
)


@dataclass
class Storm:
    label: str
    users: int
    hello_after: list[float] = field(default_factory=list)  # seconds from connect to hello, per socket
    errors: int = 0
    first_error: str = ""
    seconds: float = 0.0
    use: CpuUse = field(default_factory=CpuUse)

    def fail(self, error: BaseException) -> None:
        self.errors += 1
        self.first_error = self.first_error or f"{type(error).__name__}: {error}"[:200]


async def storm(url: str, tokens: list[str], args: argparse.Namespace, result: Storm, meter: CpuMeter) -> None:
    """Connect every token's socket, ``args.concurrency`` at a time; keep them open until the last hello."""
    from websockets.asyncio.client import connect

    connection_class = stamping_connection_class()
    gate = asyncio.Semaphore(args.concurrency)
    sockets: list = []

    async def open_one(token: str) -> None:
        async with gate:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(args.connect_timeout):
                    ws = await connect(
                        f"{url}?token={token}",
                        compression=None,
                        ping_interval=None,
                        proxy=None,
                        open_timeout=None,
                        close_timeout=2,
                        max_queue=None,
                        create_connection=connection_class,
                    )
                    sockets.append(ws)
                    first = await ws.recv()
                    arrived = ws.arrival()
                hello = json.loads(first)
                if hello.get("type") != "hello" or (args.groups_expected and not hello.get("groups")):
                    raise RuntimeError(f"expected hello with the user's groups, got {first[:100]}")
                result.hello_after.append(arrived - started)
            except Exception as error:  # noqa: BLE001 - counted; the storm goes on
                result.fail(error)

    meter.start()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(args.timeout):
            await asyncio.gather(*(open_one(token) for token in tokens))
    except TimeoutError:
        result.fail(TimeoutError(f"the storm took more than {args.timeout:.0f} s"))
    result.seconds = time.perf_counter() - started
    result.use = meter.stop()
    await close_sockets(sockets, [])


def forget_user_entries(url: str) -> int:
    """The user cache as a restart finds it when nobody was active in the last minute (sessions stay)."""
    client = redis_client(url)
    try:
        keys = list(client.scan_iter(match=USER_ENTRY_KEYS, count=1000))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


def warm_up(env: dict[str, str], tokens: list[str]) -> float:
    started = time.perf_counter()
    found = shell_result(env, WARM_SCRIPT)
    if found != len(tokens):
        raise SystemExit(f"warm-up: {found} of {len(tokens)} tokens authenticated")
    return time.perf_counter() - started


def floor_argv(port: int, users: int) -> list[str]:
    script = str(Path(__file__).resolve().parent / "ws_fanout.py")
    return [sys.executable, script, "--floor-server", str(port), "--members", str(users)]


def print_report(storms: list[Storm], args: argparse.Namespace, setup: dict, pinned: bool) -> None:
    print()
    print(stamped("Reconnect storm"))
    print(f"  machine: {machine()}")
    print(f"  {versions('Django', 'channels', 'channels-redis', 'daphne', 'websockets')}")
    print(f"  database: {database_label(args.database_url)}; Redis {args.redis_url}; 127.0.0.1 only")
    print(
        f"  {args.users} users in {args.alliances} alliances ({setup['memberships']} group memberships), "
        f"{args.concurrency} connections in flight; "
        + ("server pinned to CPU 0, client to CPU 1" if pinned else "not pinned")
    )
    print()
    print_header(
        f"{'server':<24} {'N':>5} {'hello':>5} {'errors':>6} {'total s':>8} {'conn/s':>7} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'srv CPU s':>9} {'cli CPU s':>9} {'db+redis':>8} {'other':>6} {'x floor':>7}"
    )
    floor = storms[0].seconds if storms and storms[0].label.startswith("floor") else float("nan")
    for s in storms:
        after = sorted(s.hello_after)
        print(
            f"{s.label:<24} {s.users:>5} {len(after):>5} {s.errors:>6} {s.seconds:>8.2f} "
            f"{len(after) / s.seconds:>7.0f} {percentile(after, 50) * 1000:>8.1f} {percentile(after, 99) * 1000:>8.1f} "
            f"{s.use.server:>9.2f} {s.use.own:>9.2f} {s.use.stores:>8.2f} {s.use.share(s.use.other) * 100:>5.0f}% "
            f"{s.seconds / floor:>6.1f}x"
        )
        if s.errors:
            print(f"    first error: {s.first_error}")
    for s in storms[1:]:
        met = s.errors == 0 and len(s.hello_after) == s.users and s.seconds <= TARGET_SECONDS
        print(f"target all {s.users} connected within {TARGET_SECONDS:g} s ({s.label}): {'met' if met else 'not met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=5000, help="sockets connecting at once")
    parser.add_argument("--alliances", type=int, default=20, help="alliances the users are spread over")
    parser.add_argument("--concurrency", type=int, default=100, help="connections in flight at a time")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/pingan_bench_reconnect")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7", help="cache, sessions, channel layer")
    parser.add_argument("--memory", action="store_true", help="also ours with the in-memory channel layer")
    parser.add_argument("--connect-timeout", type=float, default=60.0, help="seconds one socket may take to hello")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds one storm may take")
    parser.add_argument("--states", default="cold,warm", help="cache states of the Redis storms: cold, warm or both")
    add_machine_options(parser, max_other=25.0, retries=0, quiet_wait=30.0)
    args = parser.parse_args()
    states = [state.strip() for state in args.states.split(",") if state.strip()]
    if not states or set(states) - {"cold", "warm"}:
        parser.error("--states takes cold, warm or cold,warm")
    if not redis_answers(args.redis_url):
        raise SystemExit(f"Redis does not answer at {args.redis_url}")
    limit = raise_open_files_limit(args.users + 512)  # inherited by the servers
    pinned = pin_load_generator(args.no_pin)
    redis_env = server_env(args.database_url, args.redis_url)
    print(f"Preparing {database_label(args.database_url)}: {args.users} users and sessions ...", flush=True)
    script = SETUP_SCRIPT.format(count=args.users, alliances=args.alliances, phone_base=PHONE_BASE)
    setup = prepare_database(redis_env, script, recreate=True)
    print(f"  {len(setup['tokens'])} tokens; open files limit {limit}", flush=True)

    runs = [("floor (websockets)", "/", lambda port: floor_argv(port, args.users), redis_env, None, None)]
    for state in states:
        label = "ours, Redis, cold users" if state == "cold" else "ours, Redis, warm"
        runs.append((label, "/ws/", daphne_argv, redis_env, "/healthz", state))
    if args.memory:
        runs.append(("ours, in-memory layer", "/ws/", daphne_argv, server_env(args.database_url), "/healthz", None))
    storms = []
    for label, path, argv, env, ready, state in runs:
        if env is redis_env and path == "/ws/":
            clear_channel_layer_groups(args.redis_url)
            forget_user_entries(args.redis_url)
            if state == "warm":
                print(f"{label}: warm-up took {warm_up(env, setup['tokens']):.1f} s", flush=True)
        server = Server(label, argv, env, pinned=pinned, ready_path=ready)  # a fresh process: a restart
        try:
            server.wait_ready()
            time.sleep(1.0)  # start-up work done
            if args.max_other:
                wait_for_quiet(args.max_other / 100, args.quiet_wait)
            result = Storm(label, args.users)
            args.groups_expected = path == "/ws/"  # the floor's hello lists none
            meter = CpuMeter([server], database_name(args.database_url))
            asyncio.run(storm(f"ws://{HOST}:{server.port}{path}", setup["tokens"], args, result, meter))
            server.check_running()
            print(
                f"{label}: {len(result.hello_after)}/{args.users} in {result.seconds:.2f} s, {result.errors} errors",
                flush=True,
            )
            storms.append(result)
        finally:
            server.stop()
    print_report(storms, args, setup, pinned)
    return 0 if all(s.errors == 0 for s in storms) else 1


if __name__ == "__main__":
    run(main)
