"""Tests run on real PostgreSQL and Redis: never a silent fall-back to SQLite."""

from django.core.exceptions import ImproperlyConfigured

from cerebrum.settings.base import *  # noqa: F403
from cerebrum.settings.base import DB_IS_POSTGRES, REDIS_URL

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
