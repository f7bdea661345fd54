"""Production: the base settings plus what only holds behind TLS. Differs only by environment."""

from django.core.exceptions import ImproperlyConfigured

from cerebrum.settings.base import *  # noqa: F403
from cerebrum.settings.base import SECRET_KEY, env

DEBUG = False
if SECRET_KEY.startswith("embedded-default"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = False  # the page's own fetch() reads it for in-place answer saving
