"""Cerebrum settings, driven by the environment.

With nothing set this is the embedded default: SQLite, local-memory cache, Celery tasks run
inline, cacheops off, console email and WhatsApp, the sandbox payment gateway. Setting
DATABASE_URL, REDIS_URL and CELERY_BROKER_URL gives the production shape.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

from cerebrum.env import (
    database_from_env,
    database_from_url,
    env,
    int_from_env,
    redis_url_from_env,
    secret_from_env,
    url_list_from_env,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
environ_file = BASE_DIR / ".env"
if environ_file.exists():
    env.read_env(str(environ_file))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = secret_from_env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "cerebrum.views.csrf_failure"  # the site's own 403 page, not Django's bare one
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django_prometheus",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "axes",
    "cacheops",
    "import_export",  # question bank import/export in CSV and XLSX (courses/question_import.py)
    "accounts",
    "courses",
    "practice",  # post-test analysis, rank, notebook, revision queue (above courses; docs/practice.md)
    "payments",
    "reports",  # staff reports: rollups and dashboards over every app (the top layer; docs/architecture.md)
    "demo",  # seed_demo: demo and benchmark data over every app (above everything)
    "analytics",
    "communications",
    "cerebrum",  # system checks (cerebrum/checks.py)
    # Audit trail (issue 19 item 7): row triggers on PostgreSQL; see audit/models.py and docs/audit.md.
    "pgtrigger",
    "pghistory",
    "audit",
]

MIDDLEWARE = [
    "cerebrum.middleware.ApiBranchMiddleware",  # /api/v1/ runs API_MIDDLEWARE below instead of the rest
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "cerebrum.middleware.ResponseTimeMiddleware",
    # Outside the early refusals below: their 400s carry the security headers too (nosniff, HSTS,
    # Referrer-Policy, X-Frame-Options), as every other answer does. Neither reads the request's input.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cerebrum.middleware.ControlCharacterMiddleware",  # before anything reads input (issue 14 item 7)
    "cerebrum.metrics.QueryMetricsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "cerebrum.i18n.CookieLanguageMiddleware",  # before the page caches: their keys carry the language
    "cerebrum.http_cache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "analytics.middleware.UTMAttributionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "cerebrum.api.DeclaredRequestMiddleware",  # the API's one rule for query parameters and bodies (docs/api.md)
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditContextMiddleware",  # the acting user on audit rows (PostgreSQL only)
    "accounts.middleware.LastActiveMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cerebrum.http_cache.MemberPageCacheMiddleware",
    "axes.middleware.AxesMiddleware",
    "cerebrum.middleware.DomainErrorMiddleware",  # the pages' one DomainError → HTTP mapping
    "cerebrum.middleware.DatabaseReconnectMiddleware",  # first to see a view's exception (issue 14 item 8)
    "cerebrum.metrics.RequestMetricsMiddleware",  # django-prometheus' per-view metrics that are read
]
# The API's stack (issue 17 item 4): the page stack without what JSON endpoints never use — static
# files, the language cookie, UTM capture, CSRF middleware (DRF's SessionAuthentication checks CSRF
# itself on session-authenticated unsafe calls), messages, the member page cache, X-Frame-Options, the
# pages' DomainError mapping.
# The public page cache stays (it keeps the public catalog API), and so do sessions and auth (lazy,
# for session-authenticated calls from our own pages).
API_MIDDLEWARE = [
    m
    for m in MIDDLEWARE
    if m
    not in {
        "cerebrum.middleware.ApiBranchMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "cerebrum.i18n.CookieLanguageMiddleware",
        "analytics.middleware.UTMAttributionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "cerebrum.http_cache.MemberPageCacheMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "cerebrum.middleware.DomainErrorMiddleware",  # DRF answers its own exceptions inside the view
    }
]

ROOT_URLCONF = "cerebrum.urls"
WSGI_APPLICATION = "cerebrum.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": database_from_env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DB_IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# Sized for gunicorn's threads per process; PgBouncer in front does the fan-in across nodes.
DB_POOL_MAX = int_from_env("DB_POOL_MAX", 8)
DB_STATEMENT_TIMEOUT_MS = int_from_env("DB_STATEMENT_TIMEOUT_MS", 5000)
# Every DATABASE_URL / DATABASE_REPLICA_URLS points at PgBouncer in transaction pooling mode
# (deploy/cluster/, docs/scaling.md): a server connection serves a client for one transaction only, so
# nothing may outlive a transaction — no server-side cursors, no pool of our own (PgBouncer is the pool;
# Django opens a cheap client connection per request), no startup `options` (PgBouncer 1.18 refuses them;
# its connect_query sets statement_timeout on each server connection instead).
DB_PGBOUNCER = env.bool("DB_PGBOUNCER", default=False)


def _tune_postgres(config: dict) -> dict:
    # Django's backend, its pool checking each connection as it hands it out and replacing a dead one
    # (cerebrum/dbpool.py): without it a backend killed by a failover, a PgBouncer restart or
    # pg_terminate_backend went to the next request, a 500 (issue 14 item 8).
    config["ENGINE"] = "cerebrum.postgresql"
    config.setdefault("OPTIONS", {})
    config["CONN_MAX_AGE"] = 0  # the pool (or PgBouncer) owns connection lifetime
    if DB_PGBOUNCER:
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
        return config
    config["OPTIONS"]["pool"] = {"min_size": 1, "max_size": DB_POOL_MAX, "timeout": 10}
    config["OPTIONS"]["options"] = f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
    return config


if DB_IS_POSTGRES:
    _tune_postgres(DATABASES["default"])
else:
    # The embedded default holds a classroom (issue 14 item 9): WAL lets readers go on while one learner
    # writes; write transactions take the lock when they begin (BEGIN IMMEDIATE), so two of them queue on
    # the 20 s busy timeout instead of one failing "database is locked" when it upgrades a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )

DATABASE_REPLICAS = []
for index, url in enumerate(url_list_from_env("DATABASE_REPLICA_URLS")):
    alias = f"replica{index + 1}"
    DATABASES[alias] = _tune_postgres(database_from_url(url, "DATABASE_REPLICA_URLS"))
    DATABASES[alias]["TEST"] = {"MIRROR": "default"}
    DATABASE_REPLICAS.append(alias)
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["cerebrum.db_router.PrimaryReplicaRouter"]
    for _stack in (MIDDLEWARE, API_MIDDLEWARE):
        _stack.insert(
            _stack.index("cerebrum.metrics.QueryMetricsMiddleware"), "cerebrum.db_router.ReadYourWritesMiddleware"
        )
# How long a learner's reads stay on the primary after they wrote (replication lag cover).
READ_YOUR_WRITES_SECONDS = int_from_env("READ_YOUR_WRITES_SECONDS", 5)
# A replica further behind than this (seconds of replay lag) gets no reads: they go to the primary. Kept
# below READ_YOUR_WRITES_SECONDS so a write is on every replica still serving reads before its pin ends.
# Each process asks each replica at most once per REPLICA_LAG_CHECK_SECONDS (cerebrum/db_router.py).
REPLICA_MAX_LAG_SECONDS = float(env.str("REPLICA_MAX_LAG_SECONDS", default="2"))
REPLICA_LAG_CHECK_SECONDS = float(env.str("REPLICA_LAG_CHECK_SECONDS", default="1"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, cacheops, Celery ---------------------------------------------------------
REDIS_URL = redis_url_from_env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "REDIS_CLIENT_CLASS": "cerebrum.cache.BreakerRedis",  # skips a down Redis for a few seconds
                "PARSER_CLASS": "redis.connection._HiredisParser",
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "COMPRESSOR": "cerebrum.cache.BigValueZlibCompressor",
                "IGNORE_EXCEPTIONS": True,
                # At most 64 connections per process; a thread beyond that waits up to a second for one
                # (the default pool fails at once with "Too many connections", which would trip the breaker).
                "CONNECTION_POOL_CLASS": "redis.BlockingConnectionPool",
                "CONNECTION_POOL_KWARGS": {"max_connections": 64, "timeout": 1, "retry_on_timeout": False},
            },
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="cb"),
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cerebrum"}}

CACHEOPS_ENABLED = bool(REDIS_URL)
# Timeouts so a hung Redis degrades to PostgreSQL in half a second instead of blocking a worker.
CACHEOPS_REDIS = (REDIS_URL or "redis://127.0.0.1:6379/0") + (
    ("&" if "?" in REDIS_URL else "?") + "socket_timeout=0.5&socket_connect_timeout=0.5"
)
CACHEOPS_DEGRADE_ON_FAILURE = True
CACHEOPS_CLIENT_CLASS = "cerebrum.cache.BreakerRedis"
# After a Redis connection error or timeout, a process serves from PostgreSQL this long before retrying.
REDIS_BREAKER_SECONDS = float(env.str("REDIS_BREAKER_SECONDS", default="5"))
CACHEOPS_DEFAULTS = {"timeout": 60 * 15}
CACHEOPS = {
    "courses.course": {"ops": "all"},
    "courses.question": {"ops": "all"},
    "courses.practicetest": {"ops": "all"},
    "courses.chapternote": {"ops": "all"},
}

SESSION_ENGINE = "cerebrum.sessions"  # cached_db, refusing malformed keys

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "communications.*": {"queue": "communications"},
    "analytics.*": {"queue": "analytics"},
    "payments.*": {"queue": "payments"},
}
# Redis broker: a task not acked within this window is redelivered (must exceed the longest task).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
CELERY_TIMEZONE = "UTC"
# Analytics (analytics/buffer.py, docs/analytics.md): buffer flush, rollups, retention.
ANALYTICS_FLUSH_BATCH_SIZE = int_from_env("ANALYTICS_FLUSH_BATCH_SIZE", 1000)
# A crashed flusher's lock expires after this long; then the next one redoes its processing list.
ANALYTICS_FLUSH_LOCK_SECONDS = int_from_env("ANALYTICS_FLUSH_LOCK_SECONDS", 30)
ANALYTICS_FLUSH_INTERVAL_SECONDS = int_from_env("ANALYTICS_FLUSH_INTERVAL_SECONDS", 3)
ANALYTICS_ROLLUP_DAYS = int_from_env("ANALYTICS_ROLLUP_DAYS", 3)
ANALYTICS_ROLLUP_STATEMENT_TIMEOUT_MS = int_from_env("ANALYTICS_ROLLUP_STATEMENT_TIMEOUT_MS", 120_000)
# A staff member's range is complete on first view (issue 19 item 2): up to this many missing days are
# computed in the request (~0.1 s a day per million events), older ones by the rollups_backfill task;
# a day not yet over counts as computed for this long.
ANALYTICS_ROLLUP_SYNC_DAYS = int_from_env("ANALYTICS_ROLLUP_SYNC_DAYS", 7)
ANALYTICS_ROLLUP_FRESH_SECONDS = int_from_env("ANALYTICS_ROLLUP_FRESH_SECONDS", 300)
ANALYTICS_RETENTION_DAYS = int_from_env("ANALYTICS_RETENTION_DAYS", 400)
# After a sign-in, the device's anonymous events are given to the learner this much later, once the
# buffer (flushed every ANALYTICS_FLUSH_INTERVAL_SECONDS) has written the ones sent just before.
ANALYTICS_JOIN_DELAY_SECONDS = int_from_env("ANALYTICS_JOIN_DELAY_SECONDS", 30)

# Periodic tasks (celery beat). Times are UTC; 04:30 UTC = 10:00 IST, 21:30 UTC = 03:00 IST.
CELERY_BEAT_SCHEDULE = {
    # Communications: re-send outbox rows whose enqueue was lost; journeys (courses/journeys.py).
    "communications-relay": {"task": "communications.outbox_relay", "schedule": 30.0},
    "communications-test-reminders": {"task": "communications.scheduled_test_reminders_enqueue", "schedule": 300.0},
    # Inside WhatsApp waking hours.
    "communications-parent-digest": {
        "task": "communications.parent_digests_enqueue",
        "schedule": crontab(minute=30, hour=4, day_of_week="sun"),
    },
    "communications-inactivity-nudge": {
        "task": "communications.inactivity_nudges_enqueue",
        "schedule": crontab(minute=30, hour=4),
    },
    # Analytics: drain the Redis buffer, refresh rollups, delete old raw events at the quietest hour.
    "analytics-buffer-flush": {"task": "analytics.buffer_flush", "schedule": float(ANALYTICS_FLUSH_INTERVAL_SECONDS)},
    "analytics-rollups": {"task": "analytics.rollups_rebuild", "schedule": 300.0},
    "analytics-retention": {"task": "analytics.events_purge", "schedule": crontab(minute=30, hour=21)},
    # Courses: close attempts whose clock ran out; build papers of scheduled tests before their T0.
    "courses-attempts-expire": {"task": "courses.attempts_expire_overdue", "schedule": 60.0},
    "courses-papers-prewarm": {"task": "courses.papers_prewarm", "schedule": 60.0},
    # Item analysis: a live mock soon after its window closes; every test with new attempts nightly (02:30 IST).
    "courses-item-analysis-closed-mocks": {"task": "courses.item_analysis_closed_mocks", "schedule": 300.0},
    "courses-item-analysis-nightly": {"task": "courses.item_analysis_nightly", "schedule": crontab(minute=0, hour=21)},
    # Payments: heal orders stuck in CREATED/ATTEMPTED for 15+ minutes from the gateway's view.
    "payments-reconcile": {"task": "payments.reconcile", "schedule": 300.0},
    # Accounts: last-active marks from Redis to users.last_active_at (no middleware writes the database).
    "accounts-last-active-flush": {"task": "accounts.last_active_flush", "schedule": 60.0},
    # Accounts: phone codes expired over a week ago.
    "accounts-otp-purge": {"task": "accounts.otp_purge", "schedule": crontab(minute=30, hour=21)},
}

# --- Auth and security ----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailOrPhoneBackend",
]
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Audit triggers are installed by `migrate` (post_migrate), not written into migrations: the tracked
# models live in other apps, and SQLite (the embedded default) gets no triggers at all.
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = DB_IS_POSTGRES
PGHISTORY_APPEND_ONLY = True

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "courses:dashboard"
LOGOUT_REDIRECT_URL = "courses:home"

# How many proxies of ours stand in front of gunicorn (1 behind the shipped nginx): the one setting
# from which lockouts, throttles and auth logs take the client address (cerebrum/client_ip.py).
TRUSTED_PROXY_COUNT = int_from_env("TRUSTED_PROXY_COUNT", int_from_env("API_NUM_PROXIES", 0))

# Lockout (accounts/lockout.py): one (account, client address) pair is locked after 5 failures for
# 15 minutes, so other people's failures never lock a learner out; accounts.backends adds the
# per-account cap of 100 failed checks an hour (OWASP ASVS V2.2.1).
AXES_FAILURE_LIMIT = int_from_env("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler" if REDIS_URL else "axes.handlers.database.AxesDatabaseHandler"
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"
AXES_CLIENT_IP_CALLABLE = "cerebrum.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024  # API bodies are small; a bigger one is refused with 413

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.CachedUserJWTAuthentication",  # the user from Redis, not a SELECT
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["drf_orjson_renderer.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["cerebrum.api_tools.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "cerebrum.api.CerebrumAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "cerebrum.api_tools.AnonRateThrottle",
        "cerebrum.api_tools.UserRateThrottle",
    ],
    # Overridable because the load benchmark sends thousands of learners from 127.0.0.1.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="100/min"),
        "user": env.str("THROTTLE_USER", default="1000/min"),
        "auth": env.str("THROTTLE_AUTH", default="10/min"),
    },
    # Throttles read the client address through cerebrum.client_ip; DRF's own get_ident agrees.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_PAGINATION_CLASS": "cerebrum.api_tools.CreatedCursorPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "cerebrum.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=14),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "UPDATE_LAST_LOGIN": False,
    # Tokens carry a digest of the password hash: a new password ends every access token at once,
    # and accounts.tokens.refresh_token_rotate refuses refresh tokens minted before it.
    "CHECK_REVOKE_TOKEN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cerebrum API",
    "DESCRIPTION": "The Cerebrum learning platform's REST API for the mobile apps.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "GradeEnum": "accounts.models.Grade",
        "EnrollmentStatusEnum": "courses.models.Enrollment.Status",
        "AttemptStatusEnum": "courses.models.TestAttempt.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
        "EventTypeEnum": "analytics.apis.CLIENT_TYPES",
        "CourseTypeEnum": "courses.models.Course.Type",
    },
}

# --- Email, WhatsApp, payments ----------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = int_from_env("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cerebrum <no-reply@cerebrum.academy>")

WHATSAPP_TOKEN = env.str("WHATSAPP_TOKEN", default="")
WHATSAPP_PHONE_NUMBER_ID = env.str("WHATSAPP_PHONE_NUMBER_ID", default="")
WHATSAPP_API_URL = env.str("WHATSAPP_API_URL", default="https://graph.facebook.com/v21.0")
WHATSAPP_APP_SECRET = secret_from_env("WHATSAPP_APP_SECRET")
WHATSAPP_VERIFY_TOKEN = secret_from_env("WHATSAPP_VERIFY_TOKEN")

# Communications outbox (docs/communications.md). A claim older than the lease is presumed dead (it must
# outlast the send task's hard time limit); a QUEUED row not picked up within RELAY_AFTER is re-enqueued.
COMMUNICATIONS_CLAIM_LEASE_SECONDS = int_from_env("COMMUNICATIONS_CLAIM_LEASE_SECONDS", 120)
COMMUNICATIONS_RELAY_AFTER_SECONDS = int_from_env("COMMUNICATIONS_RELAY_AFTER_SECONDS", 60)
COMMUNICATIONS_MAX_ATTEMPTS = int_from_env("COMMUNICATIONS_MAX_ATTEMPTS", 6)
COMMUNICATIONS_RETRY_BASE_SECONDS = int_from_env("COMMUNICATIONS_RETRY_BASE_SECONDS", 30)
COMMUNICATIONS_SEND_TIME_LIMIT = int_from_env("COMMUNICATIONS_SEND_TIME_LIMIT", 60)
# Marketing mail's List-Unsubscribe may add a mailto: address (optional; the https one-click link is always there).
COMMUNICATIONS_UNSUBSCRIBE_MAILTO = env.str("COMMUNICATIONS_UNSUBSCRIBE_MAILTO", default="")
# HMAC-SHA256 key of the bounce webhook (/communications/email/bounces/), shared with the mail provider;
# empty (the default) refuses every call.
COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET = env.str("COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET", default="")
WHATSAPP_TIMEOUT_SECONDS = 10

RAZORPAY_KEY_ID = env.str("RAZORPAY_KEY_ID", default="")
RAZORPAY_KEY_SECRET = env.str("RAZORPAY_KEY_SECRET", default="")
RAZORPAY_WEBHOOK_SECRET = env.str("RAZORPAY_WEBHOOK_SECRET", default="")
# The local sandbox gateway (payments/gateways.py): its pages are mounted and it is chosen only while this is
# True; production sets it False and requires the Razorpay keys instead.
PAYMENT_SANDBOX_ENABLED = True
SANDBOX_KEY_SECRET = secret_from_env("SANDBOX_KEY_SECRET")
SANDBOX_WEBHOOK_SECRET = secret_from_env("SANDBOX_WEBHOOK_SECRET")
# GST tax invoices (docs/payments.md). Fees are GST-inclusive; SAC 999293 (commercial training and
# coaching) is taxed at 18 %. The defaults are a demo academy in Kota, Rajasthan (GST state code 08):
# production sets its own legal name, address and GSTIN.
GST_RATE_PERCENT = int_from_env("GST_RATE_PERCENT", 18)
GST_SAC_CODE = env.str("GST_SAC_CODE", default="999293")
ACADEMY_LEGAL_NAME = env.str("ACADEMY_LEGAL_NAME", default="Cerebrum Biology Academy Private Limited")
ACADEMY_ADDRESS = env.str("ACADEMY_ADDRESS", default="12 Coaching Lane, Talwandi, Kota, Rajasthan 324005")
ACADEMY_GSTIN = env.str("ACADEMY_GSTIN", default="08AABCC1234D1ZB")
ACADEMY_STATE_CODE = env.str("ACADEMY_STATE_CODE", default="08")
# Invoice numbers are "<prefix>/<yy-yy>/<serial>" (at most 16 characters, as GST rule 46 allows).
INVOICE_NUMBER_PREFIX = env.str("INVOICE_NUMBER_PREFIX", default="CB")

# --- i18n, static -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-in"
TIME_ZONE = "Asia/Kolkata"  # shown in IST; stored in UTC
# The interface in English or Hindi (issue 18 item 5): chosen by the learner in a cookie only, never from
# Accept-Language, so a cached page has one copy per language (cerebrum/i18n.py, docs/hindi.md).
USE_I18N = True
LANGUAGES = [("en-in", "English"), ("hi", "हिन्दी")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "django_language"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 3600

PROMETHEUS_EXPORT_MIGRATIONS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "cerebrum.slow_sql": {"level": "WARNING"},
    },
}
SLOW_QUERY_MS = int_from_env("SLOW_QUERY_MS", 100)
BENCH_MODE = env.bool("BENCH_MODE", default=False)  # mounts /bench/bare for the benchmark's ceiling
SQL_COUNT_HEADER = env.bool("SQL_COUNT_HEADER", default=False)  # X-SQL-Queries on responses (benchmark only)

# Anonymous pages and public API cached by cerebrum.http_cache: URL name -> seconds in Redis (and, at most
# PUBLIC_CACHE_S_MAXAGE, in nginx).
LEADERBOARD_PAGE_SECONDS = 5
PUBLIC_CACHE_PAGES = {
    "courses:home": 60,
    "courses:catalog": 60,
    "courses:course_detail": 60,
    "courses:notes": 300,
    "courses:note_detail": 300,
    "courses:tests": 60,
    # Top lists change with every submit: kept briefly, never purged for a submit (docs/caching.md).
    "courses:leaderboard": LEADERBOARD_PAGE_SECONDS,
    "courses:topic_leaderboard": LEADERBOARD_PAGE_SECONDS,
    "courses_api:course_list": 60,
    "courses_api:course_detail": 60,
    "courses_api:note_list": 300,
    "courses_api:note_detail": 300,
}
# Pages whose HTML is the same for every signed-in learner of a page variant (cerebrum.http_cache: student,
# parent, guest) and for visitors with a session, kept these seconds in Redis + L1 and shared by nginx:
# the public pages above without the API (signed-in API answers are private), and the test page (its
# anonymous copy holds the free-test form's CSRF token, so it is not public). What is personal on them comes
# from the learner's page-state JSON (docs/caching.md); personal pages (the dashboard) are not page-cached.
MEMBER_CACHE_PAGES = {
    **{name: seconds for name, seconds in PUBLIC_CACHE_PAGES.items() if not name.startswith("courses_api:")},
    "courses:test_detail": 60,
}
# What nginx or a CDN may keep without asking (browsers always revalidate with the ETag).
PUBLIC_CACHE_S_MAXAGE = int_from_env("PUBLIC_CACHE_S_MAXAGE", 10)
# The nginx servers whose page cache a content edit purges (cerebrum.edge), e.g. http://127.0.0.1:8088;
# empty: none (their copies then live their s-maxage).
EDGE_PURGE_URLS = env.list("EDGE_PURGE_URLS", default=[])

# The report's index names (idx_chapter_notes_curriculum_grade, idx_analytics_events_utm_source)
# are longer than Django's portable 30-character limit; PostgreSQL allows 63 and SQLite any.
SILENCED_SYSTEM_CHECKS = ["models.E034"]
