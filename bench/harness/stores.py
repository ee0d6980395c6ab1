"""The data a benchmark runs on: the servers' environment, the bench database and its rows, the bench Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from harness import HOST, ROOT

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "psql")
RESULT_PREFIX = "BENCH-RESULT="

# Prepended to a setup script: ``token_for(user)`` logs the user in (a session in the settings' engine, as the
# servers will read it) and returns the session key, which is the user's ``X-Session-Token``; ``tokens_for(users)``
# does the same for many at once.
TOKEN_FOR = """
from importlib import import_module as _import_module

from django.conf import settings as _settings

_engine = _import_module(_settings.SESSION_ENGINE)


def token_for(user):
    session = _engine.SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return session.session_key


# token_for for many users: the same sessions, written 1,000 at a time (one INSERT, and with cached_db one cache
# write) instead of a key check, an INSERT and a cache write each.
def tokens_for(users):
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.utils.crypto import get_random_string

    rows, cached, age = [], dict(), None  # (no braces in this prelude: the scripts it starts are str.format()ed)
    for user in users:
        data = dict(
            _auth_user_id=str(user.pk),
            _auth_user_backend="django.contrib.auth.backends.ModelBackend",
            _auth_user_hash=user.get_session_auth_hash(),
        )
        session = _engine.SessionStore()
        session._session_key = get_random_string(32, VALID_KEY_CHARS)  # 160 bits: no collision check needed
        session._session_cache = data  # loaded: reading it must not look the new key up (and drop it, not found)
        rows.append(session.create_model_instance(data))
        if hasattr(session, "cache_key"):  # cached_db: the cache holds the session as its save() puts it there
            cached[session.cache_key] = data
            age = session.get_expiry_age()
    _engine.SessionStore.get_model_class().objects.bulk_create(rows, batch_size=1000)
    if cached:
        store = _engine.SessionStore()
        keys = list(cached)
        for start in range(0, len(keys), 1000):
            store._cache.set_many(dict((key, cached[key]) for key in keys[start : start + 1000]), age)
    return [row.session_key for row in rows]
"""


def server_env(database_url: str, redis_url: str | None = None) -> dict[str, str]:
    """``config.settings.local`` with DEBUG off, log level WARNING, loopback hosts; Redis only when given (cache,
    cached_db sessions, channel layer; without it the in-process layout)."""
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
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def database_name(database_url: str) -> str:
    return unquote(urlsplit(database_url).path.lstrip("/"))


def database_label(database_url: str) -> str:
    """``sqlite /path`` or ``postgres host/name``, for the report."""
    db = urlsplit(database_url)
    return f"{db.scheme} {db.path if db.scheme == 'sqlite' else (db.hostname or '') + db.path}"


def _postgres_client(database_url: str) -> tuple[list[str], dict[str, str]]:
    """The connection options and environment for PostgreSQL's command-line tools."""
    url = urlsplit(database_url)
    conn = ["-h", url.hostname or HOST, "-p", str(url.port or 5432), "-U", unquote(url.username or "postgres")]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = unquote(url.password)
    return conn, env


def recreate_postgres_database(database_url: str) -> None:
    """Drop (``--force``) and create the database; only PostgreSQL, only a name starting with pingan_bench."""
    if urlsplit(database_url).scheme not in POSTGRES_SCHEMES:
        raise SystemExit(f"this benchmark needs PostgreSQL, not {database_url!r}")
    name = database_name(database_url)
    if not name or not name.startswith("pingan_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the bench database's name must start with pingan_bench")
    conn, env = _postgres_client(database_url)
    subprocess.run(["dropdb", *conn, "--if-exists", "--force", name], env=env, check=True)
    subprocess.run(["createdb", *conn, name], env=env, check=True)


def ensure_postgres_database(database_url: str) -> None:
    name = database_name(database_url)
    if not name:
        raise SystemExit(f"no database name in {database_url!r}")
    conn, env = _postgres_client(database_url)
    found = subprocess.run(
        ["psql", *conn, "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    if found.stdout.strip() != "1":
        subprocess.run(["createdb", *conn, name], env=env, check=True)


def ensure_database(database_url: str, *, throwaway: str | None) -> None:
    """A PostgreSQL database is created when absent (its rows are the setup script's to clean up); the SQLite
    file ``throwaway`` (the script's default) is deleted, so every run starts from the same empty database."""
    scheme = urlsplit(database_url).scheme
    if scheme in POSTGRES_SCHEMES:
        ensure_postgres_database(database_url)
    elif scheme == "sqlite" and database_url == throwaway:
        for suffix in ("", "-wal", "-shm"):
            Path(urlsplit(database_url).path + suffix).unlink(missing_ok=True)


def manage(env: dict[str, str], *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=capture,
        text=True,
        check=False,
    )


def migrate(env: dict[str, str]) -> None:
    if manage(env, "migrate", "--noinput", "-v", "0").returncode != 0:
        raise SystemExit("manage.py migrate failed")


def prepare_database(env: dict[str, str], script: str, *, recreate: bool = False, throwaway: str | None = None):
    """The bench database (``env``'s DATABASE_URL), migrated and filled by ``script`` (see ``shell_result``);
    what the script's ``result`` holds. ``recreate``: dropped and created first (PostgreSQL only), so that every
    run starts empty; otherwise see ``ensure_database``."""
    if recreate:
        recreate_postgres_database(env["DATABASE_URL"])
    else:
        ensure_database(env["DATABASE_URL"], throwaway=throwaway)
    migrate(env)
    return shell_result(env, script)


def shell_result(env: dict[str, str], script: str):
    """Run ``script`` in ``manage.py shell`` with the servers' settings; it assigns ``result`` (anything JSON can
    carry: the ids and tokens the load needs), which comes back here. A failing script ends the run."""
    script += f"\nimport json as _json\nprint({RESULT_PREFIX!r} + _json.dumps(result))\n"
    done = manage(env, "shell", "-c", script, capture=True)
    for line in done.stdout.splitlines():
        if done.returncode == 0 and line.startswith(RESULT_PREFIX):
            return json.loads(line.removeprefix(RESULT_PREFIX))
    raise SystemExit(f"setup failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def redis_client(url: str):
    import redis  # installed with channels-redis

    return redis.Redis.from_url(url, socket_timeout=2)


def redis_answers(url: str) -> bool:
    try:
        client = redis_client(url)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means no Redis
        return False


def clear_channel_layer_groups(url: str) -> int:
    """Forget channel-layer group memberships left in the bench's Redis database by earlier runs, so that no dead
    socket hub of an earlier run receives copies."""
    client = redis_client(url)
    try:
        keys = list(client.scan_iter(match="asgi:group:*", count=1000))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()
