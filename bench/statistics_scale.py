"""Statistics at city scale (issue 10): the station's one-year statistics and an alliance's month on PostgreSQL.

What it measures
    On a city's data (one police station with its community offices, ``--alliances`` alliances under it, stores and
    members, ``--incidents`` incident reports and ``--disputes`` dispute flags over two years, clustered on the
    alliances' streets so that repeats and hotspots exist), in one run:

    * the floors: counts by category for the year in plain SQL (incidents and disputes, one statement each), and the
      endpoint's count shape: the 6 grouped counts of ``reports.statistics.queries.python_measures`` (flags and
      reports, for the year, its previous period and the year before; before issue 10 every database ran them, now
      the SQLite path does and PostgreSQL counts the same groups inside its one statement per period);
    * ``GET /api/v1/stations/{id}/statistics`` and ``.../statistics.csv`` for the year, and
      ``GET /api/v1/alliances/{id}/statistics`` for one month, through the real views (URL routing, middleware,
      X-Session-Token authentication, access checks, serialisers) with Django's test client in one process;
    * the memory the station-year call takes: the process's peak RSS growth over that first call (VmHWM from
      /proc), and the tracemalloc peak of one more call (taken separately: tracemalloc slows Python down).

    The requests run in-process rather than through gunicorn so that the memory belongs to one known process and
    nothing but the request is timed; a request here takes seconds, next to which a loopback round trip is nothing.

How to run it
    cd /work/main && .venv/bin/python bench/statistics_scale.py [--incidents 200000] [--disputes 50000]
        [--alliances 20] [--repeat 3] [--rebuild] [--database-url postgres://postgres@127.0.0.1:5432/pingan_bench_stats]

    The database (its name must start with pingan_bench) is created when absent and migrated. When it already holds
    a data set of the asked size it is reused; otherwise (or with ``--rebuild``) it is DROPPED, created, migrated
    and filled with set-based SQL (``INSERT ... SELECT`` over ``generate_series``, seeded: the same data every
    time). No Redis: the embedded layout (database sessions). The measuring process is not pinned.

How to read it
    ``median``/``p90`` over ``N`` calls (nearest rank; ``--repeat`` for the endpoints' year, at least 5 for the
    floors, 10 for the month), after one unmeasured warm-up call of the alliance month; ``py CPU`` is the measuring
    process's own CPU time per call (median), ``db CPU`` its PostgreSQL backend's; ``x floor`` is the median over
    the floors' medians (plain SQL / the 6 grouped counts), the year's for the station and the alliance's month's
    for the alliance. The last line is the whole machine's CPU over the measurement: about 100 % of one core is
    this run alone, more means something else shared the machine.
"""

from __future__ import annotations

import argparse
import time

from harness.machine import CpuMeter
from harness.stats import machine, print_header, stamped, versions
from harness.stores import (
    TOKEN_FOR,
    database_label,
    database_name,
    migrate,
    prepare_database,
    recreate_postgres_database,
    server_env,
    shell_result,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_stats"
FIRST_DAY, LAST_DAY = "2024-11-01", "2026-10-31"  # the data's two years (Asia/Shanghai)
YEAR = {"from": "2025-11-01", "to": "2026-10-31"}  # its previous period and last year's are the first year
MONTH = {"from": "2026-10-01", "to": "2026-10-31"}

SIZE_SCRIPT = """
from alliance.models import Alliance
from reports.models import Dispute, Incident

result = [Alliance.objects.count(), Incident.objects.count(), Dispute.objects.count()]
"""

# Users, units, alliances, stores and memberships with bulk_create; the cases with INSERT ... SELECT. Each alliance
# has 30 "spots" (its stores along its streets); a case falls within ~20 m of a spot, the low-numbered spots far
# more often (hotspots), or, one case in ten, anywhere within ~1 km of the alliance's centre.
BUILD_SCRIPT = (
    TOKEN_FOR
    + """
import random
import time as _time
from decimal import Decimal

from django.db import connection, transaction

from accounts.models import Role, RoleGrant, User
from alliance.models import Alliance, AllianceMembership, Station, StationStaff, Store

ALLIANCES, INCIDENTS, DISPUTES, SPOTS = {alliances}, {incidents}, {disputes}, 30
FIRST_DAY, LAST_DAY = "{first_day}", "{last_day}"
started = _time.perf_counter()
rng = random.Random(10)
with transaction.atomic():
    station = Station.objects.create(name="城区派出所", city="常州", kind=Station.Kind.STATION)
    offices = Station.objects.bulk_create(
        Station(name=f"第{{n + 1}}警务室", city="常州", kind=Station.Kind.OFFICE, parent=station) for n in range(4)
    )
    officer = User.objects.create_user("+8613600000000", display_name="统计民警")
    RoleGrant.objects.create(user=officer, role=Role.OFFICER, reason="bench")
    StationStaff.objects.create(user=officer, station=station)
    alliances = Alliance.objects.bulk_create(
        Alliance(name=f"街区联盟{{n + 1}}", slug=f"city-{{n + 1}}", station=station, office=offices[n % 4])
        for n in range(ALLIANCES)
    )
    people = User.objects.bulk_create(
        User(phone=f"+86136{{n + 1:08d}}", display_name=f"商户{{n + 1}}") for n in range(ALLIANCES * (SPOTS + 2))
    )
    for user in people:
        user.set_unusable_password()
    RoleGrant.objects.bulk_create(RoleGrant(user=u, role=Role.MERCHANT, reason="bench") for u in people)
    centres, stores, members, spots = {{}}, [], [], []
    for n, alliance in enumerate(alliances):
        lat, lon = 31.74 + 0.012 * (n // 5), 119.92 + 0.014 * (n % 5)
        centres[alliance.pk] = (lat, lon)
        own = people[n * (SPOTS + 2) : (n + 1) * (SPOTS + 2)]
        role = AllianceMembership.Role
        members += [AllianceMembership(alliance=alliance, user=u, role=role.MERCHANT) for u in own[:SPOTS]]
        members += [AllianceMembership(alliance=alliance, user=u, role=role.MALL_MANAGER) for u in own[SPOTS:]]
        for s in range(SPOTS):  # along two streets crossing at the centre
            along = (s - SPOTS / 2) * 0.0003
            spot = (lat + along, lon) if s % 2 else (lat, lon + along)
            spot = (spot[0] + rng.uniform(-0.0001, 0.0001), spot[1] + rng.uniform(-0.0001, 0.0001))
            spots.append((alliance.pk, s, spot[0], spot[1]))
            stores.append(
                Store(
                    alliance=alliance,
                    owner=own[s],
                    name=f"店铺{{n + 1}}-{{s + 1}}",
                    address=f"{{s + 1}}号",
                    latitude=Decimal(f"{{spot[0]:.6f}}"),
                    longitude=Decimal(f"{{spot[1]:.6f}}"),
                )
            )
    AllianceMembership.objects.bulk_create(members)
    Store.objects.bulk_create(stores)
    ids = [a.pk for a in alliances]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE spot (n int, alliance_id int, s int, lat float8, lon float8)")
        cursor.executemany(
            "INSERT INTO spot VALUES (%s, %s, %s, %s, %s)",
            [(ids.index(a) * SPOTS + s, a, s, la, lo) for a, s, la, lo in spots],
        )
        cursor.execute("SELECT setseed(0.1)")
        # one row per case: its alliance's spot, when (mostly shop hours), and six dice
        cursor.execute(
            '''
            CREATE TEMP TABLE draw AS
            SELECT g, sp.alliance_id,
                   CASE WHEN r.far < 0.1 THEN c.lat + (random() - 0.5) * 0.018 ELSE sp.lat + (random() - 0.5) * 0.0004
                   END AS lat,
                   CASE WHEN r.far < 0.1 THEN c.lon + (random() - 0.5) * 0.021 ELSE sp.lon + (random() - 0.5) * 0.0005
                   END AS lon,
                   (%(first)s::date + (random() * (%(last)s::date - %(first)s::date + 1))::int * interval '1 day'
                    + interval '8 hours' + random() * interval '14 hours') AT TIME ZONE 'Asia/Shanghai' AS at,
                   random() AS d1, random() AS d2, random() AS d3, random() AS d4, random() AS d5, random() AS d6
            FROM (SELECT g, random() AS far, floor(random() * %(alliances)s)::int AS a,
                         floor(%(spots)s * power(random(), 2.5))::int AS s
                  FROM generate_series(1, %(total)s) g) r
            JOIN spot sp ON sp.n = r.a * %(spots)s + r.s
            JOIN (SELECT alliance_id, avg(lat) AS lat, avg(lon) AS lon FROM spot GROUP BY alliance_id) c
              ON c.alliance_id = sp.alliance_id
            ''',
            {{"first": FIRST_DAY, "last": LAST_DAY, "alliances": ALLIANCES, "spots": SPOTS,
             "total": INCIDENTS + DISPUTES}},
        )
        cursor.execute(
            '''
            INSERT INTO reports_incident (alliance_id, is_anonymous, category, description, latitude, longitude,
                occurred_at, status, rejection_reason, created_at, accepted_at, resolved_at, closed_at,
                satisfaction, satisfaction_comment, resolution_notes, client_id)
            SELECT alliance_id, d6 < 0.05,
                   CASE WHEN d1 < 0.30 THEN 'theft' WHEN d1 < 0.45 THEN 'fraud_attempt' WHEN d1 < 0.60 THEN 'dispute'
                        WHEN d1 < 0.68 THEN 'hidden_danger' WHEN d1 < 0.78 THEN 'traffic'
                        WHEN d1 < 0.88 THEN 'suspicious' WHEN d1 < 0.95 THEN 'lost_found' ELSE 'other' END,
                   '店门口电动车被偷', lat::numeric(9, 6), lon::numeric(9, 6), at - d3 * interval '3 hours', status,
                   CASE WHEN status = 'rejected' THEN '重复上报' ELSE '' END, at,
                   CASE WHEN status NOT IN ('submitted', 'rejected') THEN at + (60 + d4 * d4 * 14400) * interval '1 s'
                   END,
                   CASE WHEN status IN ('resolved', 'closed') THEN at + (1800 + d5 * d5 * 259200) * interval '1 s' END,
                   CASE WHEN status = 'closed' THEN at + (1800 + d5 * d5 * 259200 + 86400) * interval '1 s' END,
                   CASE WHEN status IN ('resolved', 'closed') AND d6 < 0.45
                        THEN CASE WHEN d6 < 0.02 THEN 1 WHEN d6 < 0.05 THEN 2 WHEN d6 < 0.12 THEN 3
                                  WHEN d6 < 0.25 THEN 4 ELSE 5 END END,
                   '', '', ''
            FROM (SELECT *, CASE WHEN d2 < 0.02 THEN 'submitted' WHEN d2 < 0.05 THEN 'accepted'
                                 WHEN d2 < 0.07 THEN 'assigned' WHEN d2 < 0.10 THEN 'in_progress'
                                 WHEN d2 < 0.50 THEN 'resolved' WHEN d2 < 0.90 THEN 'closed' ELSE 'rejected' END
                                 AS status
                  FROM draw WHERE g <= %(incidents)s ORDER BY at) d
            ''',
            {{"incidents": INCIDENTS}},
        )
        # one report in 40 merged into the report just before it (the duplicate of an earlier one)
        cursor.execute(
            "UPDATE reports_incident i SET merged_into_id = i.id - 1, status = 'closed'"
            " WHERE i.id % 40 = 0 AND EXISTS (SELECT 1 FROM reports_incident e WHERE e.id = i.id - 1)"
        )
        cursor.execute(
            '''
            INSERT INTO reports_dispute (alliance_id, category, note, people_involved, latitude, longitude, status,
                level, flagged_at, acknowledged_at, arrived_at, resolved_at, outcome, resolution_notes, parties,
                mediation_record, client_id)
            SELECT alliance_id,
                   CASE WHEN d1 < 0.40 THEN 'quarrel' WHEN d1 < 0.55 THEN 'theft' WHEN d1 < 0.63 THEN 'fraud'
                        WHEN d1 < 0.78 THEN 'suspicious' WHEN d1 < 0.85 THEN 'medical' WHEN d1 < 0.87 THEN 'fire'
                        ELSE 'other' END,
                   '', 2, lat::numeric(9, 6), lon::numeric(9, 6), status,
                   CASE WHEN d3 < 0.70 THEN 1 WHEN d3 < 0.92 THEN 2 ELSE 3 END, at,
                   CASE WHEN status <> 'open' AND NOT (status = 'cancelled' AND d4 < 0.5)
                        THEN at + (15 + d4 * d4 * 600) * interval '1 s' END,
                   CASE WHEN status = 'on_scene' OR (status = 'resolved' AND d5 < 0.85)
                        THEN at + (15 + d4 * d4 * 600 + 60 + d5 * 900) * interval '1 s' END,
                   CASE WHEN status = 'resolved' THEN at + (15 + d4 * d4 * 600 + 120 + d5 * d6 * 3600) * interval '1 s'
                   END,
                   CASE WHEN status <> 'resolved' THEN '' WHEN d6 < 0.45 THEN 'mediated'
                        WHEN d6 < 0.75 THEN 'settled_on_site' WHEN d6 < 0.85 THEN 'referred_to_station'
                        ELSE 'false_alarm' END,
                   '', '[]', '', ''
            FROM (SELECT *, CASE WHEN d2 < 0.80 THEN 'resolved' WHEN d2 < 0.90 THEN 'cancelled'
                                 WHEN d2 < 0.95 THEN 'open' WHEN d2 < 0.98 THEN 'acknowledged' ELSE 'on_scene' END
                                 AS status
                  FROM draw WHERE g > %(incidents)s ORDER BY at) d
            ''',
            {{"incidents": INCIDENTS}},
        )
        cursor.execute("DROP TABLE draw")
        cursor.execute("DROP TABLE spot")
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE")
result = {{"seconds": _time.perf_counter() - started}}
"""
)

MEASURE_SCRIPT = (
    TOKEN_FOR
    + """
import gc
import os
import resource
import time as _time
import tracemalloc
from datetime import date

from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.test import Client

from accounts.models import User
from alliance.models import Alliance, Station
from reports.models import Dispute, Incident
from reports.statistics.periods import Period

REPEAT = {repeat}
YEAR, MONTH = {year!r}, {month!r}
officer = User.objects.get(phone="+8613600000000")
station = Station.objects.get(kind=Station.Kind.STATION, parent=None)
alliance = Alliance.objects.order_by("pk").first()
ids = list(Alliance.objects.filter(station=station).values_list("pk", flat=True))
client = Client(HTTP_HOST="127.0.0.1", HTTP_X_SESSION_TOKEN=token_for(officer))


def vm(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


with connection.cursor() as _cursor:
    _cursor.execute("SELECT pg_backend_pid()")
    backend = _cursor.fetchone()[0]


def backend_cpu():  # this connection's PostgreSQL backend, user + system seconds
    fields = open(f"/proc/{{backend}}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(call, repeat=REPEAT):
    walls, cpus, dbs = [], [], []
    for _ in range(repeat):
        gc.collect()
        wall, cpu, db = _time.perf_counter(), _time.process_time(), backend_cpu()
        call()
        walls.append(_time.perf_counter() - wall)
        cpus.append(_time.process_time() - cpu)
        dbs.append(backend_cpu() - db)
    return {{"wall": walls, "cpu": cpus, "db": dbs}}


def get(path, params, content_type):
    response = client.get(path, params)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    assert response["Content-Type"].startswith(content_type), response["Content-Type"]
    return response


def period_of(days):
    return Period(date.fromisoformat(days["from"]), date.fromisoformat(days["to"]))


def plain_sql_counts(ids, period):
    since, until = period.bounds()
    with connection.cursor() as cursor:
        for table, column in (("reports_incident", "created_at"), ("reports_dispute", "flagged_at")):
            cursor.execute(
                f"SELECT category, count(*) FROM {{table}} WHERE alliance_id = ANY(%s) AND {{column}} >= %s"
                f" AND {{column}} < %s GROUP BY category",
                [ids, since, until],
            )
            cursor.fetchall()


def six_grouped_counts(ids, period):  # queries.python_measures' two grouped counts, for the three periods
    for period in (period, period.previous(), period.a_year_earlier()):
        since, until = period.bounds()
        list(
            Dispute.objects.filter(alliance_id__in=ids, flagged_at__gte=since, flagged_at__lt=until)
            .order_by()
            .values("category", "status", "level", "outcome")
            .annotate(n=Count("pk"))
        )
        list(
            Incident.objects.filter(alliance_id__in=ids, created_at__gte=since, created_at__lt=until)
            .order_by()
            .annotate(is_merged=ExpressionWrapper(Q(merged_into__isnull=False), output_field=BooleanField()))
            .values("category", "status", "satisfaction", "is_merged")
            .annotate(n=Count("pk"))
        )


station_url = f"/api/v1/stations/{{station.pk}}/statistics"
alliance_url = f"/api/v1/alliances/{{alliance.pk}}/statistics"
result = {{"alliances": len(ids), "year": YEAR, "month": MONTH}}
year, month = period_of(YEAR), period_of(MONTH)
get(alliance_url, MONTH, "application/json")  # warm-up: imports, translations, the first connection
plain_sql_counts(ids, year)
six_grouped_counts(ids, year)

# memory first, in a process that has not yet held a year of rows
gc.collect()
rss_before, hwm_before = vm("VmRSS"), vm("VmHWM")
wall, cpu = _time.perf_counter(), _time.process_time()
body = get(station_url, YEAR, "application/json").json()
first_wall, first_cpu = _time.perf_counter() - wall, _time.process_time() - cpu
result["memory"] = {{
    "rss_before": rss_before,
    "hwm_growth": vm("VmHWM") - max(hwm_before, rss_before),
    "rss_after": vm("VmRSS"),
    "first_wall": first_wall,
    "first_cpu": first_cpu,
}}
result["figures"] = {{
    "cases": body["cases"]["total"],
    "repeat": body["cases"]["repeat"],
    "incidents_closure": body["incidents"]["closure"],
    "dispute_resolve": body["disputes"]["time_to_resolve"],
    "hotspot": body["hotspots"][0] if body["hotspots"] else None,
}}

result["rows"] = {{
    "floor_sql": timed(lambda: plain_sql_counts(ids, year), max(REPEAT, 5)),
    "floor_six": timed(lambda: six_grouped_counts(ids, year), max(REPEAT, 5)),
    "station_json": timed(lambda: get(station_url, YEAR, "application/json")),
    "station_csv": timed(lambda: get(station_url + ".csv", YEAR, "text/csv")),
    "month_floor_sql": timed(lambda: plain_sql_counts([alliance.pk], month), 10),
    "month_floor_six": timed(lambda: six_grouped_counts([alliance.pk], month), 10),
    "alliance_month": timed(lambda: get(alliance_url, MONTH, "application/json"), max(REPEAT, 10)),
}}

gc.collect()
tracemalloc.start()
get(station_url, YEAR, "application/json")
result["memory"]["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
result["memory"]["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
"""
)

ROWS = [  # key, label, its floors (plain SQL, the endpoint's 6 grouped counts)
    ("floor_sql", "station year floor: counts by category, plain SQL", None),
    ("floor_six", "station year floor: the endpoint's 6 grouped counts", None),
    ("station_json", "GET /stations/{id}/statistics (year)", ("floor_sql", "floor_six")),
    ("station_csv", "GET /stations/{id}/statistics.csv (year)", ("floor_sql", "floor_six")),
    ("month_floor_sql", "alliance month floor: plain SQL", None),
    ("month_floor_six", "alliance month floor: 6 grouped counts", None),
    ("alliance_month", "GET /alliances/{id}/statistics (month)", ("month_floor_sql", "month_floor_six")),
]


def nearest(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, -(-int(pct) * len(ordered) // 100)) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--disputes", type=int, default=50_000)
    parser.add_argument("--alliances", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="measured calls per endpoint (floors: at least 5)")
    parser.add_argument("--rebuild", action="store_true", help="build the data set even when one of this size exists")
    args = parser.parse_args()
    env = server_env(args.database_url)
    dbname = database_name(args.database_url)
    wanted = [args.alliances, args.incidents, args.disputes]

    found = None if args.rebuild else prepare_database(env, SIZE_SCRIPT)
    build_seconds = None
    if found != wanted:
        print(f"building the data set ({args.alliances} alliances, {args.incidents} incidents, {args.disputes} flags)")
        started = time.perf_counter()
        recreate_postgres_database(args.database_url)
        migrate(env)
        script = BUILD_SCRIPT.format(
            alliances=args.alliances,
            incidents=args.incidents,
            disputes=args.disputes,
            first_day=FIRST_DAY,
            last_day=LAST_DAY,
        )
        inserted = shell_result(env, script)
        build_seconds = time.perf_counter() - started
        print(f"  built in {build_seconds:.0f} s (of which rows and VACUUM ANALYZE {inserted['seconds']:.0f} s)")
    else:
        print(f"reusing the data set in {dbname} ({found[1]} incidents, {found[2]} flags)")

    print("measuring...", flush=True)
    meter = CpuMeter([], dbname)
    meter.start()
    measured = shell_result(env, MEASURE_SCRIPT.format(repeat=args.repeat, year=YEAR, month=MONTH))
    use = meter.stop()

    print()
    print(stamped("Statistics at city scale (issue 10)"))
    print(f"{machine()}; {versions('Django', 'djangorestframework', 'psycopg')}; {database_label(args.database_url)}")
    print(
        f"data: {measured['alliances']} alliances under one station, {args.incidents} incidents and {args.disputes} "
        f"flags from {FIRST_DAY} to {LAST_DAY}; year {YEAR['from']}..{YEAR['to']}, month {MONTH['from']}..{MONTH['to']}"
        + (f"; built in {build_seconds:.0f} s" if build_seconds is not None else "; data set reused")
    )
    print()
    print_header(
        f"{'what':<52} {'N':>3} {'median ms':>10} {'p90 ms':>9} {'py CPU ms':>10} {'db CPU ms':>10} {'x floor':>16}"
    )
    rows = measured["rows"]
    for key, label, floors in ROWS:
        wall, cpu = rows[key]["wall"], rows[key]["cpu"]
        med = nearest(wall, 50)
        ratio = ""
        if floors:
            ratio = " / ".join(f"{med / nearest(rows[floor]['wall'], 50):.0f}x" for floor in floors)
        print(
            f"{label:<52} {len(wall):>3} {med * 1000:>10.1f} {nearest(wall, 90) * 1000:>9.1f} "
            f"{nearest(cpu, 50) * 1000:>10.1f} {nearest(rows[key]['db'], 50) * 1000:>10.1f} {ratio:>16}"
        )
    memory = measured["memory"]
    mb = 1024 * 1024
    print()
    print("x floor: over the plain-SQL floor / over the 6-grouped-counts floor (both medians, same run)")
    print(
        f"station year, first call ({memory['first_wall']:.2f} s, CPU {memory['first_cpu']:.2f} s): peak RSS grew by "
        f"{memory['hwm_growth'] / mb:.0f} MB (from {memory['rss_before'] / mb:.0f} MB; "
        f"{memory['rss_after'] / mb:.0f} MB after); "
        f"tracemalloc peak of one call {memory['tracemalloc_peak'] / mb:.0f} MB"
    )
    figures = measured["figures"]
    print(
        f"the year's figures: {figures['cases']} cases, repeats {figures['repeat']}, closure "
        f"{figures['incidents_closure']}, flags resolved {figures['dispute_resolve']}, top hotspot {figures['hotspot']}"
    )
    busy = use.share(use.stores + use.other)
    print(f"the whole machine was busy {busy * 100:.0f}% of one core (of 2) over the {use.elapsed:.0f} s measured")
    return 0


if __name__ == "__main__":
    from harness.processes import run

    run(main)
