"""Live delivery of an alert (issue 13) to 5,000 online sockets, against the same run's bare websockets broadcast.

What it measures
    A district on PostgreSQL (``bench/harness/alert_city.py``): a police station with 4 community police offices and
    ``--audience`` (20,000) people in alliances of 125, of whom ``--online`` (5,000, every fourth) hold a WebSocket
    (``/ws/?token=``) to ONE daphne process (``config.asgi``, Redis channel layer, cache and sessions, as in
    production); plus ``--outsiders`` (100) online people of another station, outside the audience, who must get
    nothing. Per round a police admin writes a draft (``POST /api/v1/alerts``, not measured), then publishes it,
    urgent, to the whole district (``POST /api/v1/alerts/{id}/publish`` to gunicorn, ``--workers`` sync workers, as
    production serves the REST API). The sample of a (round, socket) pair is from the moment the publish request
    is written until that socket's ``alert`` event for that alert arrives (stamped when its bytes reach this
    process, as bench/ws_fanout.py does).

    The path: the publish transaction writes ONE outbox row for the broadcast topic ``alerts``
    (groups/alert_delivery.py, ``alert_delivery_hooks``); after commit gunicorn sends it to Redis; daphne's hub
    receives it once, asks the database which of its local people are in the audience (one query, off the event
    loop) and hands the event to their sockets; it adds them to ``Alert.live_count``. Celery: the count and the push
    are queued on the Redis broker after commit and nobody reads it (no worker runs: its CPU would only add noise).

    The floor, measured first in the same run with the same client machinery: bench/ws_fanout.py's bare broadcast
    server (``websockets.broadcast`` to every connection when one socket sends a frame) with ``--online`` + 1
    sockets, one of which sends. No HTTP, no database, no channel layer.

How to run it
    cd /work/main && flock /tmp/bench.lock .venv/bin/python bench/alert_live.py [--online 5000] [--audience 20000]
        [--outsiders 100] [--rounds 30] [--warmup 3] [--workers 2] [--no-pin]
        [--database-url postgres://postgres@127.0.0.1:5432/pingan_bench_alert_live] [--redis-url redis://127.0.0.1:6379/11]

    The database (its name must start with pingan_bench) is DROPPED and built again every run; the Redis database is
    flushed. Servers pinned to CPU 0 (gunicorn and daphne share it), this client to CPU 1.

How to read it
    As bench/ws_fanout.py: ``p50``/``p99``/``max`` pool every (round, socket) sample; ``all p50``/``all p99`` the time
    until the last socket had it, per round; ``missing`` samples that never came; ``srv ms/round`` the servers' CPU
    (ours: daphne and gunicorn), ``cli ms/round`` this client's; ``POST p50`` the publish call alone. With 5,000
    sockets one round costs this client about half a second of CPU, so both rows mostly measure the client: the
    ratio compares the servers on equal terms. Target (issue 13): ours' p99 within 2x the floor's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import psycopg
from harness import HOST
from harness.alert_city import shell_env
from harness.load import add_round_options, measure_rounds, open_in_batches, raw_request, read_response
from harness.machine import CpuMeter, add_machine_options
from harness.processes import Server, daphne_argv, gunicorn_argv, pin_load_generator, raise_open_files_limit, run
from harness.stats import machine, percentile, print_header, stamped, versions
from harness.stores import (
    TOKEN_FOR,
    clear_channel_layer_groups,
    database_label,
    database_name,
    prepare_database,
    redis_client,
    server_env,
)
from ws_fanout import FanoutClient, Result, Round, Row, ServerSpec, start_server, summarise

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_alert_live"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
PHONE_BASE = 13_530_000_000
TARGET_RATIO = 2.0

SETUP_SCRIPT = (
    TOKEN_FOR
    + """
from accounts.models import User
from harness.alert_city import build_city, police_admin

AUDIENCE, ONLINE, OUTSIDERS = {audience}, {online}, {outsiders}
city = build_city(
    districts=[
        dict(name="城区派出所", people=AUDIENCE, members=125, offices=4),
        dict(name="郊区派出所", people=max(OUTSIDERS, 125), members=125, offices=1),
    ],
    phone_base={phone_base},
)
inside, outside = city["districts"]
admin = police_admin(stations=[inside["station"]], phone="+8613400000004")
step = max(1, AUDIENCE // ONLINE)
phones = ["+86" + str({phone_base} + n) for n in range(0, AUDIENCE, step)][:ONLINE]
online = sorted(User.objects.filter(phone__in=phones), key=lambda u: u.phone)
phones = ["+86" + str({phone_base} + AUDIENCE + n) for n in range(OUTSIDERS)]
others = sorted(User.objects.filter(phone__in=phones), key=lambda u: u.phone)
result = dict(
    station=inside["station"], admin=token_for(admin), online=tokens_for(online), outsiders=tokens_for(others),
    users=city["users"],
)
"""
)


class AlertClient(FanoutClient):
    """``tokens`` in the audience and ``outsiders`` online; each round publishes an alert over HTTP."""

    def __init__(self, url: str, tokens: list[str], outsiders: list[str], args, http_port: int, admin: str, station):
        super().__init__(url, tokens + outsiders, 0, args, check_group=False, first_index=0)
        self.receivers = len(tokens)
        self.http_port = http_port
        self.headers = {"X-Session-Token": admin}
        self.station = station
        self.by_alert: dict[int, Round] = {}
        self.stray = 0  # alert events that reached an outsider
        self.post_seconds: list[float] = []
        self.errors: list[str] = []

    async def connect_all(self) -> None:
        await open_in_batches(self.open_one, self.tokens, self.args.batch, self.sockets, progress=True)
        self.readers = [asyncio.create_task(self.read_alerts(ws, n)) for n, ws in enumerate(self.sockets)]

    async def read_alerts(self, ws, receiver: int) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in ws:
                now = ws.arrival()
                event = json.loads(raw)
                if event.get("type") != "alert":
                    continue
                if receiver >= self.receivers:
                    self.stray += 1
                    continue
                found = self.by_alert.get(event["alert"]["id"])
                if found is not None:
                    found.arrived(receiver, now)
        except ConnectionClosed:
            pass

    async def http(self, path: str, body: dict | None = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else b""
        request = raw_request("POST", path, self.http_port, self.headers, data)
        reader, writer = await asyncio.open_connection(HOST, self.http_port)
        try:
            writer.write(request)
            status, answer, _keep = await asyncio.wait_for(read_response(reader), self.args.round_timeout)
        finally:
            writer.close()
        return status, answer

    async def run_rounds(self, total: int) -> list[Round]:
        rounds = []
        timeouts = 0
        for _ in range(total):
            index = self.next_index
            self.next_index += 1
            status, answer = await self.http(
                "/api/v1/alerts",
                {
                    "station": self.station,
                    "kind": "anti_fraud",
                    "severity": "urgent",
                    "title": f"警惕冒充公检法诈骗 {index}",
                    "body": "公安机关不会电话办案，不会要求转账到“安全账户”。",
                    "audience": {"stations": [self.station]},
                },
            )
            if status != 201:
                raise RuntimeError(f"draft: {status} {answer[:300]!r}")
            alert_id = json.loads(answer)["id"]
            current = Round(index=index, body=str(alert_id), receivers=self.receivers)
            self.by_alert[alert_id] = current
            current.t0 = time.perf_counter()
            status, answer = await self.http(f"/api/v1/alerts/{alert_id}/publish")
            self.post_seconds.append(time.perf_counter() - current.t0)
            if status != 200:
                self.errors.append(f"publish {alert_id}: {status} {answer[:200]!r}")
            try:
                await asyncio.wait_for(current.done.wait(), self.args.round_timeout)
            except TimeoutError:
                print(f"  alert {alert_id}: {len(current.arrivals)}/{self.receivers} arrived in time", flush=True)
                timeouts += 1
                if timeouts >= 3:
                    raise RuntimeError(f"3 rounds timed out; errors: {self.errors[-3:]}") from None
            rounds.append(current)
            await asyncio.sleep(self.args.spacing)
        return rounds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--online", type=int, default=5000, help="sockets of people in the audience")
    parser.add_argument("--audience", type=int, default=20_000, help="people in the district the alert goes to")
    parser.add_argument("--outsiders", type=int, default=100, help="online people outside the audience")
    add_round_options(parser, rounds=30, warmup=3, each="alert")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (the publish)")
    parser.add_argument("--batch", type=int, default=100, help="connections opened at a time")
    parser.add_argument("--spacing", type=float, default=0.3, help="seconds between all received and the next")
    parser.add_argument("--min-interval", type=float, default=0.25, help="the floor's rounds: at least this apart")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per server, connecting included")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    add_machine_options(parser, max_other=25.0, retries=2, quiet_wait=60.0, slice_rounds=10)
    return parser.parse_args(argv)


def print_row(label: str, row: Row, result: Result, extra: str = "") -> None:
    n = len(result.rounds) or 1
    print(
        f"{label:<26} {result.members:>5} {len(result.rounds):>6} {row.p50:>8.1f} {row.p99:>8.1f} {row.max:>8.1f} "
        f"{row.all_p50:>8.1f} {row.all_p99:>8.1f} {row.missing:>7} {result.server_cpu / n * 1000:>12.1f} "
        f"{result.client_cpu / n * 1000:>12.1f} {result.other_cpu * 100:>5.0f}% {extra}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    limit = raise_open_files_limit(args.online + args.outsiders + 512)
    pinned = pin_load_generator(args.no_pin)
    env = server_env(args.database_url, args.redis_url)
    print(stamped(f"alert live delivery: one alert to {args.online:,} online sockets, against the bare broadcast"))
    print(machine())
    print(versions("Django", "channels", "channels-redis", "daphne", "websockets", "gunicorn"))
    print(f"database {database_label(args.database_url)}, Redis {args.redis_url}; open files {limit}", flush=True)
    redis = redis_client(args.redis_url)
    redis.flushdb()  # before the sessions are written: cached_db keeps them there
    redis.close()
    started = time.perf_counter()
    script = SETUP_SCRIPT.format(
        audience=args.audience, online=args.online, outsiders=args.outsiders, phone_base=PHONE_BASE
    )
    setup = prepare_database(shell_env(env), script, recreate=True)
    print(
        f"city: {setup['users']:,} people; {len(setup['online']):,} online in the audience of {args.audience:,}, "
        f"{len(setup['outsiders'])} online outside it (built in {time.perf_counter() - started:.0f} s)",
        flush=True,
    )

    # The floor: ws_fanout's bare broadcast server, one sender and ``--online`` receivers.
    floor_spec = ServerSpec("floor", "floor (websockets)", "/")
    floor_server = start_server(floor_spec, env, pinned)
    try:
        floor_server.wait_ready()
        print(f"{floor_spec.label}: port {floor_server.port}", flush=True)
        client = FanoutClient(
            f"ws://{HOST}:{floor_server.port}/", ["-"] * (args.online + 1), 0, args, check_group=False, first_index=0
        )
        kept, connect = measure_rounds(client, CpuMeter([floor_server]), args, pause=0.3)
        floor_server.check_running()
    finally:
        floor_server.stop()
    floor = Result(
        floor_spec, args.online, kept.items, connect, kept.use.server, kept.use.own,
        kept.use.share(kept.use.other), kept.use.elapsed, client.sender_errors, kept.repeated,
    )  # fmt: skip

    # Ours: daphne holds the sockets, gunicorn answers the publish.
    clear_channel_layer_groups(args.redis_url)
    daphne = Server("daphne", daphne_argv, env, pinned=pinned)
    gunicorn = Server("gunicorn", lambda port: gunicorn_argv(port, workers=args.workers), env, pinned=pinned)
    ours_spec = ServerSpec("ours", "ours (daphne + gunicorn)", "/ws/", redis=True)
    try:
        daphne.wait_ready()
        gunicorn.wait_ready()
        print(f"{ours_spec.label}: daphne port {daphne.port}, gunicorn port {gunicorn.port}", flush=True)
        alerts = AlertClient(
            f"ws://{HOST}:{daphne.port}/ws/",
            setup["online"],
            setup["outsiders"],
            args,
            gunicorn.port,
            setup["admin"],
            setup["station"],
        )
        meter = CpuMeter([daphne, gunicorn], database_name(args.database_url))
        kept, connect = measure_rounds(
            alerts, meter, args, pause=0.3, after_quiet=lambda: alerts.run_rounds(1)
        )  # one unmeasured alert after a quiet wait: an idle hub's blocking read may be timing out (flag_delivery)
        daphne.check_running()
        gunicorn.check_running()
    finally:
        daphne.stop()
        gunicorn.stop()
    ours = Result(
        ours_spec, args.online, kept.items, connect, kept.use.server, kept.use.own,
        kept.use.share(kept.use.other), kept.use.elapsed, alerts.errors, kept.repeated,
    )  # fmt: skip
    measured = [int(r.body) for r in kept.items]
    with psycopg.connect(args.database_url) as db:
        live = dict(db.execute("SELECT id, live_count FROM alliance_alert WHERE id = ANY(%s)", [measured]).fetchall())
    wrong_live = {alert: n for alert, n in live.items() if n != args.online}

    print()
    print(
        f"{len(kept.items)} measured rounds after {args.warmup} warmup; servers "
        f"{'pinned to CPU 0, this client on CPU 1' if pinned else 'not pinned'}; Celery: broker on Redis, no worker"
    )
    print_header(
        f"{'server':<26} {'N':>5} {'rounds':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'all p50':>8} "
        f"{'all p99':>8} {'missing':>7} {'srv ms/round':>12} {'cli ms/round':>12} {'other':>6}"
    )
    floor_row, ours_row = summarise(floor), summarise(ours)
    print_row(floor_spec.label, floor_row, floor)
    posts = sorted(s * 1000 for s in alerts.post_seconds)
    print_row(ours_spec.label, ours_row, ours, f"POST p50 {percentile(posts, 50):.1f} ms")
    print(
        f"ratio ours/floor: p50 {ours_row.p50 / floor_row.p50:.2f}x, p99 {ours_row.p99 / floor_row.p99:.2f}x, "
        f"all-received p99 {ours_row.all_p99 / floor_row.all_p99:.2f}x"
    )
    print(
        f"outsiders reached: {alerts.stray}; live_count = {args.online} for {len(live) - len(wrong_live)} of "
        f"{len(measured)} alerts {list(wrong_live.items())[:3]}; publish errors {len(alerts.errors)}"
    )
    met = (
        ours_row.missing == 0
        and not alerts.stray
        and not wrong_live
        and not alerts.errors
        and ours_row.p99 <= TARGET_RATIO * floor_row.p99
    )
    print(
        f"target p99 <= {TARGET_RATIO:g}x the floor's: {ours_row.p99:.1f} ms vs {TARGET_RATIO * floor_row.p99:.1f} ms: "
        f"{'PASS' if met else 'FAIL'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    run(main)
