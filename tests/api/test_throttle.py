"""Throttles (Redis-backed): the auth zone is 10/min per IP; a throttled or locked-out client gets 429 + Retry-After."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory

TOKEN_URL = "/api/v1/auth/token"
PASSWORD = "s3cret-Pass!"


@pytest.fixture
def throttle_rates():
    """Set throttle rates for one test; DRF caches them on the throttle classes at import."""
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES

    def apply(**rates):
        SimpleRateThrottle.THROTTLE_RATES = {**original, **rates}

    yield apply
    SimpleRateThrottle.THROTTLE_RATES = original


@pytest.mark.django_db
def test_the_eleventh_login_in_a_minute_is_429_with_retry_after(api_client):
    # given a learner who signs in successfully ten times in a minute
    user = UserFactory()
    body = {"username": user.email, "password": PASSWORD}
    statuses = [api_client.post(TOKEN_URL, body, format="json").status_code for _ in range(10)]
    assert statuses == [200] * 10
    # when they try an eleventh time
    response = api_client.post(TOKEN_URL, body, format="json")
    # then they are told to wait, not forbidden
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


@pytest.mark.django_db
def test_another_ip_is_not_throttled_by_the_first(api_client):
    user = UserFactory()
    body = {"username": user.email, "password": PASSWORD}
    for _ in range(10):
        api_client.post(TOKEN_URL, body, format="json", REMOTE_ADDR="10.0.0.1")
    assert api_client.post(TOKEN_URL, body, format="json", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert api_client.post(TOKEN_URL, body, format="json", REMOTE_ADDR="10.0.0.2").status_code == 200


@pytest.mark.django_db
def test_x_forwarded_for_does_not_bypass_the_throttle(api_client):
    user = UserFactory()
    body = {"username": user.email, "password": PASSWORD}
    for n in range(10):
        api_client.post(TOKEN_URL, body, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = api_client.post(TOKEN_URL, body, format="json", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429


@pytest.mark.django_db
def test_axes_lockout_on_the_token_endpoint_is_429(api_client):
    # given five failed logins for one account (the fifth failure is the one that locks)
    user = UserFactory()
    wrong = {"username": user.email, "password": "not-the-password"}
    statuses = [api_client.post(TOKEN_URL, wrong, format="json").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    # when the right password is tried next
    response = api_client.post(TOKEN_URL, {"username": user.email, "password": PASSWORD}, format="json")
    # then the account is locked: 429 with Retry-After, in the error shape
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert int(response["Retry-After"]) == 15 * 60


@pytest.mark.django_db
def test_anonymous_rate_applies_to_public_reads(api_client, throttle_rates):
    throttle_rates(anon="3/min")
    statuses = [api_client.post("/api/v1/auth/logout", {"refresh": "x"}, format="json").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


@pytest.mark.django_db
def test_authenticated_rate_is_per_user(api_client, throttle_rates):
    throttle_rates(user="2/min")
    first, second = UserFactory(), UserFactory()
    api_client.force_authenticate(first)
    assert [api_client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
    api_client.force_authenticate(second)
    assert api_client.get("/api/v1/me").status_code == 200


@pytest.mark.django_db
def test_the_user_throttle_is_one_redis_round_trip_and_retry_after_counts_down(
    api_client, throttle_rates, redis_round_trips, monkeypatch
):
    # Given a rate of 2 a minute, a clock the test moves, and the script loaded (as after its first use)
    from django_redis import get_redis_connection
    from rest_framework.throttling import SimpleRateThrottle

    from cerebrum import api_tools

    get_redis_connection("default").script_load(api_tools._SLIDING_WINDOW)
    throttle_rates(user="2/min")
    now = [1_000_000.0]
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: now[0])
    api_client.force_authenticate(UserFactory())

    # When the learner calls at 0 s and 20 s, then twice at 30 s, then at 61 s
    statuses = []
    for at in (0, 20, 30, 30, 61):
        now[0] = 1_000_000.0 + at
        redis_round_trips.reset()
        response = api_client.get("/api/v1/me")
        statuses.append((response.status_code, response.get("Retry-After")))
        assert len(redis_round_trips.touching("EVALSHA")) == 1, redis_round_trips.commands

    # Then each call made one round trip for its throttle (a script, not a GET and a SET), the third and
    # fourth wait for the first to leave the window (30 s), and at 61 s one slot is free again
    assert statuses == [(200, None), (200, None), (429, "30"), (429, "30"), (200, None)]


def test_rates_come_from_the_environment():
    import subprocess
    import sys

    code = "import django; django.setup(); from django.conf import settings as s; print(s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])"
    env = {
        "DJANGO_SETTINGS_MODULE": "cerebrum.settings.base",
        "THROTTLE_ANON": "7/min",
        "THROTTLE_USER": "8/min",
        "THROTTLE_AUTH": "9/min",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "{'anon': '7/min', 'user': '8/min', 'auth': '9/min'}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "signed_in"),
    [("/api/v1/auth/register", False), ("/api/v1/me/otp/request", True), ("/api/v1/me/otp/verify", True)],
)
def test_register_and_otp_share_the_auth_zone_of_10_per_minute(api_client, url, signed_in):
    # given ten refused attempts (empty bodies) in a minute, signed in or not
    if signed_in:
        api_client.force_authenticate(UserFactory())
    statuses = [api_client.post(url, {}, format="json").status_code for _ in range(10)]
    assert set(statuses) == {400}
    # when an eleventh arrives
    response = api_client.post(url, {}, format="json")
    # then it is throttled
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


# --- Behind nginx: throttles see the same client address as the lockout (issue 14 item 4) -----------

NGINX = "10.0.0.254"


@pytest.mark.django_db
def test_behind_nginx_the_auth_throttle_is_per_client_not_per_proxy(api_client, settings):
    # Before: every request had nginx's address, so ten logins by anyone throttled the whole site.
    settings.TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    body = {"username": user.email, "password": PASSWORD}
    for _ in range(10):
        api_client.post(TOKEN_URL, body, format="json", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="203.0.113.5")

    busy = api_client.post(TOKEN_URL, body, format="json", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="203.0.113.5")
    other = api_client.post(TOKEN_URL, body, format="json", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert (busy.status_code, other.status_code) == (429, 200)


@pytest.mark.django_db
def test_behind_nginx_a_spoofed_forwarded_for_does_not_bypass_the_throttle(api_client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    body = {"username": user.email, "password": PASSWORD}
    for n in range(10):
        spoofed = f"192.0.2.{n}, 203.0.113.5"  # the client's own claim, then what nginx saw
        api_client.post(TOKEN_URL, body, format="json", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=spoofed)

    response = api_client.post(
        TOKEN_URL, body, format="json", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.5"
    )

    assert response.status_code == 429


@pytest.mark.django_db
def test_behind_nginx_the_anonymous_rate_is_per_client(api_client, settings, throttle_rates):
    settings.TRUSTED_PROXY_COUNT = 1
    throttle_rates(anon="2/min")
    statuses = [
        api_client.post(
            "/api/v1/auth/logout",
            {"refresh": "x"},
            format="json",
            REMOTE_ADDR=NGINX,
            HTTP_X_FORWARDED_FOR="203.0.113.5",
        ).status_code
        for _ in range(3)
    ]
    other = api_client.post(
        "/api/v1/auth/logout", {"refresh": "x"}, format="json", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )

    assert statuses == [401, 401, 429]
    assert other.status_code == 401
