"""Real server and worker processes for the tests that need them (WebSocket, multi-process, Celery).

They run against the test database the suite created (PostgreSQL), with the production code paths: daphne serving
config.asgi, a Celery worker consuming from Redis; or, with ``embedded_default_env``, on the embedded default that
``dev.py run`` uses (SQLite file, in-process channel layer, file broker).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database the test run created (test_<name>), for child processes."""
    params = connection.settings_dict
    user = params.get("USER") or "postgres"
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{params['NAME']}"


def child_env(**extra: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": test_database_url(),
            "DJANGO_LOG_LEVEL": "WARNING",
            "SMS_PROVIDER": "console",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    for name in [name for name, value in env.items() if value is None]:
        del env[name]  # None removes a variable: the embedded default is what no variable at all gives
    return env


def embedded_default_env(var_dir: Path) -> dict:
    """What ``dev.py run`` runs on: no DATABASE_URL and no REDIS_URL, so a SQLite file, the in-process channel layer
    and the file broker, all under ``var_dir``."""
    return {"PINGAN_VAR_DIR": str(var_dir), "DATABASE_URL": None, "REDIS_URL": None, "CELERY_BROKER_URL": None}


def manage_py(*args: str, **env_extra) -> str:
    """Run ``manage.py`` in a child process (for a database the test process does not hold); returns its stdout."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env(**env_extra),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr[-3000:]}")
    return result.stdout


@contextmanager
def daphne_server(**env_extra: str | None):
    """A daphne process serving config.asgi on a free loopback port; yields its base URL (http://127.0.0.1:port).

    Its output goes to a file, not a pipe: an unread pipe fills up and blocks the server mid-test."""
    port = free_port()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env=child_env(**env_extra),
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"daphne exited: {_tail(log)}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not answer /healthz within 60 s: {_tail(log)}")
                time.sleep(0.1)
        yield base
    finally:
        _stop_group(process)
        log.close()


def _tail(log) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-3000:]


def _stop_group(process: subprocess.Popen) -> None:
    """Stop a process and everything it started (a worker's embedded beat is a child process that would otherwise
    live on, sending tasks to the next test's broker)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def http_json(base: str, method: str, path: str, token: str | None = None, body: dict | None = None):
    """One HTTP request to a server process; returns (status, parsed JSON body)."""
    import json
    import urllib.error

    headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    if token:
        headers["X-Session-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def use_production_cache(settings, url: str) -> None:
    """The cache and sessions of config/settings/base.py with REDIS_URL set (config.cache.ResilientRedisCache,
    cached_db sessions), on the Redis at ``url``, emptied; short timeouts so a stopped Redis fails fast."""
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    caches["default"].clear()


@contextmanager
def redis_server():
    """A private redis-server on a free port, so a test can kill it and bring it back. Yields (url, restart, stop)."""
    port = free_port()
    state: dict = {}

    def start():
        state["process"] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop():
        process = state.get("process")
        if process and process.poll() is None:
            process.kill()
            process.wait()

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", start, stop
    finally:
        stop()


@contextmanager
def celery_worker(*, beat: bool = False, pool: str = "solo", **env_extra: str | None):
    """A Celery worker process (optionally with the beat scheduler) on the broker named by env REDIS_URL (or the
    embedded file broker under PINGAN_VAR_DIR). Yields the process; its log is ``process.log_tail()``.
    ``pool="prefork"``: production's pool, one child process running the tasks (the solo pool runs them in the
    worker process itself, which acknowledges nothing while a task runs, whatever the task's acks_late)."""
    args = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", "--loglevel=WARNING"]
    if pool == "prefork":
        args += ["--concurrency=1"]
    if beat:
        args += ["--beat", "--schedule", os.path.join(tempfile.mkdtemp(), "beat-schedule")]
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        args, cwd=ROOT, env=child_env(**env_extra), stdout=log, stderr=log, start_new_session=True
    )
    process.log_tail = lambda: _tail(log)
    try:
        yield process
    finally:
        _stop_group(process)
        log.close()


def flush_test_broker(url: str) -> None:
    """Empty the tests' own Redis database, so no task left by an earlier test reaches this test's worker."""
    import redis

    redis.Redis.from_url(url).flushdb()


def next_event(ws, type_: str, timeout: float = 5) -> dict:
    """The next event of ``type_`` on a socket (a websockets sync client), skipping the others in between."""
    deadline = time.monotonic() + timeout
    while True:
        event = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if event["type"] == type_:
            return event
