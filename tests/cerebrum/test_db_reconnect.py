"""A safe request whose database connection dies while its view runs is run once more (issue 14 item 8).

Deterministic companion of test_db_connection_drop.py: the view terminates its own backend on its first
run (as a failover would, mid-request). This module is its own URLconf.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from cerebrum.views import _database_ready

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.cerebrum.test_db_reconnect")]
runs: list[str] = []


@csrf_exempt
def _dies_once(request):
    runs.append(request.method)
    with connection.cursor() as cursor:
        if len(runs) == 1:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        cursor.execute("SELECT 1")
    return JsonResponse({"runs": len(runs)})


urlpatterns = [path("dies-once/", _dies_once), path("", include("cerebrum.urls"))]


@pytest.fixture(autouse=True)
def _fresh_runs():
    runs.clear()
    yield
    # The test client does not close connections at the end of a request as the server does, so a
    # connection killed in a test is handed back to the pool here.
    connection.close()


def test_a_get_whose_connection_is_killed_mid_view_is_answered_by_a_second_run(client):
    response = client.get("/dies-once/")

    assert response.status_code == 200
    assert response.json() == {"runs": 2}


def test_a_post_whose_connection_is_killed_is_not_repeated(client):
    client.raise_request_exception = False

    response = client.post("/dies-once/")

    # a write is never run twice behind the client's back: it sees the failure and may retry itself
    assert response.status_code == 500
    assert runs == ["POST"]


def test_ready_survives_its_connection_being_killed():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # a pooled connection, then killed from outside while idle
    _terminate(connection.connection.info.backend_pid)

    assert _database_ready() is None


def _terminate(pid: int) -> None:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
