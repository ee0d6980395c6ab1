"""A real Celery worker awarding points is killed in the middle of a batch: the batch comes back to the queue (acks
late), the next worker settles it, and the ledger holds exactly one award per claim, every balance the sum of its
entries. The worker imports the tests' ``test_bulk`` source through PINGAN_POINTS_EVIDENCE_MODULES."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db.models import Count, Sum

from accounts.models import Role
from alliance.models import PointsAccount, PointsEntry
from tests.alliance.points_sources import BULK_SOURCE
from tests.factories.alliance import MemberRole, member_add
from tests.servers import celery_worker, flush_test_broker

CLAIMS = 20_000
BATCH = 2_000
PEOPLE = 100
POINTS_EACH = 10  # merchant_contribution's default rule, no daily cap


def _wait_for(condition, worker, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if worker.poll() is not None:
            raise AssertionError(f"the worker exited: {worker.log_tail()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s; worker log: {worker.log_tail()}")
        time.sleep(0.2)


@pytest.mark.needs_postgres
@pytest.mark.needs_redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_leaves_one_award_per_claim_and_every_balance_its_ledger(
    ledger_street, user_factory, tmp_path
):
    # given 100 volunteers and 20,000 claims of the tests' bulk source, queued once as 10 batches of 2,000
    alliance = ledger_street.alliance
    people = [user_factory(roles=[Role.VOLUNTEER]) for _ in range(PEOPLE)]
    for person in people:
        member_add(alliance, person, MemberRole.VOLUNTEER)
    broker = settings.TEST_REDIS_URL
    flush_test_broker(broker)
    source_env = {
        "REDIS_URL": broker,
        "PINGAN_POINTS_EVIDENCE_MODULES": "tests.alliance.points_sources",
        "PINGAN_TEST_POINTS_PEOPLE": f"{alliance.pk}:{','.join(str(p.pk) for p in people)}",
    }
    sender = Celery(broker=broker)

    def queue_every_batch():
        for start in range(0, CLAIMS, BATCH):
            sender.send_task("alliance.tasks.settle_points_task", args=[BULK_SOURCE, list(range(start, start + BATCH))])

    queue_every_batch()

    # when the first worker (production's prefork pool: a parent and its pool child running the task) settles two
    # batches and is killed, the whole process tree with SIGKILL, while the third reads its claims again under its
    # accounts' locks, its transaction open
    gate = tmp_path / "gate"
    gate.mkdir()
    gated = {"PINGAN_TEST_POINTS_GATE": str(gate), "PINGAN_TEST_POINTS_GATE_AFTER": "6"}
    with celery_worker(pool="prefork", **source_env, **gated) as doomed:
        _wait_for(lambda: (gate / "reached").exists(), doomed, "the third batch")
        settled_before_kill = PointsEntry.objects.count()
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait()
    (gate / "open").touch()
    time.sleep(3.5)  # past the visibility timeout: what the dead worker held is due back to the queue

    # and a new worker takes over
    queue = redis.Redis.from_url(broker)
    # (a taken task comes back after the broker's visibility timeout, an hour in production: 3 s for this worker, so
    # the killed one's batches come back at once; the first worker keeps the hour, or its own restoring of the
    # batches it had prefetched would hide a lost one)
    with celery_worker(**source_env, PINGAN_CELERY_VISIBILITY_TIMEOUT="3") as successor:
        _wait_for(
            lambda: PointsEntry.objects.count() >= CLAIMS and queue.llen("celery") == 0 and queue.hlen("unacked") == 0,
            successor,
            "settling every batch",
        )
        time.sleep(2)  # anything still redelivered must find nothing to do
        ledger_after_kill = sorted(PointsEntry.objects.values_list("unique_key", "user_id", "amount"))
        # and every batch is delivered once more (a retried or duplicated task)
        queue_every_batch()
        _wait_for(lambda: queue.llen("celery") == 0 and queue.hlen("unacked") == 0, successor, "the second round")
        time.sleep(2)

    # then the kill came mid-way: two batches were in the ledger, not the third
    assert settled_before_kill == 2 * BATCH
    # and the second round changed nothing
    assert sorted(PointsEntry.objects.values_list("unique_key", "user_id", "amount")) == ledger_after_kill
    # and every claim earned exactly once, every balance is the sum of its entries
    keys = Counter(PointsEntry.objects.values_list("unique_key", flat=True))
    assert len(keys) == CLAIMS and set(keys.values()) == {1}
    assert set(keys) == {f"{BULK_SOURCE}:{number}" for number in range(CLAIMS)}
    per_person = dict(
        PointsEntry.objects.values_list("user_id")
        .annotate(total=Sum("amount"), count=Count("id"))
        .values_list("user_id", "total")
    )
    assert per_person == {person.pk: POINTS_EACH * CLAIMS // PEOPLE for person in people}
    balances = dict(PointsAccount.objects.filter(alliance=alliance).values_list("user_id", "balance"))
    assert balances == per_person
