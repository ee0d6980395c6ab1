"""Settings for the test suite.

PostgreSQL and Redis are used when they answer (always under CI, where .ci/run starts them); on a developer's
machine without them the suite runs on SQLite and the tests marked ``needs_postgres`` / ``needs_redis`` are skipped
with that reason (tests/conftest.py). ``PINGAN_TEST_DATABASE_URL`` / ``PINGAN_TEST_REDIS_URL`` point elsewhere.
"""

import os
import socket
import tempfile
from urllib.parse import urlparse

from .base import *  # noqa: F403
from .base import env


def _answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=0.5):
            return True
    except OSError:
        return False


TEST_POSTGRES_URL = env("PINGAN_TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/pingan")
TEST_REDIS_URL = env("PINGAN_TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
POSTGRES_AVAILABLE = _answers(TEST_POSTGRES_URL, 5432)
REDIS_AVAILABLE = _answers(TEST_REDIS_URL, 6379)

if POSTGRES_AVAILABLE:
    DATABASES = {"default": env.db_url_config(TEST_POSTGRES_URL)}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Tests that need Redis use it explicitly (tests/conftest.py); the default stays in-process so tests are isolated.
REDIS_URL = ""
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pingan-test"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
ALERT_KEYS_CACHE_SECONDS = 0  # as on the embedded default; tests/alliance/test_alert_audience_cache.py turns it on
USER_CACHE_SECONDS = 0  # as on the embedded default; tests/accounts/test_authentication_cost.py turns it on
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# The test process holds its own test sockets: it publishes to them directly, whichever tests were collected.
LIVE_EVENTS_PROCESS_HOLDS_SOCKETS = True
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

SMS_PROVIDER = "memory"
PUSH_PROVIDERS = {"jpush": "recording", "apns": "recording", "fcm": "recording"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never outside tests
MEDIA_ROOT = os.path.join(tempfile.gettempdir(), f"pingan-test-media-{os.getpid()}")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
