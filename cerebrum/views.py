"""Operations endpoints: liveness without I/O, readiness that names what is down."""

from __future__ import annotations

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django_redis import get_redis_connection


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ready() -> str | None:
    """None when `SELECT 1` succeeds; a connection dropped mid-probe gets one retry on a fresh one.

    A killed connection (failover, PgBouncer restart) says nothing about the database: only a second
    failure on a new connection does.
    """
    failure = None
    for _ in range(2):
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:  # any driver error means not ready
            failure = f"database: {exc.__class__.__name__}"
            connections["default"].close()
        else:
            return None
    return failure


def _redis_ready() -> str | None:
    if not settings.REDIS_URL:
        return None
    try:
        get_redis_connection("default").ping()
    except Exception as exc:  # connection refused, timeout, auth
        return f"redis: {exc.__class__.__name__}"
    return None


@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    failures = [failure for failure in (_database_ready(), _redis_ready()) if failure]
    if failures:
        return JsonResponse({"status": "unavailable", "failing": failures}, status=503)
    return JsonResponse({"status": "ready"})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the site's own 403 page (issue 14 item 10), rendered with the request so it
    has the header and navigation; `reason` is Django's technical cause and is not shown."""
    return render(request, "403_csrf.html", status=403)
