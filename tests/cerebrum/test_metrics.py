"""Per-request SQL count and time, slow-query log, X-Cache from object-cache lookups, /metrics export."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from prometheus_client import REGISTRY

from cerebrum.cache import get_or_build, l1_clear
from tests.factories import UserFactory


def three_queries_view(request):
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("SELECT 1")
    return HttpResponse("ok")


def slow_view(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.15)")
    return HttpResponse("slow")


def whoami_view(request):
    return HttpResponse(str(request.user.pk))


def cached_view(request):
    value, _ = get_or_build("metrics:view", lambda: "built", timeout=60)
    return HttpResponse(value)


urlpatterns = [
    path("three/", three_queries_view),
    path("slow/", slow_view),
    path("cached/", cached_view),
    path("whoami/", whoami_view),
    path("", include("django_prometheus.urls")),
]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def test_sql_statements_of_a_request_are_counted_and_timed(client, settings):
    settings.SQL_COUNT_HEADER = True
    requests_before = sample("cerebrum_requests_total")
    queries_before = sample("cerebrum_sql_queries_total")
    observed_before = sample("cerebrum_sql_queries_per_request_count")

    response = client.get("/three/")

    assert response["X-SQL-Queries"] == "3"
    assert sample("cerebrum_requests_total") - requests_before == 1
    assert sample("cerebrum_sql_queries_total") - queries_before == 3
    assert sample("cerebrum_sql_queries_per_request_count") - observed_before == 1
    assert sample("cerebrum_sql_seconds_total") > 0


def test_sql_count_header_is_off_by_default(client):
    assert "X-SQL-Queries" not in client.get("/three/")


def test_query_slower_than_threshold_is_logged(client, settings, caplog):
    settings.SLOW_QUERY_MS = 100

    with caplog.at_level(logging.WARNING, logger="cerebrum.slow_sql"):
        client.get("/slow/")
        client.get("/three/")

    slow = [record for record in caplog.records if record.name == "cerebrum.slow_sql"]
    assert len(slow) == 1
    assert "pg_sleep" in slow[0].getMessage()
    assert "on default" in slow[0].getMessage()


def test_object_cache_lookups_set_x_cache(client):
    l1_clear()

    first = client.get("/cached/")
    second = client.get("/cached/")

    assert first["X-Cache"] == "MISS"
    assert second["X-Cache"] == "HIT"
    assert second["X-Response-Time"].endswith("ms")


def test_response_without_cache_lookups_has_no_x_cache(client):
    assert "X-Cache" not in client.get("/three/")


def test_metrics_endpoint_exports_the_request_histograms(client):
    client.get("/three/")

    body = client.get("/metrics").content.decode()

    assert "cerebrum_sql_queries_per_request_bucket" in body
    assert "cerebrum_sql_time_seconds_bucket" in body
    assert "cerebrum_cache_requests_total" in body


def test_authenticated_responses_are_private(client):
    client.force_login(UserFactory())

    response = client.get("/three/")

    assert response["Cache-Control"] == "private, no-store"


def test_the_session_user_lookup_is_counted_but_does_not_decide_x_cache(client):
    client.force_login(UserFactory())
    client.get("/whoami/")  # the first request caches the session's user
    labels = {"result": "hit", "cache": "session-user"}
    before = REGISTRY.get_sample_value("cerebrum_cache_requests_total", labels) or 0.0

    response = client.get("/whoami/")  # a view that asks who its user is (one that does not never looks)

    assert (REGISTRY.get_sample_value("cerebrum_cache_requests_total", labels) or 0.0) - before == 1
    assert "X-Cache" not in response
