"""Lockout through the shipped nginx configuration, against a live server on PostgreSQL and Redis.

Issue 14 item 4's example: behind nginx every request had nginx's REMOTE_ADDR, so five failed logins
by anyone locked every learner out. Here clients connect from their own loopback addresses
(127.0.0.2, 127.0.0.3, ...) to a real nginx rendered from deploy/nginx.conf.template, which proxies
to the live server; the app runs with TRUSTED_PROXY_COUNT=1, as in production.
"""

from __future__ import annotations

import http.client
import json
import shutil

import pytest

from tests.factories import UserFactory
from tests.nginx_serving import nginx_in_front

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
PASSWORD = "s3cret-Pass!"


@pytest.fixture
def nginx(tmp_path, live_server, settings):
    """The shipped template in front of the live server; yields its port."""
    with nginx_in_front(
        tmp_path,
        live_server,
        settings,
        page_cache=False,
        UNLIMITED_CIDR="127.0.0.1/32",  # nginx's own rate limits are tested elsewhere; these clients are not exempt
        AUTH_RATE="600r/m",
    ) as url:
        yield int(url.rsplit(":", 1)[1])


def _token(port: int, source: str, username: str, password: str, *, spoofed: str = "") -> int:
    """POST /api/v1/auth/token from the loopback address `source`, as a client on its own network would."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    headers = {"Content-Type": "application/json", "Host": "localhost"}
    if spoofed:
        headers["X-Forwarded-For"] = spoofed
    connection.request("POST", "/api/v1/auth/token", json.dumps({"username": username, "password": password}), headers)
    status = connection.getresponse().status
    connection.close()
    return status


@pytest.mark.django_db(transaction=True)
def test_through_nginx_other_peoples_failures_do_not_lock_a_learner_out(nginx):
    # Given five failed logins for a learner's account from one client
    user = UserFactory(email="asha@example.com")
    failures = [_token(nginx, "127.0.0.2", user.email, "wrong") for _ in range(5)]
    assert failures == [401, 401, 401, 401, 429]

    # When the learner (another client) signs in with the right password, then they get in
    assert _token(nginx, "127.0.0.3", user.email, PASSWORD) == 200
    # while the failing client stays locked
    assert _token(nginx, "127.0.0.2", user.email, PASSWORD) == 429


@pytest.mark.django_db(transaction=True)
def test_through_nginx_a_spoofed_forwarded_for_neither_locks_others_nor_frees_the_attacker(nginx):
    user = UserFactory(email="asha@example.com")
    for number in range(5):
        _token(nginx, "127.0.0.2", user.email, "wrong", spoofed=f"127.0.0.3, 198.51.100.{number}")

    assert _token(nginx, "127.0.0.3", user.email, PASSWORD) == 200
    assert _token(nginx, "127.0.0.2", user.email, PASSWORD, spoofed="127.0.0.4") == 429
