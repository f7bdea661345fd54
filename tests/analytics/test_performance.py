from __future__ import annotations

import math

import pytest

from analytics import performance
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

INF = math.inf


def latency(view: str, buckets: list[tuple[float, float]], total_seconds: float) -> dict:
    name = performance.LATENCY
    labels = {"view": view, "method": "GET"}
    return {
        f"{name}_bucket": [({**labels, "le": str(bound)}, count) for bound, count in buckets],
        f"{name}_sum": [(labels, total_seconds)],
        f"{name}_count": [(labels, buckets[-1][1])],
    }


@pytest.mark.parametrize(
    ("buckets", "q", "expected"),
    [
        ([(0.1, 50), (0.2, 100), (INF, 100)], 0.5, 0.1),
        ([(0.1, 0), (0.2, 100), (INF, 100)], 0.95, 0.195),
        ([(0.1, 90), (0.5, 98), (INF, 100)], 0.99, 0.5),
        ([(0.1, 0), (INF, 0)], 0.95, None),
    ],
)
def test_quantile_interpolates_inside_the_bucket_like_prometheus(buckets, q, expected):
    result = performance.quantile(buckets, q)

    assert result == (None if expected is None else pytest.approx(expected))


def test_snapshot_computes_route_numbers_and_raises_every_section7_alert():
    samples = latency("courses:home", [(0.1, 0), (0.5, 5), (1.0, 10), (INF, 10)], total_seconds=6.0)
    samples[performance.RESPONSES] = [
        ({"status": "200", "view": "courses:home", "method": "GET"}, 9),
        ({"status": "500", "view": "courses:home", "method": "GET"}, 1),
    ]
    samples[performance.SQL_QUERIES] = [({}, 10)]
    samples[performance.SQL_SECONDS] = [({}, 0.6)]
    samples[performance.CACHE_REQUESTS] = [
        ({"result": "hit", "cache": "page"}, 7),
        ({"result": "miss", "cache": "page"}, 3),
    ]

    result = performance.snapshot(samples, now=1000.0)

    route = result["routes"][0]
    assert (route.view, route.requests, route.avg_ms, route.error_percent) == ("courses:home", 10, 600.0, 10.0)
    assert (route.p95_ms, route.p99_ms) == (950.0, 990.0)
    assert result["overall"] == {
        "requests": 10,
        "error_percent": 10.0,
        "avg_ms": 600.0,
        "avg_sql_ms": 60.0,
        "cache_hit_percent": 70.0,
    }
    assert [alert.split(":")[0] for alert in result["alerts"]] == [
        "High error rate",
        "High average response time",
        "Slow database queries",
        "Low cache hit rate",
    ]


def test_request_rate_is_the_change_since_the_previous_look():
    before = latency("courses:home", [(0.1, 10), (INF, 10)], total_seconds=0.5)
    after = latency("courses:home", [(0.1, 40), (INF, 40)], total_seconds=2.0)

    performance.snapshot(before, now=1000.0)
    result = performance.snapshot(after, now=1010.0)

    assert result["routes"][0].per_second == 3.0
    assert result["alerts"] == []


def test_no_metrics_means_no_data_and_no_alerts():
    result = performance.snapshot({}, now=1.0)

    assert result["overall"]["requests"] == 0
    assert result["overall"]["avg_sql_ms"] is None
    assert result["alerts"] == []


def test_live_view_reads_the_processes_own_metrics(client):
    client.force_login(StaffFactory())
    client.get("/health")

    response = client.get("/staff/analytics/performance/")

    assert response.status_code == 200
    views = {route.view for route in response.context["routes"]}
    assert "health" in views
    assert b'http-equiv="refresh"' in response.content
