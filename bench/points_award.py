"""Awarding points at city scale (issue 12): 200,000 verified patrols settled by ONE Celery worker.

What it measures
    On a fresh PostgreSQL database with ``--people`` volunteers in ``--alliances`` alliances and last month's ledger
    (``--history`` entries over the same people, analysed as autovacuum would have: this machine's PostgreSQL runs
    without autovacuum, and an empty ledger never analysed gets plans from missing statistics), ``--claims`` verified
    patrols of the bench evidence source (bench/harness/points_source.py: ten a person over ten days, 1 to 2 hours
    each, under the daily cap, so one entry a claim) are queued on Redis as tasks of ``--batch`` evidence ids
    (``alliance.tasks.settle_points_task``, as ``points_settle_on_commit`` queues them) and settled by one real
    worker process (``celery worker --pool=solo``: one process, one task at a time):

    * ``award``: from the first task sent until the broker holds none, not even unacknowledged (acks late: a task
      is acknowledged once it has run), checked every 0.2 s;
    * ``again``: every task sent a second time, until the queue is drained and the last task acknowledged; the
      ledger's rows, the sum of the balances and of the entries must not change;
    * ``naive``: the same job done one claim per task and per transaction through ``points_entry_write``
      (bench_naive_award_task: lock the account, look for the key, append, move the balance), on ``--naive-sample``
      further claims, extrapolated to ``--claims``: the comparison;
    * then the nightly reconciliation's comparison (``points_differences``) must find nothing.

How to run it
    cd /work/main && .venv/bin/python bench/points_award.py [--claims 200000] [--people 20000] [--alliances 50]
        [--batch 1000] [--naive-sample 2000] [--database-url postgres://postgres@127.0.0.1:5432/pingan_bench_points]
        [--redis-url redis://127.0.0.1:6379/13]

    The database (its name must start with pingan_bench) is DROPPED and created every run; the Redis database is
    flushed. The worker's settings are production's (config.settings.local with DATABASE_URL and REDIS_URL).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import psycopg
from celery import Celery
from harness import ROOT
from harness.processes import run
from harness.stats import machine, print_header, stamped, versions
from harness.stores import database_label, prepare_database, redis_client, server_env, shell_result

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_points"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
SETTLE_TASK = "alliance.tasks.settle_points_task"
NAIVE_TASK = "harness.points_source.bench_naive_award_task"

SETUP_SCRIPT = """
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from alliance.models import Alliance, PointsEntry, Station
from harness.points_source import PHONE_BASE

User = get_user_model()
PEOPLE, ALLIANCES, HISTORY = {people}, {alliances}, {history}
with transaction.atomic():
    station = Station.objects.create(name="积分基准派出所", city="扬州")
    Alliance.objects.bulk_create(
        [Alliance(name=f"积分基准联盟{{a}}", slug=f"points-bench-{{a:03d}}", station=station) for a in range(ALLIANCES)]
    )
    users = [User(phone="+86" + str(PHONE_BASE + n), display_name=f"points bench {{n}}") for n in range(PEOPLE)]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users, batch_size=2000)
# Last month's ledger, as a city's would be: HISTORY entries spread over the same people (their accounts made),
# set-based; then ANALYZE, as autovacuum would have long done (this machine's PostgreSQL runs without it).
with connection.cursor() as cursor:
    cursor.execute(
        "INSERT INTO alliance_pointsaccount (user_id, alliance_id, balance, held, updated_at) "
        "SELECT p.id, a.id, 0, 0, now() FROM "
        "(SELECT id, row_number() OVER (ORDER BY phone) - 1 AS n FROM accounts_user "
        " WHERE display_name LIKE 'points bench %%') p "
        "JOIN (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS n FROM alliance_alliance "
        " WHERE slug LIKE 'points-bench-%%') a ON a.n = p.n %% %s",
        [ALLIANCES],
    )
    cursor.execute(
        "INSERT INTO alliance_pointsentry (user_id, alliance_id, amount, reason, source_type, source_id, unique_key, "
        "note, earned_on, created_at) "
        "SELECT acc.user_id, acc.alliance_id, 10, 'patrol_hour', 'bench.history', 1000000 + g.n, "
        "'bench_history:' || g.n, '', date '2026-10-01' + (g.n / %s), now() "
        "FROM generate_series(0, %s - 1) g(n) "
        "JOIN (SELECT user_id, alliance_id, row_number() OVER (ORDER BY id) - 1 AS n FROM alliance_pointsaccount) acc "
        "ON acc.n = g.n %% %s",
        [PEOPLE, HISTORY, PEOPLE],
    )
    cursor.execute(
        "UPDATE alliance_pointsaccount a SET balance = s.total FROM (SELECT user_id, alliance_id, sum(amount) AS total "
        "FROM alliance_pointsentry GROUP BY 1, 2) s WHERE a.user_id = s.user_id AND a.alliance_id = s.alliance_id"
    )
    cursor.execute("ANALYZE")
result = {{
    "people": User.objects.filter(display_name__startswith="points bench ").count(),
    "history": PointsEntry.objects.count(),
}}
"""

CHECK_SCRIPT = """
from alliance.selectors.points import points_differences
result = len(points_differences())
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--alliances", type=int, default=50)
    parser.add_argument("--batch", type=int, default=1_000, help="evidence ids per task")
    parser.add_argument("--history", type=int, default=200_000, help="entries already in the ledger (last month)")
    parser.add_argument("--naive-sample", type=int, default=2_000, help="claims done the naive way, extrapolated")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--timeout", type=float, default=900, help="seconds any one phase may take")
    return parser.parse_args(argv)


class Ledger:
    """The bench database as the measuring process sees it: counts through one psycopg connection."""

    def __init__(self, database_url: str):
        self.connection = psycopg.connect(database_url, autocommit=True)

    def entries(self) -> int:
        return self.connection.execute("SELECT count(*) FROM alliance_pointsentry").fetchone()[0]

    def totals(self) -> tuple[int, int, int, int]:
        """(entries, distinct keys, sum of the entries, sum of the balances)."""
        entries, keys, amounts = self.connection.execute(
            "SELECT count(*), count(DISTINCT unique_key), coalesce(sum(amount), 0) FROM alliance_pointsentry"
        ).fetchone()
        balances = self.connection.execute("SELECT coalesce(sum(balance), 0) FROM alliance_pointsaccount").fetchone()
        return entries, keys, amounts, balances[0]


class Worker:
    """One Celery worker process, solo pool, on the bench database and Redis; its output in a temporary file."""

    def __init__(self, env: dict[str, str], broker: str):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        self.sender = Celery(broker=broker)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.sender.control.ping(timeout=0.5):
            self.check()
            if time.monotonic() > deadline:
                raise SystemExit(f"the worker did not answer within {timeout} s:\n{self.tail()}")

    def check(self) -> None:
        if self.process.poll() is not None:
            raise SystemExit(f"the worker exited:\n{self.tail()}")

    def tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


def wait_until(condition, worker: Worker, what: str, timeout: float) -> float:
    started = time.monotonic()
    while not condition():
        worker.check()
        if time.monotonic() - started > timeout:
            raise SystemExit(f"{what} did not finish within {timeout} s:\n{worker.tail()}")
        time.sleep(0.2)
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = server_env(args.database_url, args.redis_url)
    env["PINGAN_POINTS_EVIDENCE_MODULES"] = "harness.points_source"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bench"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    print(stamped("points award: settling verified evidence in batches with one Celery worker"))
    print(machine())
    print(versions("Django", "celery", "kombu", "psycopg"))
    print(f"database {database_label(args.database_url)}, broker {args.redis_url}")

    script = SETUP_SCRIPT.format(people=args.people, alliances=args.alliances, history=args.history)
    setup = prepare_database(env, script, recreate=True)
    if setup["people"] != args.people:
        raise SystemExit(f"setup made {setup['people']} people, not {args.people}")
    history = setup["history"]
    broker = redis_client(args.redis_url)
    broker.flushdb()
    ledger = Ledger(args.database_url)
    worker = Worker(env, args.redis_url)
    batches = [list(range(s, min(s + args.batch, args.claims))) for s in range(0, args.claims, args.batch)]

    def drained() -> bool:
        return broker.llen("celery") == 0 and broker.hlen("unacked") == 0

    try:
        worker.wait_ready()
        # award: every claim once
        started = time.monotonic()
        for ids in batches:
            worker.sender.send_task(SETTLE_TASK, args=["bench_patrol", ids])
        # Done when the broker holds no task and none unacknowledged (acks late: a task is acknowledged once run);
        # polling Redis costs nothing next to a count(*) of the ledger every 0.2 s.
        wait_until(drained, worker, "the award", args.timeout)
        awarded = time.monotonic() - started
        first = ledger.totals()

        # again: every task a second time changes nothing
        started = time.monotonic()
        for ids in batches:
            worker.sender.send_task(SETTLE_TASK, args=["bench_patrol", ids])
        wait_until(drained, worker, "the second run", args.timeout)
        again = time.monotonic() - started
        second = ledger.totals()

        # naive: a task and a transaction per claim, on a sample of further claims
        sample = range(args.claims, args.claims + args.naive_sample)
        before = ledger.entries()
        started = time.monotonic()
        for evidence_id in sample:
            worker.sender.send_task(NAIVE_TASK, args=[evidence_id])
        wait_until(drained, worker, "the naive sample", args.timeout)
        naive = time.monotonic() - started
        if ledger.entries() != before + len(sample):
            raise SystemExit("the naive sample did not write one entry a claim")
    finally:
        worker.stop()
    differences = shell_result(env, CHECK_SCRIPT)

    naive_total = naive * args.claims / len(sample)
    print()
    print(
        f"{args.claims:,} claims, {args.people:,} people in {args.alliances} alliances, {history:,} entries before, "
        f"{len(batches)} tasks of {args.batch:,} ids, 1 worker (solo pool)"
    )
    print_header(f"{'run':<34} {'seconds':>9} {'claims/s':>10} {'entries':>9} {'sum of balances':>16}")
    print(f"{'award (batched)':<34} {awarded:>9.1f} {args.claims / awarded:>10,.0f} {first[0]:>9,} {first[3]:>16,}")
    print(
        f"{'again (every task twice)':<34} {again:>9.1f} {args.claims / again:>10,.0f} {second[0]:>9,} {second[3]:>16,}"
    )
    print(f"{f'naive, {len(sample):,} claims':<34} {naive:>9.1f} {len(sample) / naive:>10,.0f} {'':>9} {'':>16}")
    print(f"{'naive, extrapolated to all':<34} {naive_total:>9.1f} {args.claims / naive_total:>10,.0f}")
    print()
    unchanged = first == second
    one_each = first[0] == first[1] == history + args.claims and first[2] == first[3]
    print(f"second run changed nothing: {'yes' if unchanged else 'NO'} (entries, keys, sums {first} -> {second})")
    print(f"one entry per claim, balances = entries: {'yes' if one_each else 'NO'}")
    print(f"nightly reconciliation differences: {differences}")
    print(f"batched is {naive_total / awarded:.1f}x faster than the naive way; target: under 60 s")
    return 0 if unchanged and one_each and differences == 0 else 1


if __name__ == "__main__":
    run(main)
