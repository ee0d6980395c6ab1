"""Production: PostgreSQL, Redis, several server processes. Secrets and hosts have no default on purpose."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import PUSH_PROVIDERS, SMS_PROVIDER, env

# Without these the base settings fall back to the embedded default: a SQLite file, an in-process channel layer
# (live events would not cross processes) and SMS codes written to the log. In production that is an outage or a
# leak, so refuse to start and name what is missing.
# The number of our own reverse proxies has no safe default either: 0 behind nginx puts every client in the proxy's
# rate-limit buckets, 1 without a proxy lets clients choose their address (README, Production).
for _name in ("DATABASE_URL", "REDIS_URL", "SMS_PROVIDER", "PINGAN_TRUSTED_PROXY_COUNT"):
    if not env.str(_name, default="").strip():
        raise ImproperlyConfigured(f"Set the {_name} environment variable: production does not start without it.")
if SMS_PROVIDER == "memory":
    raise ImproperlyConfigured("SMS_PROVIDER=memory keeps codes in memory for tests; production sends them.")
if "recording" in PUSH_PROVIDERS.values():
    raise ImproperlyConfigured("PUSH_*=recording keeps notifications in memory for tests; production sends them.")
# A real push provider needs its credentials: missing, every push would fail at the provider, quietly, in a worker.
_PUSH_CREDENTIALS = {
    "jpush": ("PUSH_JPUSH_APP_KEY", "PUSH_JPUSH_MASTER_SECRET"),
    "apns": ("PUSH_APNS_TEAM_ID", "PUSH_APNS_KEY_ID", "PUSH_APNS_PRIVATE_KEY", "PUSH_APNS_TOPIC"),
    "fcm": ("PUSH_FCM_PROJECT_ID", "PUSH_FCM_SERVICE_ACCOUNT_JSON"),
}
for _provider, _names in _PUSH_CREDENTIALS.items():
    for _name in _names if PUSH_PROVIDERS[_provider] == _provider else ():
        if not env.str(_name, default="").strip():
            raise ImproperlyConfigured(
                f"Set the {_name} environment variable: PUSH_{_provider.upper()}={_provider} needs it."
            )

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Load balancers probe over plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
