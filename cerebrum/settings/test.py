"""Tests run on real PostgreSQL and Redis: never a silent fall-back to SQLite."""

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured


def xdist_worker_redis_url(url: str, worker: str) -> str:
    """The Redis URL `url` for pytest-xdist worker `worker` ("gw0", "gw1", …): database db − 2·N (mod 16).

    Each worker flushes its Redis database before every test (tests/conftest.py), so two workers must never
    share one. pytest-django already gives each worker its own PostgreSQL test database (test_<name>_gwN).
    With the defaults (cache db 15, Celery broker db 14) workers take 15, 13, 11… and 14, 12, 10…: apart
    for up to eight workers. gw0 keeps the URL as given.
    """
    number = int(worker.removeprefix("gw") or 0)
    if number == 0:
        return url
    parts = urlsplit(url)
    if parts.scheme == "unix":  # unix:///path/redis.sock?db=N
        query = dict(parse_qsl(parts.query))
        query["db"] = str((int(query.get("db", 0)) - 2 * number) % 16)
        return urlunsplit(parts._replace(query=urlencode(query)))
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(db - 2 * number) % 16}"))


# Under pytest-xdist every worker process shifts its Redis URLs before the settings below read them. The
# marker keeps a subprocess a test starts (a Celery worker, manage.py), which inherits this environment
# and these settings, from shifting them a second time.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker and os.environ.get("CEREBRUM_XDIST_REDIS_SHIFTED") != _worker:
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = xdist_worker_redis_url(os.environ["REDIS_URL"], _worker)
    # The broker of tests/conftest.py's celery_worker_factory (its default, redis db 14, lives there too).
    broker = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    os.environ["TEST_CELERY_BROKER_URL"] = xdist_worker_redis_url(broker, _worker)
    os.environ["CEREBRUM_XDIST_REDIS_SHIFTED"] = _worker

from cerebrum.settings.base import *  # noqa: E402, F403
from cerebrum.settings.base import DB_IS_POSTGRES, REDIS_URL  # noqa: E402

if not DB_IS_POSTGRES:
    raise ImproperlyConfigured("Tests need DATABASE_URL pointing at PostgreSQL (make test sets it)")
if not REDIS_URL:
    raise ImproperlyConfigured("Tests need REDIS_URL pointing at Redis (make test sets it)")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-memory email, unless a test's worker process is pointed at a real local SMTP server.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_FAILURE_LIMIT = 5
# A slow moment on the shared test machine must not make later calls skip Redis (degrade tests turn it on).
REDIS_BREAKER_SECONDS = 0.0
