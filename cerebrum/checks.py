"""System checks. `manage.py check --deploy` errors on any secret left at its public embedded default."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register

from cerebrum.env import secret_problem

# Settings that hold a secret, by the environment variable that sets them; the sandbox's only while it runs.
SECRET_SETTINGS = {
    "DJANGO_SECRET_KEY": lambda: settings.SECRET_KEY,
    "JWT_SIGNING_KEY": lambda: settings.SIMPLE_JWT["SIGNING_KEY"],
    "RAZORPAY_KEY_ID": lambda: settings.RAZORPAY_KEY_ID,
    "RAZORPAY_KEY_SECRET": lambda: settings.RAZORPAY_KEY_SECRET,
    "RAZORPAY_WEBHOOK_SECRET": lambda: settings.RAZORPAY_WEBHOOK_SECRET,
    "WHATSAPP_APP_SECRET": lambda: settings.WHATSAPP_APP_SECRET,
    "WHATSAPP_VERIFY_TOKEN": lambda: settings.WHATSAPP_VERIFY_TOKEN,
}
# Optional secrets: empty turns their feature off; set, they may not be a public embedded value.
OPTIONAL_SECRET_SETTINGS = {
    "COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET": lambda: settings.COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET,
    "WHATSAPP_TOKEN": lambda: settings.WHATSAPP_TOKEN,
    "EMAIL_HOST_PASSWORD": lambda: settings.EMAIL_HOST_PASSWORD,
}
SANDBOX_SECRET_SETTINGS = {
    "SANDBOX_KEY_SECRET": lambda: settings.SANDBOX_KEY_SECRET,
    "SANDBOX_WEBHOOK_SECRET": lambda: settings.SANDBOX_WEBHOOK_SECRET,
}


@register(Tags.security, deploy=True)
def embedded_secrets_check(app_configs, **kwargs) -> list[Error]:
    """cerebrum.E001 for each secret that is unset or a public embedded default; E002 for a mounted sandbox."""
    errors = []
    optional = {variable: read for variable, read in OPTIONAL_SECRET_SETTINGS.items() if read()}
    for variable, read in {**SECRET_SETTINGS, **optional}.items():
        if problem := secret_problem(variable, read()):
            errors.append(Error(problem, hint=f"Set {variable} in the environment.", id="cerebrum.E001"))
    if settings.PAYMENT_SANDBOX_ENABLED:
        errors.append(
            Error(
                "The sandbox payment gateway is enabled: its pages sign payments with public secrets.",
                hint="Deploy with DJANGO_SETTINGS_MODULE=cerebrum.settings.production.",
                id="cerebrum.E002",
            )
        )
        for variable, read in SANDBOX_SECRET_SETTINGS.items():
            if problem := secret_problem(variable, read()):
                errors.append(Error(problem, hint=f"Set {variable} in the environment.", id="cerebrum.E001"))
    return errors


# Hosts that only this machine reaches: a link to them in a learner's mail leads nowhere.
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "testserver"}


@register(Tags.security, deploy=True)
def site_url_check(app_configs, **kwargs) -> list[Error]:
    """cerebrum.E003 when SITE_URL, the base of every link sent (password reset, unsubscribe, payment
    retry, parent digest), is not a public https address: left at the embedded http://127.0.0.1:8000,
    every such link would lead nowhere (issue 14 item 1's kind: an embedded default in production)."""
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme == "https" and parts.hostname and parts.hostname not in LOOPBACK_HOSTS:
        return []
    return [
        Error(
            f"SITE_URL is {settings.SITE_URL!r}: links in mail and WhatsApp messages would not reach the site.",
            hint="Set SITE_URL to the public https address, e.g. https://cerebrum.academy.",
            id="cerebrum.E003",
        )
    ]
