"""A dropped database connection costs no request (issue 14 item 8).

A live server on the test database serves a steady ~20 requests/s while every backend of the test
database (but the test's own) is killed with `pg_terminate_backend`, as a PostgreSQL failover, a
PgBouncer restart or an idle-connection reaper would. Before, the pool handed out the dead connections:
two 500s per termination. Only connections of this test's own database are terminated.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import EnrollmentFactory

RATE_PER_SECOND = 20
DURATION_SECONDS = 8
TERMINATIONS = 4


def _terminate_other_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _steady_load(urls: list[tuple[str, dict]], statuses: Counter, stop: threading.Event) -> None:
    """One request every 1/RATE seconds, each in its own thread so a slow one does not slow the rate."""
    session_local = threading.local()

    def one(url: str, headers: dict) -> None:
        session = getattr(session_local, "session", None) or requests.Session()
        session_local.session = session
        try:
            statuses[session.get(url, headers=headers, timeout=30).status_code] += 1
        except requests.RequestException as error:
            statuses[type(error).__name__] += 1

    workers, index = [], 0
    while not stop.is_set():
        url, headers = urls[index % len(urls)]
        worker = threading.Thread(target=one, args=(url, headers))
        worker.start()
        workers.append(worker)
        index += 1
        time.sleep(1 / RATE_PER_SECOND)
    for worker in workers:
        worker.join(timeout=60)


@pytest.mark.django_db(transaction=True)
def test_terminated_connections_cost_no_request_under_steady_load(live_server):
    # given a learner and endpoints that read the database on every request
    enrollment = EnrollmentFactory()
    token = str(RefreshToken.for_user(enrollment.user).access_token)
    auth = {"Authorization": f"Bearer {token}"}
    urls = [
        (f"{live_server.url}/ready", {}),
        (f"{live_server.url}/api/v1/enrollments", auth),
        (f"{live_server.url}/api/v1/me", auth),
    ]
    statuses: Counter = Counter()
    stop = threading.Event()
    load = threading.Thread(target=_steady_load, args=(urls, statuses, stop))

    # when the app's connections are terminated several times during the load
    load.start()
    terminated = 0
    for _ in range(TERMINATIONS):
        time.sleep(DURATION_SECONDS / TERMINATIONS)
        terminated += _terminate_other_backends()
    stop.set()
    load.join(timeout=120)

    # then every request was answered, none with a 5xx
    assert terminated >= TERMINATIONS  # the app really held connections that were killed
    assert sum(statuses.values()) >= RATE_PER_SECOND * DURATION_SECONDS * 0.5
    failures = {status: count for status, count in statuses.items() if not (isinstance(status, int) and status < 500)}
    assert failures == {}, statuses
    assert statuses[200] == sum(statuses.values())
