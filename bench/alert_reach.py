"""An alert's reach (issue 13) when it went to 10,000 stores: the figures and the unread-stores list, under 1 s.

What it measures
    A district on PostgreSQL (``bench/harness/alert_city.py``): a police station with 8 community police offices and
    alliances of 125 people, as many as hold ``--stores`` (10,000) stores (a store per merchant, a volunteer on the
    staff of every fourth). A police admin writes and publishes one urgent anti-fraud alert to the whole district
    through the services (``alert_create``, ``alert_publish``; its audience counted by ``alert_audience_count``, as
    the worker would). Then people read it (receipts written in bulk): the owners of three stores in ten, the staff
    member of a further one in ten where the store has one, one volunteer in five; half of the readers acknowledge.
    About 6,000 stores stay unread.

    * In one process (``manage.py shell``, no server), ``--repeat`` times each: ``alert_reach(alert=)``, the first
      page of ``alert_unread_stores(alert=)`` as the list view pages it (51 rows in the pagination's order), and
      every unread store as the CSV view reads them (five columns as values, the rows built); the statements
      each sends; floor ``User.objects.filter(pk=).first()``; with ``--plans`` the EXPLAIN ANALYZE of the unread
      stores' count.
    * Over HTTP against gunicorn (``--workers`` sync workers, Redis cache and sessions), the admin's session, one
      request at a time, ``--repeat`` each: ``GET /api/v1/alerts/{id}/reach``, ``GET /api/v1/alerts/{id}/unread-stores``
      (first page of 50), ``GET /api/v1/alerts/{id}/unread-stores.csv`` (all of them); floor ``GET /api/v1/me``.

How to run it
    cd /work/main && flock /tmp/bench.lock .venv/bin/python bench/alert_reach.py [--stores 10000] [--repeat 20]
        [--workers 2] [--plans] [--no-pin]
        [--database-url postgres://postgres@127.0.0.1:5432/pingan_bench_alert_reach] [--redis-url redis://127.0.0.1:6379/11]

    The database (its name must start with pingan_bench) is DROPPED and built again every run; the Redis database is
    flushed.

How to read it
    ms per call (HTTP: connect to last byte), ``x floor`` the p50 over the floor's p50 of the same run. The target
    (issue 13) is each of the three under 1 s: judged on the HTTP rows' max.
"""

from __future__ import annotations

import argparse
import itertools
import time

from harness.alert_city import shell_env
from harness.load import LoadState, http_request, raw_request, run_closed_loop
from harness.machine import CpuMeter, add_machine_options, measure_until_quiet
from harness.processes import Server, gunicorn_argv, pin_load_generator, run
from harness.stats import machine, percentile, print_header, stamped, versions
from harness.stores import (
    TOKEN_FOR,
    database_label,
    database_name,
    prepare_database,
    redis_client,
    server_env,
    shell_result,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_alert_reach"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
PHONE_BASE = 13_520_000_000
TARGET_MS = 1000.0
MEMBERS = 125


def people_for_stores(stores: int, members: int) -> int:
    """The fewest people (in alliances of ``members``) whose merchants own ``stores`` stores (alert_city's roles)."""
    people = merchants = 0
    while merchants < stores:
        p = people % members
        merchants += p > 1 and p % 10 < 6
        people += 1
    return people


SETUP_SCRIPT = (
    TOKEN_FOR
    + """
from django.db import connection, transaction

from alliance.alert_audience import AudienceSpec
from alliance.models import Alert, AlertReceipt, Station, Store
from alliance.services.alerts import AlertContent, alert_audience_count, alert_create, alert_publish
from harness.alert_city import build_city, police_admin

city = build_city(
    districts=[dict(name="城区派出所", people={people}, members={members}, offices=8)], phone_base={phone_base}
)
district = city["districts"][0]
admin = police_admin(stations=[district["station"]], phone="+8613400000003")
alert = alert_create(
    actor=admin,
    station=Station.objects.get(pk=district["station"]),
    content=AlertContent(
        kind="anti_fraud", severity="urgent", title="警惕冒充公检法诈骗",
        body="公安机关不会电话办案，不会要求转账到安全账户。",
        case_example="青果巷一商户接到“民警”视频电话，险些转账 8 万元。", requires_ack=True,
        audience=AudienceSpec(stations=[district["station"]]),
    ),
)
alert = alert_publish(actor=admin, alert=alert)
targeted = alert_audience_count(alert_id=alert.pk)
with transaction.atomic(), connection.cursor() as cursor:
    # Readers: owners of stores id % 10 < 3; the staff member of stores id % 10 = 3; volunteers with id % 5 = 0
    # (not a store's staff already counted); half of them (user id even) acknowledge.
    cursor.execute(
        "INSERT INTO alliance_alertreceipt (read_at, acknowledged_at, alert_id, alliance_id, user_id) "
        "SELECT now(), CASE WHEN r.user_id %% 2 = 0 THEN now() END, %(alert)s, r.alliance_id, r.user_id FROM ("
        "  SELECT owner_id AS user_id, alliance_id FROM alliance_store WHERE id %% 10 < 3"
        "  UNION SELECT t.user_id, s.alliance_id FROM alliance_storestaff t JOIN alliance_store s ON s.id = t.store_id"
        "        WHERE s.id %% 10 = 3"
        "  UNION SELECT user_id, alliance_id FROM alliance_alliancemembership"
        "        WHERE role = 'volunteer' AND user_id %% 5 = 0"
        ") r ON CONFLICT DO NOTHING",
        dict(alert=alert.pk),
    )
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE")
result = dict(
    city=dict(users=city["users"], alliances=len(district["alliances"]), stores=city["stores"], staff=city["staff"]),
    alert=alert.pk, targeted=targeted, receipts=AlertReceipt.objects.filter(alert=alert).count(),
    token=token_for(admin),
)
"""
)

MEASURE_SCRIPT = """
import time

from django.db import connection, reset_queries
from django.db.models import CharField
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from alliance.models import Alert
from alliance.selectors.alerts import alert_reach, alert_unread_stores

REPEAT, PLANS = {repeat}, {plans}
alert = Alert.objects.get(pk={alert})
admin_id = alert.created_by_id
figures = dict(floor=[], reach=[], page=[], csv=[], statements=dict(), rows=dict())


def csv_rows():  # as AlertUnreadStoresCsvApi reads them
    unread = alert_unread_stores(alert=alert).annotate(phone_text=Cast("owner__phone", CharField()))
    rows = [["Store", "Address", "Alliance", "Owner", "Phone"]]
    rows += unread.values_list("name", "address", "alliance__name", "owner__display_name", "phone_text")
    return rows


calls = dict(
    floor=lambda: User.objects.filter(pk=admin_id).first(),
    reach=lambda: alert_reach(alert=alert),
    page=lambda: list(alert_unread_stores(alert=alert).order_by("alliance_id", "name", "id")[:51]),
    csv=csv_rows,
)
for round_ in range(REPEAT + 1):  # round 0 warms up and counts the statements; the others run without the log
    for name, call in calls.items():
        if round_:
            started = time.perf_counter()
            call()
            figures[name].append(time.perf_counter() - started)
            continue
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            value = call()
        figures["statements"][name] = len(queries)
        figures["rows"][name] = value.__dict__ if name == "reach" else len(value) if isinstance(value, list) else 1
if PLANS:
    sql, params = alert_unread_stores(alert=alert).order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM (" + sql + ") q", params)
        figures["plan"] = "\\n".join(row[0] for row in cursor.fetchall())
result = figures
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20, help="calls of each, in process and over HTTP")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--plans", action="store_true", help="print the EXPLAIN ANALYZE of the unread stores")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    add_machine_options(parser, max_other=25.0, retries=2, quiet_wait=60.0)
    return parser.parse_args(argv)


def figures_row(label: str, seconds: list[float], floor_p50: float | None, note: str = "") -> tuple[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    p50, high = percentile(ms, 50), ms[-1] if ms else float("nan")
    ratio = f"{p50 / floor_p50:>7.0f}x" if floor_p50 else f"{'1x':>8}"
    return f"{label:<46} {len(ms):>4} {p50:>8.1f} {percentile(ms, 99):>8.1f} {high:>8.1f} {ratio}  {note}", high


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pinned = pin_load_generator(args.no_pin)
    env = server_env(args.database_url, args.redis_url)
    print(stamped(f"alert reach: an alert to {args.stores:,} stores, its figures and the stores that have not read it"))
    print(machine())
    print(versions("Django", "djangorestframework", "gunicorn", "psycopg"))
    print(f"database {database_label(args.database_url)}, Redis {args.redis_url}", flush=True)
    redis = redis_client(args.redis_url)
    redis.flushdb()
    redis.close()
    started = time.perf_counter()
    people = people_for_stores(args.stores, MEMBERS)
    script = SETUP_SCRIPT.format(people=people, members=MEMBERS, phone_base=PHONE_BASE)
    setup = prepare_database(shell_env(env), script, recreate=True)
    city, alert = setup["city"], setup["alert"]
    print(
        f"district: {city['users']:,} people in {city['alliances']} alliances, {city['stores']:,} stores "
        f"({city['staff']:,} staff posts); alert {alert} targeted {setup['targeted']:,} people, read by "
        f"{setup['receipts']:,} (built in {time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    inproc = shell_result(env, MEASURE_SCRIPT.format(repeat=args.repeat, plans=args.plans, alert=alert))
    reach = inproc["rows"]["reach"]
    print(
        f"reach: {reach}; statements: reach {inproc['statements']['reach']}, page {inproc['statements']['page']}, "
        f"CSV {inproc['statements']['csv']}; CSV rows {inproc['rows']['csv'] - 1:,}",
        flush=True,
    )

    server = Server(
        f"gunicorn {args.workers} sync workers",
        lambda port: gunicorn_argv(port, workers=args.workers),
        env,
        pinned=pinned,
    )
    http: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    errors: dict[str, tuple[int, bytes]] = {}
    paths = {
        "floor": "/api/v1/me",
        "reach": f"/api/v1/alerts/{alert}/reach",
        "page": f"/api/v1/alerts/{alert}/unread-stores",
        "csv": f"/api/v1/alerts/{alert}/unread-stores.csv",
    }
    headers = {"X-Session-Token": setup["token"]}
    try:
        server.wait_ready()
        for name, path in paths.items():
            status, body = http_request(server.port, "GET", path, headers, timeout=30)
            if status != 200:
                raise SystemExit(f"GET {path} answered {status}: {body[:300]!r}")
            sizes[name] = len(body)
        meter = CpuMeter([server], database_name(args.database_url))
        for name, path in paths.items():
            request = raw_request("GET", path, server.port, headers)

            def measure(request=request):
                counter = itertools.count()
                state = LoadState(0.0, 600.0, args.repeat, ok_status=200)
                make = lambda: request if next(counter) < args.repeat else None  # noqa: E731
                return state, run_closed_loop(state, server.port, make, 1, 30.0, meter)

            state, _use = measure_until_quiet(measure, lambda done: done[1].share(done[1].other), args)
            http[name] = state.latencies
            if state.errors:
                errors[name] = (state.errors, state.first_error_body)
        server.check_running()
    finally:
        server.stop()

    print()
    print_header(f"{'what':<46} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'x floor':>8}")
    floor = percentile(sorted(s * 1000 for s in inproc["floor"]), 50)
    print(figures_row("selector floor: User.objects.filter(pk=).first()", inproc["floor"], None)[0])
    print(figures_row("selector: alert_reach", inproc["reach"], floor)[0])
    print(figures_row("selector: unread stores, first page (51 rows)", inproc["page"], floor)[0])
    print(figures_row("selector: unread stores, all rows for the CSV", inproc["csv"], floor)[0])
    floor = percentile(sorted(s * 1000 for s in http["floor"]), 50)
    print(figures_row("HTTP floor: GET /api/v1/me", http["floor"], None)[0])
    worst = {}
    for name, label in (
        ("reach", "HTTP: GET .../reach"),
        ("page", "HTTP: GET .../unread-stores (first page)"),
        ("csv", "HTTP: GET .../unread-stores.csv"),
    ):
        line, worst[name] = figures_row(label, http[name], floor, f"{sizes[name]:,} bytes")
        print(line)
    for name, (count, body) in errors.items():
        print(f"errors on {paths[name]}: {count}, first {body[:200]!r}")
    if args.plans:
        print("\nEXPLAIN ANALYZE of the unread stores (counted):")
        print(inproc["plan"])
    met = not errors and all(value < TARGET_MS for value in worst.values())
    print(
        f"\ntarget under {TARGET_MS / 1000:.0f} s (HTTP, slowest call): reach {worst['reach']:.0f} ms, first page "
        f"{worst['page']:.0f} ms, CSV {worst['csv']:.0f} ms: {'PASS' if met else 'FAIL'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    run(main)
