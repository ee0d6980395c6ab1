"""Background jobs run in a real Celery worker process: on Redis in production, on files in the embedded default."""

from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta
from queue import Empty

import pytest
from celery import Celery
from django.conf import settings
from django.utils import timezone
from kombu import Connection

from accounts.models import IdempotencyRecord
from config.celery_app import app as project_app
from config.file_broker import SCHEME
from tests.servers import celery_worker, flush_test_broker

EMBEDDED_BROKER = f"{SCHEME}://"  # what the embedded default's settings use


def test_every_scheduled_job_names_a_registered_task():
    project_app.loader.import_default_modules()

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled <= set(project_app.tasks)
    assert "accounts.tasks.purge_idempotency_records_task" in scheduled


def _old_record(key: str) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        scope="user:1",
        key=key,
        method="POST",
        path="/api/v1/x",
        request_fingerprint="f",
        status_code=201,
        created_at=timezone.now() - timedelta(days=2),
    )


def _wait_until_gone(key: str, worker, timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not IdempotencyRecord.objects.filter(key=key).exists():
            return True
        if worker.poll() is not None:
            raise AssertionError(f"worker exited: {worker.log_tail()}")
        time.sleep(0.2)
    raise AssertionError(f"the task did not run within {timeout} s; worker log: {worker.log_tail()}")


@pytest.mark.needs_postgres
@pytest.mark.needs_redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_a_queued_task():
    # given an expired idempotency record and a worker consuming from Redis
    _old_record("expired-on-redis")
    redis_url = settings.TEST_REDIS_URL
    flush_test_broker(redis_url)
    with celery_worker(REDIS_URL=redis_url) as worker:
        # when the purge task is queued on the broker (as beat does)
        sender = Celery(broker=redis_url)
        sender.send_task("accounts.tasks.purge_idempotency_records_task")

        # then the worker process runs it against the database
        assert _wait_until_gone("expired-on-redis", worker)


@pytest.mark.needs_postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_embedded_file_broker_delivers_tasks_to_a_real_worker(tmp_path):
    # given the embedded default's broker (files under var/) and a worker reading it; no Redis at all
    _old_record("expired-on-files")
    with celery_worker(PINGAN_VAR_DIR=str(tmp_path), REDIS_URL="") as worker:
        queue = tmp_path / "broker" / "queue"
        queue.mkdir(parents=True, exist_ok=True)
        (tmp_path / "broker" / "processed").mkdir(parents=True, exist_ok=True)
        sender = Celery(
            broker=EMBEDDED_BROKER,
            broker_transport_options={
                "data_folder_in": str(queue),
                "data_folder_out": str(queue),
                "processed_folder": str(tmp_path / "broker" / "processed"),
                "control_folder": str(tmp_path / "broker" / "control"),  # kombu's default is ./control
            },
        )
        sender.send_task("accounts.tasks.purge_idempotency_records_task")

        assert _wait_until_gone("expired-on-files", worker)


def test_a_worker_polling_the_file_broker_never_reads_a_half_written_message(tmp_path):
    # given the embedded default's broker folder, a sender writing messages that take a while to serialise (tens of
    # milliseconds each, so a consumer polling meanwhile is sure to look at the folder while one is being written)
    folders = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "store_processed": False}
    sent, body = 20, {"payload": list(range(300_000))}

    def send() -> None:
        with Connection(EMBEDDED_BROKER, transport_options=folders) as sender:
            for _ in range(sent):
                sender.default_channel._put("celery", body)

    # when a consumer polls the folder as fast as it can while they are written (kombu's own writer creates the file
    # before it writes it, and the worker of dev.py run died on the empty file it read: JSONDecodeError)
    sender = multiprocessing.get_context("fork").Process(target=send)  # a process of its own, as the server is
    sender.start()
    received, failures = [], []
    deadline = time.monotonic() + 60
    with Connection(EMBEDDED_BROKER, transport_options=folders) as consumer:
        while len(received) + len(failures) < sent and time.monotonic() < deadline:
            try:
                received.append(consumer.default_channel._get("celery"))
            except Empty:
                continue
            except ValueError as error:  # JSONDecodeError
                failures.append(error)
    sender.join()

    # then every message arrives whole
    assert failures == []
    assert len(received) == sent
    assert all(message == body for message in received)
