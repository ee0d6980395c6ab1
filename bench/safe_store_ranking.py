"""The final Safe Store ranking at city scale (issue 12) on PostgreSQL: every alliance's half-year in one run.

What it measures
    On ``--alliances`` alliances (100) holding ``--stores`` stores (10,000) and ``--events`` scored events
    (1,000,000: the ten parts, values 1-5, four in five inside January-June 2025 and the rest in the half-years
    around it), in one process (``manage.py shell``, no server):

    * the job's service, ``safe_store_ranking_compute(period_start=2025-01-01)`` for every alliance: one ranking row
      per alliance and one entry per store, written by the set-based statements; its time and statement count;
    * the same call again (a second beat, a retried task): what it writes (nothing) and its time;
    * the naive way for comparison, in the same run: a query per store (its events of the period summed per part),
      then the weights, scores and ranks in Python; nothing written. Its scores are checked against the snapshot;
    * the live preview of one alliance (``safe_store_scores``), the statement a page of the preview runs, and the
      plan of its events scan (the (alliance, occurred_at) index ``store_score_event_period``).

How to run it
    cd /work/main && .venv/bin/python bench/safe_store_ranking.py [--stores 10000] [--alliances 100]
        [--events 1000000] [--database-url postgres://postgres@127.0.0.1:5432/pingan_bench_safe_stores]

    The database (its name must start with pingan_bench) is DROPPED, created, migrated and filled every run with
    set-based SQL (``INSERT ... SELECT`` over ``generate_series``, seeded), then ``VACUUM ANALYZE``d;
    ``--keep-data`` reuses the last run's data and deletes only its rankings.

How to read it
    Wall-clock seconds of one call each (the job runs twice a year; a cold call is the honest figure), the number
    of SQL statements it sent, the rows it wrote. The target is the first line under 10 s.
"""

from __future__ import annotations

import argparse

from harness.stats import machine, stamped, versions
from harness.stores import prepare_database, server_env, shell_result

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_safe_stores"

BUILD_SCRIPT = """
import time as _time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from accounts.models import Role, RoleGrant, User
from alliance.models import Alliance, Station, Store, StoreScorePart

ALLIANCES, STORES, EVENTS = {alliances}, {stores}, {events}
started = _time.perf_counter()
founded = datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
with transaction.atomic():
    station = Station.objects.create(name="城区派出所", city="常州", kind=Station.Kind.STATION)
    owners = User.objects.bulk_create(
        User(phone=f"+86137{{n + 1:08d}}", display_name=f"商户{{n + 1}}") for n in range(ALLIANCES)
    )
    RoleGrant.objects.bulk_create(RoleGrant(user=u, role=Role.MERCHANT, reason="bench") for u in owners)
    alliances = Alliance.objects.bulk_create(
        Alliance(name=f"街区联盟{{n + 1}}", slug=f"bench-{{n + 1}}", station=station, created_at=founded)
        for n in range(ALLIANCES)
    )
    Store.objects.bulk_create(
        (
            Store(
                alliance=alliances[n % ALLIANCES],
                owner=owners[n % ALLIANCES],
                name=f"店铺{{n + 1}}",
                address=f"{{n + 1}}号",
                latitude=Decimal("31.77"),
                longitude=Decimal("119.95"),
            )
            for n in range(STORES)
        ),
        batch_size=2000,
    )
    parts = list(StoreScorePart.values)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.12)")
        # Each event: a random store (its alliance follows), a random part, a value 1-5, and a moment: four in five
        # inside January-June 2025 (Asia/Shanghai), the rest in the half-years before and after.
        cursor.execute(
            '''
            INSERT INTO alliance_storescoreevent (store_id, alliance_id, part, value, occurred_at, unique_key)
            SELECT s.id, s.alliance_id, (%(parts)s::text[])[1 + floor(r.p * 10)::int], 1 + floor(r.v * 5),
                   CASE WHEN r.t < 0.8 THEN timestamptz '2025-01-01 00:00+08' + r.w * interval '181 days'
                        WHEN r.t < 0.9 THEN timestamptz '2024-07-01 00:00+08' + r.w * interval '184 days'
                        ELSE timestamptz '2025-07-01 00:00+08' + r.w * interval '184 days' END,
                   'bench:' || r.g
            FROM (SELECT g, 1 + floor(random() * %(stores)s)::int AS n, random() AS p, random() AS v,
                         random() AS t, random() AS w
                  FROM generate_series(1, %(events)s) g) r
            JOIN (SELECT id, alliance_id, row_number() OVER (ORDER BY id) AS n FROM alliance_store) s ON s.n = r.n
            ''',
            {{"parts": parts, "stores": STORES, "events": EVENTS}},
        )
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE")
result = {{"seconds": _time.perf_counter() - started}}
"""

KEEP_SCRIPT = """
from django.db import connection

from alliance.models import SafeStoreRanking

SafeStoreRanking.objects.all().delete()
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE")
result = {"seconds": 0.0}
"""

MEASURE_SCRIPT = """
import math
import time as _time
from datetime import date
from collections import defaultdict

from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from alliance.models import Alliance, SafeStoreRanking, SafeStoreRankingEntry, Store, StoreScoreEvent
from alliance.models.safe_stores import SECURITY_PARTS
from alliance.selectors.safe_store_scores import (
    safe_store_period_bounds, safe_store_scores, safe_store_scores_sql, safe_store_weights,
)
from alliance.services.safe_store_rankings import safe_store_ranking_compute

H1, H1_END = date(2025, 1, 1), date(2025, 6, 30)
figures = {{}}

# 1. The job, every alliance, cold.
with CaptureQueriesContext(connection) as queries:
    started = _time.perf_counter()
    first = safe_store_ranking_compute(period_start=H1)
    figures["compute_s"] = _time.perf_counter() - started
figures["compute_statements"] = len(queries)
figures["compute_written"] = [first.rankings, first.entries]

# 2. Again: finds every key taken.
counts_before = [SafeStoreRanking.objects.count(), SafeStoreRankingEntry.objects.count()]
with CaptureQueriesContext(connection) as queries:
    started = _time.perf_counter()
    second = safe_store_ranking_compute(period_start=H1)
    figures["again_s"] = _time.perf_counter() - started
figures["again_statements"] = len(queries)
figures["again_written"] = [second.rankings, second.entries]
figures["counts"] = [counts_before, [SafeStoreRanking.objects.count(), SafeStoreRankingEntry.objects.count()]]

# 3. The naive way: a query per store, scores and ranks in Python (nothing written).
started = _time.perf_counter()
period_from, period_to = safe_store_period_bounds(H1, H1_END)
stores = list(Store.objects.values_list("pk", "alliance_id"))
weights = safe_store_weights(alliance_ids=Alliance.objects.values_list("pk", flat=True))
naive = {{}}


def round4(x):  # as the statement rounds (half away from zero, to 1/10000)
    return math.copysign(math.floor(abs(x) * 10000 + 0.5), x) / 10000


for store_id, alliance_id in stores:
    quantities = dict(
        StoreScoreEvent.objects.filter(store_id=store_id, occurred_at__gte=period_from, occurred_at__lt=period_to)
        .values_list("part")
        .annotate(quantity=Sum("value"))
        .order_by()
    )
    score = sum(round4(q * weights[alliance_id][part]) for part, q in quantities.items())
    naive[store_id] = (alliance_id, round4(score))
by_alliance = defaultdict(list)
for store_id, (alliance_id, score) in naive.items():
    by_alliance[alliance_id].append((score, store_id))
naive_rank = {{}}
for rows in by_alliance.values():
    rows.sort(key=lambda row: (-row[0], row[1]))
    for index, (score, store_id) in enumerate(rows):
        tied = index > 0 and score == rows[index - 1][0]
        naive_rank[store_id] = naive_rank[rows[index - 1][1]] if tied else index + 1
figures["naive_s"] = _time.perf_counter() - started
figures["naive_queries"] = len(stores) + 2
snapshot = {{e[0]: e[1:] for e in SafeStoreRankingEntry.objects.values_list("store_id", "score", "rank")}}
figures["score_mismatches"] = sum(
    1 for store_id, (score, rank) in snapshot.items() if abs(score - naive[store_id][1]) > 1e-6
)
figures["mismatches"] = sum(
    1 for store_id, (score, rank) in snapshot.items()
    if abs(score - naive[store_id][1]) > 1e-6 or rank != naive_rank[store_id]
)

# 4. The live preview of one alliance (its statement), and the plan of its events scan.
alliance_id = Alliance.objects.order_by("pk").values_list("pk", flat=True)[1]
timings = []
for _ in range(5):
    started = _time.perf_counter()
    rows = safe_store_scores(alliance_id=alliance_id, period_start=H1, period_end=H1_END)
    timings.append(_time.perf_counter() - started)
figures["preview_ms"] = sorted(timings)[2] * 1000
figures["preview_rows"] = len(rows)
sql, params = safe_store_scores_sql(
    weights=safe_store_weights(alliance_ids=[alliance_id]), period_start=H1, period_end=H1_END
)
with connection.cursor() as cursor:
    cursor.execute("EXPLAIN " + sql, params)
    plan = [line for (line,) in cursor.fetchall()]
figures["preview_plan"] = [line.strip() for line in plan if "alliance_storescoreevent" in line or "Index" in line]
every = safe_store_weights(alliance_ids=Alliance.objects.values_list("pk", flat=True))
sql, params = safe_store_scores_sql(weights=every, period_start=H1, period_end=H1_END)
with connection.cursor() as cursor:
    cursor.execute("EXPLAIN " + sql, params)
    plan = [line for (line,) in cursor.fetchall()]
figures["all_plan"] = [line.strip() for line in plan if "alliance_storescoreevent" in line or "Index" in line]
result = figures
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--alliances", type=int, default=100)
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep-data", action="store_true", help="reuse the last run's data (its rankings deleted)")
    args = parser.parse_args()
    env = server_env(args.database_url)
    print(stamped("Safe Store ranking (issue 12)"))
    print(f"{machine()}; {versions('Django', 'psycopg')}")
    if args.keep_data:  # the last run's data: only its rankings go
        built = shell_result(env, KEEP_SCRIPT)
    else:
        built = prepare_database(
            env,
            BUILD_SCRIPT.format(alliances=args.alliances, stores=args.stores, events=args.events),
            recreate=True,
        )
    print(
        f"data: {args.alliances} alliances, {args.stores} stores, {args.events} scored events "
        f"(built in {built['seconds']:.1f} s)"
    )
    f = shell_result(env, MEASURE_SCRIPT.format())
    rankings, entries = f["compute_written"]
    print(
        f"final ranking, every alliance (set-based): {f['compute_s']:6.2f} s, {f['compute_statements']} statements, "
        f"{rankings} rankings and {entries} entries written"
    )
    again = f["again_written"]
    print(
        f"the same again (keys taken):               {f['again_s']:6.2f} s, {f['again_statements']} statements, "
        f"{again[0]} rankings and {again[1]} entries written; rows before/after {f['counts'][0]} / {f['counts'][1]}"
    )
    print(
        f"naive (a query per store, Python ranks):   {f['naive_s']:6.2f} s, {f['naive_queries']} queries, nothing "
        f"written; stores whose score / rank differs from the snapshot: {f['score_mismatches']} / {f['mismatches']}"
    )
    print(f"live preview of one alliance ({f['preview_rows']} stores): median of 5 {f['preview_ms']:.1f} ms")
    print("plan of its events scan:", " | ".join(f["preview_plan"]))
    print("plan of the job's events scan:", " | ".join(f["all_plan"]))
    return 0 if f["compute_s"] < 10 and again == [0, 0] and f["mismatches"] == 0 else 1


if __name__ == "__main__":
    from harness.processes import run

    run(main)
