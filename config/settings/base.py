"""Settings shared by every way of running the service.

This is the only module that reads the environment. With no environment variables at all the service runs on the
embedded default (SQLite file, in-memory channel layer, a broker kept in files under ``var/``); setting
``DATABASE_URL`` and ``REDIS_URL`` switches to PostgreSQL, the Redis channel layer, the Redis cache and Celery on
Redis without any other change.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

# The embedded default keeps its data here: SQLite file, file broker, beat schedule, uploads.
VAR_DIR = Path(env.str("PINGAN_VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-secret-key-not-for-production-use-0123456789abcdef")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
# Browsers send Origin; phone apps often do not. WebSocket origin checks refuse foreign browser origins only.
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "accounts.apps.PinganAdminConfig",  # django.contrib.admin, with the site police admins use
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "phonenumber_field",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "allauth.usersessions",
    "accounts",
    "alliance",
    "groups",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.json_input.JSONBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "accounts.middleware.RateLimitedMiddleware",
    "accounts.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- data stores -------------------------------------------------------------------------------------------------
# (An empty DATABASE_URL counts as unset, like the other variables.)
DATABASES = {"default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Makes var/ when the file is first opened: settings make no directories (production processes import them too).
    DATABASES["default"]["ENGINE"] = "config.sqlite"
    # WAL lets the server and the worker read while the other writes; the timeout waits out short write locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")

# Each server process reads every live event of its sockets' groups from one "hub.*" channel (groups/delivery.py):
# its capacity is the burst a process absorbs before the layer drops events. A dropped event is not lost (sockets
# notice the hole in the sequence and fill it from the database), but it costs a query, so the buffer is generous.
_CHANNEL_CAPACITY = {"hub.*": 20_000}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # A short connect timeout: an unreachable Redis fails fast, and the outbox keeps what was not sent.
                # The read timeout must outlast channels-redis's 5 s blocking read, or an idle hub times out.
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 1, "socket_timeout": 15}],
                "capacity": 1000,
                "expiry": 60,
                # Hubs re-join their topics every 30 minutes (groups/delivery.py REFRESH_SECONDS); a dead process's
                # hub drops out of them within the hour instead of receiving every event for a day.
                "group_expiry": 3600,
                "channel_capacity": _CHANNEL_CAPACITY,
            },
        }
    }
else:
    # One server process in the embedded default, so per-process memory is the whole truth.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pingan"}}
    # (InMemoryChannelLayer does not compile channel_capacity patterns, unlike channels-redis: one capacity for all.)
    _IN_MEMORY = {"capacity": _CHANNEL_CAPACITY["hub.*"]}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": _IN_MEMORY}}
# With the in-process layer only the process holding the sockets can deliver live events: the ASGI server marks itself
# at start-up (config/asgi.py), and the Celery worker leaves its events in the outbox for it (groups/events.py).
LIVE_EVENTS_PROCESS_HOLDS_SOCKETS = False

# --- background jobs ---------------------------------------------------------------------------------------------
# Without Redis the broker is kombu's filesystem transport under var/ (made safe for concurrent writers in
# config/file_broker.py): a real queue that a real worker consumes, so the embedded default runs tasks and periodic
# jobs the same way production does, with nothing to install.
if REDIS_URL:
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
    # A task taken by a worker that died (acks_late: never acknowledged) goes back to the queue after this long.
    # Longer than any task runs; the points kill test shortens it so the next worker takes the batch at once.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("PINGAN_CELERY_VISIBILITY_TIMEOUT", default=3600),
        "unacked_restore_interval": min(10, env.int("PINGAN_CELERY_VISIBILITY_TIMEOUT", default=3600)),
    }
else:
    CELERY_BROKER_URL = "pingan-files://"
    _broker_dir = VAR_DIR / "broker"
    # The folders are made when the Celery app is configured (config/celery_app.py), not at import.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # kombu's default is ./control, in the work tree
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "purge-expired-sessions": {"task": "accounts.tasks.purge_expired_sessions_task", "schedule": 60 * 60},
    "purge-idempotency-records": {"task": "accounts.tasks.purge_idempotency_records_task", "schedule": 60 * 60},
    "purge-unverified-signups": {"task": "accounts.tasks.purge_unverified_signups_task", "schedule": 60 * 60},
    # Live events that could not reach the channel layer (Redis down) go out as soon as it is back.
    "relay-outbox": {"task": "groups.tasks.relay_outbox_task", "schedule": 5.0},
    "purge-outbox": {"task": "groups.tasks.purge_outbox_task", "schedule": 60 * 60},
    # The escalation ladder: flags nobody acknowledged or resolved in time climb a level (exactly once).
    "escalate-due-disputes": {"task": "reports.tasks.escalate_due_disputes_task", "schedule": 10.0},
    # The Safe Store score: a hidden danger left open past its days allowed counts as overdue (once, by key).
    "hidden-dangers-overdue": {"task": "reports.tasks.hidden_dangers_overdue_task", "schedule": 10 * 60.0},
    # Patrol: a check-out forgotten past the shift's end (+ grace) is closed with capped hours, exactly once.
    "close-forgotten-check-outs": {"task": "groups.tasks.close_forgotten_check_outs_task", "schedule": 60.0},
    # Patrol rosters: shifts over the rolling horizon (idempotent), reminders and no-show checks (exactly once).
    "generate-shifts": {"task": "groups.tasks.generate_shifts_task", "schedule": 60 * 60},
    "shift-reminders-due": {"task": "groups.tasks.shift_reminders_due_task", "schedule": 30.0},
    "shift-no-shows-due": {"task": "groups.tasks.shift_no_shows_due_task", "schedule": 30.0},
    # Rewards: a request undecided past its deadline expires, its points and stock returned (exactly once).
    "expire-redemptions": {"task": "alliance.tasks.expire_redemptions_task", "schedule": 60.0},
    # Safe Store ranking: the half-year just ended, once per alliance (the unique key decides; hourly to catch up).
    "compute-safe-store-rankings": {"task": "alliance.tasks.compute_safe_store_rankings_task", "schedule": 60 * 60},
    # Points: every balance and hold checked against the ledger (reports, changes nothing), then the last two days'
    # evidence settled again (awards whose task never reached the broker). Asia/Shanghai, the quiet hours.
    "reconcile-points": {"task": "alliance.tasks.reconcile_points_task", "schedule": crontab(hour=3, minute=30)},
    "catch-up-points": {"task": "alliance.tasks.catch_up_points_task", "schedule": crontab(hour=4, minute=0)},
    # Alerts: those published for later go out on time (exactly once: sent_at under the row lock); reminders to
    # acknowledge, once per alert (ack_reminded_at).
    "send-due-alerts": {"task": "alliance.tasks.send_due_alerts_task", "schedule": 10.0},
    "remind-alerts": {"task": "alliance.tasks.remind_alerts_task", "schedule": 30.0},
    # Push batches left pending (their task never reached the broker, or its retries were lost) are queued again.
    "resend-stale-push-batches": {"task": "alliance.tasks.resend_stale_push_batches_task", "schedule": 5 * 60.0},
    # Safety tips on their schedules (exactly once per run: a unique (schedule, time) row before anything is sent).
    "send-due-tips": {"task": "alliance.tasks.send_due_tips_task", "schedule": 30.0},
}

# --- patrol (check-in, checkpoint scans, check-out) ----------------------------------------------------------------
# Check-in opens this many minutes before a shift starts (volunteers arrive early for the briefing).
PATROL_CHECK_IN_GRACE_MINUTES = env.int("PINGAN_PATROL_CHECK_IN_GRACE_MINUTES", default=15)
# A position fix less precise than this (the phone's reported accuracy radius) proves nothing about where one is.
PATROL_MAX_ACCURACY_METRES = env.int("PINGAN_PATROL_MAX_ACCURACY_METRES", default=100)
# An online call whose phone clock is further than this from ours is refused (a clock set back to fake a time).
PATROL_DEVICE_CLOCK_TOLERANCE_MINUTES = env.int("PINGAN_PATROL_DEVICE_CLOCK_TOLERANCE_MINUTES", default=5)

# --- accounts ----------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PHONENUMBER_DEFAULT_REGION = "CN"
PHONENUMBER_DEFAULT_FORMAT = "E164"

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_LOGIN_METHODS = {"phone"}
# The password is optional: most people sign up with the SMS code and never set one.
ACCOUNT_SIGNUP_FIELDS = ["phone*", "password1"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 10 * 60
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 3
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 5 * 60
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_RATE_LIMITS = {
    # SMS costs money and is abused for bombing: twenty requests a minute per address; every text to a number then
    # counts per number AND address (one a minute, ten a day) and, only if that lets it through, per number (one a
    # minute, thirty a day): one stranger cannot use up the owner's codes (AccountAdapter._consume_text_quota).
    "request_login_code": "20/m/ip",
    # A sign-up's verification keeps allauth's per-number limits too: they count alike whether a code or nothing is
    # texted (a resend for a registered number texts nothing, so the text quota alone would tell them apart), and a
    # registered number's owner logs in by code, which these do not touch.
    "verify_phone": "20/m/ip,1/m/key,10/d/key",
    "sms_per_number_and_address": "1/m/key,10/d/key",
    "sms_per_number": "1/m/key,30/d/key",
    "change_phone": "1/m/user",
    "signup": "20/m/ip",
    "login": "30/m/ip",
    # Wrong passwords: ten a minute per address, five in five minutes per number AND address (accounts/adapter.py:
    # a stranger's failures do not lock the owner's phone out), thirty an hour per number against distributed
    # guessing. Code login is never limited by password failures, so the owner can always get in.
    "login_failed": "10/m/ip,5/5m/key",
    "login_failed_per_number": "30/h/key",
    "reset_password": "20/m/ip,5/m/key",
}
# How many reverse proxies of ours stand in front of the app (README: nginx = 1). The rate limits, the session list
# and Idempotency-Key scopes then take the client's address from X-Forwarded-For (accounts/client_address.py); 0
# ignores the header, and behind a proxy every client would share the proxy's address and its rate-limit buckets.
_TRUSTED_PROXIES = env.str("PINGAN_TRUSTED_PROXY_COUNT", default="").strip()  # (empty = unset: production refuses it)
ALLAUTH_TRUSTED_PROXY_COUNT = int(_TRUSTED_PROXIES) if _TRUSTED_PROXIES else 0
# Six digits, no dash: what every SMS code in China looks like, and what phones offer to autofill.
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
HEADLESS_ONLY = True
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_SERVE_SPECIFICATION = True
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": "/account/verify-email/{key}",
    "account_reset_password_from_key": "/account/password/reset/key/{key}",
    "account_signup": "/account/signup",
}
USERSESSIONS_TRACK_ACTIVITY = True
# Every API call looks its session token up. With Redis, read it through the shared cache (written to the database
# too, so a restart logs nobody out; deleting a session clears both, so revocation is immediate on every process).
# A per-process memory cache would keep a revoked session alive in the other processes: plain database then.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 60  # a phone stays logged in for two months of inactivity
# A session token is looked up with one load of its session, not "exists?" and then a load (accounts/authentication.py).
HEADLESS_TOKEN_STRATEGY = "accounts.authentication.SessionTokenStrategy"
# The signed-in user and their roles are read from the shared cache for this long at most; any change to them makes
# the entry stale at once in every process (accounts/user_cache.py). Not on the embedded default: its memory cache
# belongs to one process, and a worker or a management command could not make it stale.
USER_CACHE_SECONDS = 60 if REDIS_URL else 0
# A person's alert audience keys (alliance/alert_audience_cache.py): versioned like the user; this bounds an entry
# that a bulk write (no signal) left behind.
ALERT_KEYS_CACHE_SECONDS = 300 if REDIS_URL else 0

# SMS provider: "console" prints codes to the server log, "memory" keeps them for tests, "aliyun" sends real texts.
SMS_PROVIDER = env("SMS_PROVIDER", default="console")
SMS_ALIYUN_ACCESS_KEY_ID = env("SMS_ALIYUN_ACCESS_KEY_ID", default="")
SMS_ALIYUN_ACCESS_KEY_SECRET = env("SMS_ALIYUN_ACCESS_KEY_SECRET", default="")
SMS_ALIYUN_SIGN_NAME = env("SMS_ALIYUN_SIGN_NAME", default="")
SMS_ALIYUN_TEMPLATE_CODE = env("SMS_ALIYUN_TEMPLATE_CODE", default="")
SMS_ALIYUN_ENDPOINT = env("SMS_ALIYUN_ENDPOINT", default="https://dysmsapi.aliyuncs.com/")

# Push notifications (accounts/push.py): per kind of device token, "console" logs them (the default), "recording"
# keeps them for tests, the provider's own name ("jpush", "apns", "fcm") sends them for real.
PUSH_PROVIDERS = {
    "jpush": env("PUSH_JPUSH", default="console"),
    "apns": env("PUSH_APNS", default="console"),
    "fcm": env("PUSH_FCM", default="console"),
}
# Requests in flight at once for the providers that send one per device (APNs, FCM).
PUSH_PARALLEL_REQUESTS = env.int("PUSH_PARALLEL_REQUESTS", default=16)
PUSH_JPUSH_APP_KEY = env("PUSH_JPUSH_APP_KEY", default="")
PUSH_JPUSH_MASTER_SECRET = env("PUSH_JPUSH_MASTER_SECRET", default="")
PUSH_JPUSH_ENDPOINT = env("PUSH_JPUSH_ENDPOINT", default="https://api.jpush.cn/v3/push")
PUSH_JPUSH_APNS_PRODUCTION = env.bool("PUSH_JPUSH_APNS_PRODUCTION", default=True)
PUSH_APNS_TEAM_ID = env("PUSH_APNS_TEAM_ID", default="")
PUSH_APNS_KEY_ID = env("PUSH_APNS_KEY_ID", default="")
PUSH_APNS_PRIVATE_KEY = env("PUSH_APNS_PRIVATE_KEY", default="")  # the .p8 key's PEM text
PUSH_APNS_TOPIC = env("PUSH_APNS_TOPIC", default="")  # the app's bundle id
PUSH_APNS_ENDPOINT = env("PUSH_APNS_ENDPOINT", default="https://api.push.apple.com")
PUSH_FCM_PROJECT_ID = env("PUSH_FCM_PROJECT_ID", default="")
PUSH_FCM_SERVICE_ACCOUNT_JSON = env("PUSH_FCM_SERVICE_ACCOUNT_JSON", default="")  # the key file's JSON text
PUSH_FCM_ENDPOINT = env("PUSH_FCM_ENDPOINT", default="https://fcm.googleapis.com")
PUSH_FCM_TOKEN_ENDPOINT = env("PUSH_FCM_TOKEN_ENDPOINT", default="")  # empty: the service account's token_uri

# --- API ---------------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.SessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.DefaultCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": ["config.json_input.LimitedJSONParser"],
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ping'an Alliance API",
    "DESCRIPTION": (
        "Backend of the Ping'an Alliance app. Authenticate through the allauth headless app endpoints under "
        "/_allauth/app/v1/ (their own schema: /_allauth/openapi.json) and send the session token in the "
        "X-Session-Token header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {"sessionToken": {"type": "apiKey", "in": "header", "name": "X-Session-Token"}}
    },
    "SECURITY": [{"sessionToken": []}],
    # <id:...> in URLs (config/converters.py): at most the largest bigint.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "format": "int64", "maximum": 2**63 - 1}},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "accounts.models.Role.choices",
        "SelfServiceRoleEnum": ["merchant", "volunteer"],
    },
}
IDEMPOTENCY_KEY_TTL_HOURS = 24
# Sign-ups whose number is still unverified this long after are deleted (accounts.tasks.purge_unverified_signups_task).
UNVERIFIED_SIGNUP_TTL_HOURS = 24
# The live channel: a socket must authenticate this soon after opening; a revoked session stops working on an open
# socket within the recheck interval (checked when the client next speaks).
WEBSOCKET_AUTH_TIMEOUT_SECONDS = env.float("WEBSOCKET_AUTH_TIMEOUT_SECONDS", default=10)
WEBSOCKET_SESSION_RECHECK_SECONDS = env.float("WEBSOCKET_SESSION_RECHECK_SECONDS", default=30)
WEBSOCKET_MAX_FRAME_BYTES = 64 * 1024
# Every JSON body and socket frame (config/json_input.py): nothing the API takes nests deeper than a handful of
# levels (a boundary polygon with holes is five) or needs a megabyte; photos travel as multipart, not JSON.
JSON_MAX_DEPTH = 32
JSON_MAX_BODY_BYTES = 1024 * 1024
# Big enough for a few phone photos in later issues; anything larger is refused with 413 before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- i18n, time --------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- patrol ------------------------------------------------------------------------------------------------------
# Check-in is accepted until this long after a shift's start (then the no-show check runs), and a forgotten
# check-out is closed this long after its end.
PATROL_CHECK_IN_GRACE_MINUTES = env.int("PINGAN_PATROL_CHECK_IN_GRACE_MINUTES", default=15)
# Confirmed people are reminded this long before a shift starts.
PATROL_REMINDER_MINUTES = env.int("PINGAN_PATROL_REMINDER_MINUTES", default=60)
# A held place can be given up until this long before the shift starts; later, the leader removes it.
PATROL_CANCEL_CUTOFF_MINUTES = env.int("PINGAN_PATROL_CANCEL_CUTOFF_MINUTES", default=120)
# Shifts are generated from their templates this many days ahead.
PATROL_SHIFT_HORIZON_DAYS = env.int("PINGAN_PATROL_SHIFT_HORIZON_DAYS", default=14)

# --- points, rewards, Safe Store ranking ----------------------------------------------------------------------
# Points per unit of evidence and the daily cap per person (None: no cap), for an alliance that has not set its own
# rule (alliance.PointsRule). A patrol hour's unit is an hour of verified time, counted in whole minutes.
POINTS_DEFAULT_RULES = {
    "patrol_hour": {"amount": 10, "daily_cap": 80},
    "route_completed": {"amount": 5, "daily_cap": 20},
    "hidden_danger_confirmed": {"amount": 20, "daily_cap": 60},
    "incident_accepted": {"amount": 10, "daily_cap": 50},
    "dispute_resolved": {"amount": 15, "daily_cap": 60},
    "alert_acknowledged": {"amount": 1, "daily_cap": 5},
    "merchant_contribution": {"amount": 10, "daily_cap": None},
}
# A reward request nobody decided within this many days expires, and its points return.
# Modules imported when the alliance app starts that register points evidence sources of their own: the tests' and
# the benchmark's sources, for worker processes they start (the real sources register from their apps' ready()).
POINTS_EVIDENCE_MODULES = env.list("PINGAN_POINTS_EVIDENCE_MODULES", default=[])
# Evidence ids per settling batch (one transaction each) in the nightly catch-up.
POINTS_SETTLE_BATCH = 1000
REDEMPTION_REQUEST_DAYS = env.int("PINGAN_REDEMPTION_REQUEST_DAYS", default=14)
# The weight of each part of a store's score, for an alliance whose police have not set their own
# (alliance.SafeStoreWeight). Incidents count their severity; patrol hours count hours.
SAFE_STORE_DEFAULT_WEIGHTS = {
    "incident_nearby": -5.0,
    "hidden_danger_fixed": 3.0,
    "hidden_danger_overdue": -3.0,
    "inspection_passed": 10.0,
    "inspection_failed": -10.0,
    "report_accepted": 4.0,
    "flag_handled_well": 4.0,
    "patrol_hours": 1.0,
    "alert_acknowledged": 0.5,
    "group_participation": 0.2,
}
# How many stores of a ranking get the Safe Store badge.
SAFE_STORE_WINNERS = env.int("PINGAN_SAFE_STORE_WINNERS", default=10)
# A hidden danger near a store resolved within this many days of its acceptance counts as fixed on time for the
# store's score (hidden_danger_fixed); resolved later, as overdue.
SAFE_STORE_HIDDEN_DANGER_FIX_DAYS = env.int("PINGAN_SAFE_STORE_HIDDEN_DANGER_FIX_DAYS", default=7)

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # fpdf2 subsets the certificate font through fontTools, which reports every table it prunes at INFO.
        "fontTools": {"level": "WARNING"},
    },
}
