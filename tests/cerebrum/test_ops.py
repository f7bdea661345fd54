"""Operations endpoints (health, ready, metrics) and the security baseline (hashing, lockout, headers, CORS)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import OperationalError, connections
from django.test import override_settings

from accounts.hashers import Argon2idHasher
from accounts.models import User
from cerebrum.settings import base as base_settings
from tests.cerebrum.test_production_secrets import STRONG as PRODUCTION_SECRETS

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_stopped(settings):
    """The cache points at a port nothing listens on; changing CACHES rebuilds the django-redis clients."""
    caches = {alias: {**config, "OPTIONS": {**config.get("OPTIONS", {})}} for alias, config in settings.CACHES.items()}
    caches["default"]["LOCATION"] = CLOSED_PORT_REDIS
    settings.CACHES = caches


@pytest.mark.django_db
def test_health_answers_without_any_io(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_when_database_and_redis_answer(client):
    response = client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_names_redis_when_it_is_down_while_health_stays_up(client, redis_stopped):
    ready = client.get("/ready")
    health = client.get("/health")

    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert [failure.split(":")[0] for failure in ready.json()["failing"]] == ["redis"]
    assert health.status_code == 200


@pytest.mark.django_db
def test_ready_names_the_database_when_it_is_down(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)

    response = client.get("/ready")

    assert response.status_code == 503
    assert response.json()["failing"] == ["database: OperationalError"]


@pytest.mark.django_db
def test_metrics_expose_django_request_counters(client):
    client.get("/health")

    response = client.get("/metrics")

    assert response.status_code == 200
    body = response.content.decode()
    assert "django_http_requests_total_by_method_total" in body
    assert "django_http_responses_total_by_status_total" in body


def test_argon2_is_the_password_hasher_outside_tests():
    assert base_settings.PASSWORD_HASHERS[0] == "accounts.hashers.Argon2idHasher"


def test_argon2id_hashes_carry_the_owasp_parameters_and_old_hashes_are_upgraded():
    hasher = Argon2idHasher()
    encoded = hasher.encode("a-long-passphrase", hasher.salt())

    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify("a-long-passphrase", encoded)
    assert not hasher.verify("another-passphrase", encoded)
    assert not hasher.must_update(encoded)
    # A hash made with Django's default parameters still verifies, and is re-hashed at the next login.
    django_default = Argon2PasswordHasher().encode("a-long-passphrase", hasher.salt())
    assert hasher.verify("a-long-passphrase", django_default)
    assert hasher.must_update(django_default)


@pytest.mark.django_db
def test_a_login_rehashes_a_django_default_argon2_password(client):
    # Given a learner whose password was hashed with Django's default Argon2 parameters
    user = User.objects.create_user("old-hash@cerebrum.test", "a-long-passphrase", name="Old Hash")
    user.password = Argon2PasswordHasher().encode("a-long-passphrase", Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])

    # When they sign in with the production hashers
    with override_settings(PASSWORD_HASHERS=base_settings.PASSWORD_HASHERS):
        response = client.post(
            "/api/v1/auth/token",
            {"username": user.email, "password": "a-long-passphrase"},
            content_type="application/json",
        )

    # Then the login works and the stored hash now carries the OWASP parameters
    assert response.status_code == 200
    user.refresh_from_db()
    assert "$m=19456,t=2,p=1$" in user.password


@pytest.mark.django_db
def test_five_failed_logins_lock_the_account_out(client):
    # Given a staff user
    User.objects.create_superuser("locked@cerebrum.test", "right-password-1", name="Locked")
    attempt = {"username": "locked@cerebrum.test", "password": "wrong-password", "next": "/admin/"}

    # When five logins fail
    failures = [client.post("/admin/login/", attempt).status_code for _ in range(5)]

    # Then the sixth is refused even with the right password
    sixth = client.post("/admin/login/", {**attempt, "password": "right-password-1"})
    # (axes refuses the fifth failure itself: it is the one that reaches the limit)
    assert failures == [200, 200, 200, 200, 429]
    assert sixth.status_code == 429
    assert sixth["Retry-After"] == "900"


@pytest.mark.django_db
def test_correct_login_before_the_limit_is_let_in(client):
    User.objects.create_superuser("fine@cerebrum.test", "right-password-1", name="Fine")
    for _ in range(3):
        client.post("/admin/login/", {"username": "fine@cerebrum.test", "password": "nope"})

    response = client.post(
        "/admin/login/", {"username": "fine@cerebrum.test", "password": "right-password-1", "next": "/admin/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ],
)
@pytest.mark.django_db
def test_security_headers(client, header, value):
    response = client.get("/admin/login/")

    assert response[header] == value


@pytest.mark.parametrize("method", ["get", "options"])
@pytest.mark.django_db
def test_cors_is_closed_by_default(client, method):
    response = getattr(client, method)(
        "/api/v1/", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )

    assert "Access-Control-Allow-Origin" not in response


def test_production_cookies_are_secure():
    probe = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cerebrum.settings.production",
        **PRODUCTION_SECRETS,
    }

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[true, true, true]"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/api/v1/courses", "/accounts/login/"])
def test_malformed_session_cookie_is_no_session_not_a_500(client, path):
    # given a session cookie holding a NUL byte (PostgreSQL refuses NUL in text)
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"

    # when any page or endpoint is requested
    response = client.get(path)

    # then it is served as to a visitor without a session
    assert response.status_code == 200
