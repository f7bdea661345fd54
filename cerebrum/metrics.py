"""Per-request SQL count and time, slow-query logging, and cache hit/miss counters (Prometheus).

Under gunicorn the metrics live in PROMETHEUS_MULTIPROC_DIR (one file per worker) and `/metrics`
(django_prometheus' view) aggregates them with MultiProcessCollector; deploy/gunicorn.conf.py
marks dead workers. The benchmark reads the same counters to report SQL per request.
"""

from __future__ import annotations

import contextvars
import logging
import time
from contextlib import ExitStack

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django_prometheus.middleware import Metrics
from django_prometheus.utils import Time, TimeSince
from prometheus_client import Counter, Histogram

slow_sql_logger = logging.getLogger("cerebrum.slow_sql")

SQL_QUERIES = Histogram(
    "cerebrum_sql_queries_per_request",
    "SQL statements executed while serving one request",
    buckets=(0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50, 100),
)
SQL_TIME = Histogram(
    "cerebrum_sql_time_seconds",
    "Time spent in SQL while serving one request",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
SQL_QUERIES_TOTAL = Counter("cerebrum_sql_queries_total", "SQL statements executed inside requests")
SQL_SECONDS_TOTAL = Counter("cerebrum_sql_seconds_total", "Seconds spent in SQL inside requests")
REQUESTS_TOTAL = Counter("cerebrum_requests_total", "Requests measured by the SQL middleware")
CACHE_REQUESTS = Counter(
    "cerebrum_cache_requests_total", "Cache lookups by outcome", ["result", "cache"]
)  # result: hit|miss; cache: page|object|session-user|attempt|content|names


class _RequestStats:
    __slots__ = ("queries", "seconds", "cache_hits", "cache_misses")

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0
        self.cache_hits = 0
        self.cache_misses = 0


_current: contextvars.ContextVar[_RequestStats | None] = contextvars.ContextVar("cerebrum_request_stats", default=None)


# The lookups that decide a response's X-Cache header: its page, or the objects it was built from.
# The session's user, a running attempt, a test by slug and leaderboard names are counted in the
# metrics only; they are read on nearly every request and would make every X-Cache say HIT.
_RESPONSE_CACHES = frozenset({"page", "object"})


def record_cache(*, hit: bool, cache: str = "object") -> None:
    """Count one cache lookup; page and object lookups inside a request also decide its X-Cache header."""
    CACHE_REQUESTS.labels(result="hit" if hit else "miss", cache=cache).inc()
    stats = _current.get()
    if stats is not None and cache in _RESPONSE_CACHES:
        if hit:
            stats.cache_hits += 1
        else:
            stats.cache_misses += 1


def _make_wrapper(stats: _RequestStats):
    threshold = settings.SLOW_QUERY_MS / 1000

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            stats.queries += 1
            stats.seconds += elapsed
            if elapsed > threshold:
                alias = context["connection"].alias
                slow_sql_logger.warning("slow query %.1f ms on %s: %s", elapsed * 1000, alias, sql[:2000])

    return wrapper


class QueryMetricsMiddleware:
    """Wraps every database connection for the request; exports SQL count/time and sets X-Cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        stats = _RequestStats()
        token = _current.set(stats)
        wrapper = _make_wrapper(stats)
        try:
            with ExitStack() as stack:
                for alias in settings.DATABASES:
                    stack.enter_context(connections[alias].execute_wrapper(wrapper))
                response = self.get_response(request)
        finally:
            _current.reset(token)
        self._export(stats, response)
        return response

    @staticmethod
    def _export(stats: _RequestStats, response: HttpResponse) -> None:
        REQUESTS_TOTAL.inc()
        SQL_QUERIES.observe(stats.queries)
        SQL_TIME.observe(stats.seconds)
        SQL_QUERIES_TOTAL.inc(stats.queries)
        SQL_SECONDS_TOTAL.inc(stats.seconds)
        if settings.SQL_COUNT_HEADER:  # the benchmark's per-endpoint SQL count; off in production
            response["X-SQL-Queries"] = str(stats.queries)
        if "X-Cache" not in response and (stats.cache_hits or stats.cache_misses):
            response["X-Cache"] = "MISS" if stats.cache_misses else "HIT"


_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH"})


class RequestMetricsMiddleware:
    """Last in the stacks: django-prometheus' per-view request metrics, only those something reads.

    `django_http_requests_total_by_method`, `django_http_responses_total_by_status` and
    `django_http_requests_latency_seconds_by_view_method` (deploy/prometheus/alerts.yml, docs/operations.md)
    and the exceptions by type and view, in django-prometheus' own metric objects. Its
    PrometheusAfterMiddleware also kept eleven more series per request nobody reads (by transport,
    by view+transport+method, by status+view+method, by template, by charset, streaming, request and
    response body-size histograms, AJAX): about 300 Python calls of every request, a tenth of an
    exam answer's (bench/cost.py). PrometheusBeforeMiddleware stays as it is (the benchmark reads it).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.metrics = Metrics.get_instance()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        method = request.method if request.method in _KNOWN_METHODS else "<invalid method>"
        self.metrics.requests_by_method.labels(method=method).inc()
        started = Time()
        response = self.get_response(request)
        self.metrics.responses_by_status.labels(status=str(response.status_code)).inc()
        self.metrics.requests_latency_by_view_method.labels(view=_view_name(request), method=request.method).observe(
            TimeSince(started)
        )
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        self.metrics.exceptions_by_type.labels(type=type(exception).__name__).inc()
        self.metrics.exceptions_by_view.labels(view=_view_name(request)).inc()


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match is not None else None) or "<unnamed view>"
