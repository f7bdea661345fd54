"""Production never runs on embedded secrets (issue 14 item 1).

The embedded defaults are public (cerebrum/env.py): with them anyone can sign a `payment.captured`
webhook, press the sandbox's "Pay" button or forge a WhatsApp delivery receipt. Production refuses to
start without real values, the sandbox gateway does not exist there, and `check --deploy` names every
embedded secret. Settings are imported in a subprocess, as a deployment would.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import Resolver404, clear_url_caches, resolve, reverse

from cerebrum.env import EMBEDDED_SECRETS
from payments.gateways import GatewayError, SandboxGateway, gateway_for_payment, get_gateway
from payments.models import Payment
from tests.factories import EnrollmentFactory, PaymentFactory

ROOT = Path(__file__).resolve().parents[2]
STRONG = {
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "RAZORPAY_KEY_ID": "rzp_live_Abc123Def456Gh",
    "RAZORPAY_KEY_SECRET": "kS3cr3t-razorpay-key-secret-0123456789",
    "RAZORPAY_WEBHOOK_SECRET": "whS3cr3t-razorpay-webhook-secret-0123456789",
    "WHATSAPP_APP_SECRET": "waS3cr3t-meta-app-secret-0123456789",
    "WHATSAPP_VERIFY_TOKEN": "waV3rify-token-0123456789",
}
# Secrets and services this process may carry; each case states its own.
CLEAN_PREFIXES = (
    "RAZORPAY_",
    "WHATSAPP_",
    "SANDBOX_",
    "DJANGO_",
    "JWT_",
    "DATABASE_",
    "REDIS_URL",
    "CELERY_",
    "SITE_URL",
)
PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; from django.urls import reverse;"
    "from payments.gateways import get_gateway;"
    "print(json.dumps([s.PAYMENT_SANDBOX_ENABLED, get_gateway().name, reverse('payments:razorpay_webhook')]))"
)


def run(extra: dict[str, str], args: list[str], settings_module: str = "cerebrum.settings.production"):
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEAN_PREFIXES)}
    env.update(extra, DJANGO_SETTINGS_MODULE=settings_module)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_production_with_a_strong_secret_key_but_no_razorpay_keys_refuses_to_start():
    # given the example: a strong DJANGO_SECRET_KEY and no RAZORPAY_*
    result = run({"DJANGO_SECRET_KEY": STRONG["DJANGO_SECRET_KEY"]}, ["-c", PROBE])

    # then startup stops, naming the first missing variable
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "RAZORPAY_KEY_ID must be set in production" in result.stderr


@pytest.mark.parametrize("variable", sorted(STRONG))
def test_production_refuses_each_missing_secret_naming_it(variable):
    result = run({k: v for k, v in STRONG.items() if k != variable}, ["-c", PROBE])

    assert result.returncode != 0
    assert f"{variable} must be set in production" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WHATSAPP_APP_SECRET", EMBEDDED_SECRETS["WHATSAPP_APP_SECRET"]),
        ("WHATSAPP_VERIFY_TOKEN", EMBEDDED_SECRETS["WHATSAPP_VERIFY_TOKEN"]),
        ("DJANGO_SECRET_KEY", EMBEDDED_SECRETS["DJANGO_SECRET_KEY"]),
        # another embedded value copied into a real slot is just as public
        ("RAZORPAY_WEBHOOK_SECRET", EMBEDDED_SECRETS["SANDBOX_WEBHOOK_SECRET"]),
        ("RAZORPAY_KEY_SECRET", EMBEDDED_SECRETS["SANDBOX_KEY_SECRET"]),
        ("JWT_SIGNING_KEY", EMBEDDED_SECRETS["DJANGO_SECRET_KEY"]),
        # optional secrets: unset is fine, an embedded value is not
        ("COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET", EMBEDDED_SECRETS["WHATSAPP_APP_SECRET"]),
        ("EMAIL_HOST_PASSWORD", EMBEDDED_SECRETS["SANDBOX_KEY_SECRET"]),
    ],
)
def test_production_refuses_an_embedded_default_naming_the_variable(variable, value):
    result = run({**STRONG, variable: value}, ["-c", PROBE])

    assert result.returncode != 0
    assert f"{variable} must be set in production: it equals a public embedded default" in result.stderr


def test_production_with_real_secrets_has_no_sandbox():
    result = run(STRONG, ["-c", PROBE])

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[false, "RAZORPAY", "/payments/webhooks/razorpay/"]'


def test_production_does_not_mount_the_sandbox_page():
    probe = (
        "import django; django.setup(); from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/payments/sandbox/1/'); print('mounted')\n"
        "except Resolver404:\n    print('absent')\n"
    )
    result = run(STRONG, ["-c", probe])

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "absent"


def test_embedded_default_keeps_the_sandbox_and_its_defaults():
    # `make run`: nothing set, everything works on the embedded values
    result = run({}, ["-c", PROBE], settings_module="cerebrum.settings.base")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[true, "SANDBOX", "/payments/webhooks/razorpay/"]'


def test_deploy_check_fails_on_every_embedded_secret():
    result = run({}, ["manage.py", "check", "--deploy"], settings_module="cerebrum.settings.base")

    assert result.returncode != 0
    output = result.stdout + result.stderr
    for variable in (*EMBEDDED_SECRETS, "RAZORPAY_KEY_ID", "RAZORPAY_WEBHOOK_SECRET"):
        assert variable in output
    assert "cerebrum.E001" in output
    assert "cerebrum.E002" in output  # the sandbox gateway is enabled


def test_deploy_check_fails_on_a_single_embedded_secret_even_with_the_rest_real():
    # base settings with every secret real but the verify token left at its default
    env = {**STRONG, "WHATSAPP_VERIFY_TOKEN": EMBEDDED_SECRETS["WHATSAPP_VERIFY_TOKEN"]}
    result = run(env, ["manage.py", "check", "--deploy"], settings_module="cerebrum.settings.base")

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "WHATSAPP_VERIFY_TOKEN must be set in production: it equals a public embedded default" in output
    assert "WHATSAPP_APP_SECRET" not in output


def test_deploy_check_passes_for_production_with_real_secrets():
    env = {**STRONG, "DJANGO_ALLOWED_HOSTS": "cerebrum.academy", "SITE_URL": "https://cerebrum.academy"}
    result = run(env, ["manage.py", "check", "--deploy"])

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("site_url", [None, "http://127.0.0.1:8000", "http://cerebrum.academy", "https://localhost"])
def test_deploy_check_fails_when_links_in_mail_would_not_reach_the_site(site_url):
    # Review (item 1 sibling, an embedded default in production): SITE_URL left at the embedded
    # http://127.0.0.1:8000 puts that in every password-reset, unsubscribe and payment link sent.
    env = {**STRONG, "DJANGO_ALLOWED_HOSTS": "cerebrum.academy"}
    if site_url:
        env["SITE_URL"] = site_url
    result = run(env, ["manage.py", "check", "--deploy"])

    assert result.returncode != 0
    assert "cerebrum.E003" in result.stdout + result.stderr
    assert "SITE_URL" in result.stdout + result.stderr


@pytest.fixture
def sandbox_disabled(settings):
    """This process's URLconf rebuilt as production builds it (PAYMENT_SANDBOX_ENABLED=False)."""
    import cerebrum.urls
    import payments.urls

    settings.PAYMENT_SANDBOX_ENABLED = False
    for module in (payments.urls, cerebrum.urls):
        importlib.reload(module)
    clear_url_caches()
    yield
    settings.PAYMENT_SANDBOX_ENABLED = True
    for module in (payments.urls, cerebrum.urls):
        importlib.reload(module)
    clear_url_caches()


@pytest.mark.django_db
def test_sandbox_pay_is_404_in_production_shape(client, sandbox_disabled):
    # given a learner holding a sandbox order (left over from before the keys were set)
    payment = PaymentFactory(gateway=Payment.Gateway.SANDBOX, razorpay_order_id="order_SBXleftover")
    client.force_login(payment.user)

    # when they press the sandbox "Pay" at its old address
    response = client.post(f"/payments/sandbox/{payment.pk}/", {"outcome": "pay"})

    # then there is no such page, and nothing was paid
    assert response.status_code == 404
    with pytest.raises(Resolver404):
        resolve(f"/payments/sandbox/{payment.pk}/")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED


@pytest.mark.django_db
def test_sandbox_gateway_is_not_selectable_in_production_shape(settings, sandbox_disabled):
    with pytest.raises(GatewayError):
        get_gateway()  # no Razorpay keys and no sandbox: never silently the sandbox
    with pytest.raises(GatewayError):
        gateway_for_payment(SandboxGateway.name)


@pytest.mark.django_db
def test_embedded_default_still_mounts_the_sandbox(client):
    enrollment = EnrollmentFactory(course__fees_paise=100_000)
    client.force_login(enrollment.user)

    page = client.post(reverse("payments:checkout", args=[enrollment.pk]))

    assert page.status_code == 200
    assert reverse("payments:sandbox", args=[Payment.objects.get().pk]) in page.content.decode()
