"""Production: the base settings plus what only holds behind TLS. Differs only by environment.

Startup stops with ImproperlyConfigured, naming the variable, when a gateway key or webhook secret is
unset or equals a public embedded default (cerebrum/env.py EMBEDDED_SECRETS): with them anyone could sign a
`payment.captured` webhook or a WhatsApp delivery receipt. The sandbox gateway does not exist here.
"""

from django.core.exceptions import ImproperlyConfigured

from cerebrum.env import secret_problem
from cerebrum.settings.base import *  # noqa: F403
from cerebrum.settings.base import SIMPLE_JWT, env

DEBUG = False

# Every secret production runs on, by its environment variable (JWT_SIGNING_KEY defaults to the secret key).
REQUIRED_SECRETS = {
    "DJANGO_SECRET_KEY": SECRET_KEY,  # noqa: F405
    "JWT_SIGNING_KEY": SIMPLE_JWT["SIGNING_KEY"],
    "RAZORPAY_KEY_ID": RAZORPAY_KEY_ID,  # noqa: F405
    "RAZORPAY_KEY_SECRET": RAZORPAY_KEY_SECRET,  # noqa: F405
    "RAZORPAY_WEBHOOK_SECRET": RAZORPAY_WEBHOOK_SECRET,  # noqa: F405
    "WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,  # noqa: F405
    "WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY_TOKEN,  # noqa: F405
}
# Optional ones (empty turns their feature off) may still never be a public embedded value.
OPTIONAL_SECRETS = {
    "COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET": COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET,  # noqa: F405
    "WHATSAPP_TOKEN": WHATSAPP_TOKEN,  # noqa: F405
    "EMAIL_HOST_PASSWORD": EMAIL_HOST_PASSWORD,  # noqa: F405
}
for _variable, _value in {**REQUIRED_SECRETS, **{k: v for k, v in OPTIONAL_SECRETS.items() if v}}.items():
    if problem := secret_problem(_variable, _value):
        raise ImproperlyConfigured(problem)

PAYMENT_SANDBOX_ENABLED = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the shipped nginx (deploy/nginx.conf.template): one proxy of ours, so lockouts and throttles
# take the client from X-Forwarded-For's last entry (cerebrum/client_ip.py), never nginx's address.
# Set 0 only when gunicorn faces clients directly.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": TRUSTED_PROXY_COUNT}  # noqa: F405
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = False  # the page's own fetch() reads it for in-place answer saving
