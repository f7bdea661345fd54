"""The live performance view (report §7), read from the app's own Prometheus metrics.

Sources: django-prometheus' per-view latency histograms and status counters, and cerebrum/metrics.py's
SQL and cache counters. Under gunicorn (PROMETHEUS_MULTIPROC_DIR set) every worker's files are
aggregated, as /metrics does. Totals are since the processes started; the request rate is the change
since the previous look at this page (kept in the cache).
"""

from __future__ import annotations

import math
import os
import time
from collections import defaultdict
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

from analytics import caches

LATENCY = "django_http_requests_latency_seconds_by_view_method"
RESPONSES = "django_http_responses_total_by_status_view_method_total"
SQL_QUERIES = "cerebrum_sql_queries_total"
SQL_SECONDS = "cerebrum_sql_seconds_total"
CACHE_REQUESTS = "cerebrum_cache_requests_total"

# Report §7 alert thresholds.
MAX_ERROR_PERCENT = 5.0
MAX_AVG_RESPONSE_MS = 500.0
MAX_AVG_SQL_MS = 50.0
MIN_CACHE_HIT_PERCENT = 80.0


@dataclass(frozen=True)
class RouteStats:
    view: str
    method: str
    requests: int
    per_second: float | None
    avg_ms: float
    p95_ms: float | None
    p99_ms: float | None
    error_percent: float


def collect() -> dict[str, list[tuple[dict, float]]]:
    """Every sample by name: [(labels, value)]."""
    samples: dict[str, list[tuple[dict, float]]] = defaultdict(list)
    for family in _registry().collect():
        for sample in family.samples:
            samples[sample.name].append((sample.labels, sample.value))
    return samples


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """Prometheus' histogram_quantile over cumulative (upper bound, count) buckets, in the bounds' unit."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound


def snapshot(samples: dict | None = None, *, now: float | None = None) -> dict:
    """Routes, overall numbers and the §7 alerts."""
    samples = collect() if samples is None else samples
    now = time.time() if now is None else now
    routes = _routes(samples, now)
    requests = sum(route.requests for route in routes)
    errors = sum(route.requests * route.error_percent / 100 for route in routes)
    overall = {
        "requests": requests,
        "error_percent": round(100 * errors / requests, 2) if requests else None,
        "avg_ms": round(sum(r.avg_ms * r.requests for r in routes) / requests, 1) if requests else None,
        "avg_sql_ms": _avg_sql_ms(samples),
        "cache_hit_percent": _cache_hit_percent(samples),
    }
    return {"routes": routes, "overall": overall, "alerts": alerts(overall)}


def alerts(overall: dict) -> list[str]:
    found = []
    if overall["error_percent"] is not None and overall["error_percent"] > MAX_ERROR_PERCENT:
        found.append(f"High error rate: {overall['error_percent']:.2f}% (over {MAX_ERROR_PERCENT:.0f}%)")
    if overall["avg_ms"] is not None and overall["avg_ms"] > MAX_AVG_RESPONSE_MS:
        found.append(f"High average response time: {overall['avg_ms']:.1f} ms (over {MAX_AVG_RESPONSE_MS:.0f} ms)")
    if overall["avg_sql_ms"] is not None and overall["avg_sql_ms"] > MAX_AVG_SQL_MS:
        found.append(f"Slow database queries: {overall['avg_sql_ms']:.1f} ms average (over {MAX_AVG_SQL_MS:.0f} ms)")
    if overall["cache_hit_percent"] is not None and overall["cache_hit_percent"] < MIN_CACHE_HIT_PERCENT:
        found.append(f"Low cache hit rate: {overall['cache_hit_percent']:.1f}% (under {MIN_CACHE_HIT_PERCENT:.0f}%)")
    return found


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _routes(samples: dict, now: float) -> list[RouteStats]:
    buckets: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for labels, value in samples.get(f"{LATENCY}_bucket", []):
        buckets[(labels["view"], labels["method"])].append((float(labels["le"]), value))
    sums = {(labels["view"], labels["method"]): value for labels, value in samples.get(f"{LATENCY}_sum", [])}
    counts = {(labels["view"], labels["method"]): value for labels, value in samples.get(f"{LATENCY}_count", [])}
    errors: dict[tuple[str, str], float] = defaultdict(float)
    for labels, value in samples.get(RESPONSES, []):
        if labels["status"].startswith("5"):
            errors[(labels["view"], labels["method"])] += value
    rates = _rates(counts, now)
    routes = [
        RouteStats(
            view=view,
            method=method,
            requests=int(count),
            per_second=rates.get((view, method)),
            avg_ms=round(1000 * sums.get((view, method), 0) / count, 1),
            p95_ms=_ms(quantile(buckets[(view, method)], 0.95)),
            p99_ms=_ms(quantile(buckets[(view, method)], 0.99)),
            error_percent=round(100 * errors[(view, method)] / count, 2),
        )
        for (view, method), count in counts.items()
        if count
    ]
    return sorted(routes, key=lambda route: -route.requests)


def _rates(counts: dict, now: float) -> dict:
    """Requests per second per route since the previous snapshot; that snapshot is then replaced."""
    previous = caches.performance_previous_swap(
        {"at": now, "counts": {"|".join(key): value for key, value in counts.items()}}
    )
    if not previous or now - previous["at"] < 1:
        return {}
    elapsed = now - previous["at"]
    return {
        key: round(max(value - previous["counts"].get("|".join(key), 0), 0) / elapsed, 2)
        for key, value in counts.items()
    }


def _avg_sql_ms(samples: dict) -> float | None:
    queries = sum(value for _, value in samples.get(SQL_QUERIES, []))
    seconds = sum(value for _, value in samples.get(SQL_SECONDS, []))
    return round(1000 * seconds / queries, 2) if queries else None


def _cache_hit_percent(samples: dict) -> float | None:
    by_result: dict[str, float] = defaultdict(float)
    for labels, value in samples.get(CACHE_REQUESTS, []):
        by_result[labels.get("result", "")] += value
    total = by_result["hit"] + by_result["miss"]
    return round(100 * by_result["hit"] / total, 1) if total else None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000 * seconds, 1)
