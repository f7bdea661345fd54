"""API building blocks shared by every app's apis.py: pagination, throttles, idempotency keys."""

from __future__ import annotations

import functools
import hashlib

import orjson
from django.core.cache import cache
from rest_framework import pagination, throttling
from rest_framework.response import Response

from cerebrum.api import error_body

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60


class CreatedCursorPagination(pagination.CursorPagination):
    """Stable cursor pages over (created_at, id), newest first (report 1.2)."""

    ordering = ("-created_at", "-id")
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class AuthRateThrottle(throttling.AnonRateThrottle):
    """Login, register and OTP: 10/min per client IP (report §6 auth zone)."""

    scope = "auth"


def idempotent(view_method):
    """Honour an `Idempotency-Key` header on a create endpoint.

    Same key + same body → the first response is replayed; same key + different body → 422; a request
    still in flight with the key → 409. Keys are scoped to the caller and kept 24 h in Redis.
    """

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view_method(self, request, *args, **kwargs)
        if len(key) > 200:
            return Response(
                error_body("invalid", "Idempotency-Key is too long.", {"Idempotency-Key": ["At most 200 characters."]}),
                status=400,
            )
        caller = f"u{request.user.pk}" if request.user.is_authenticated else f"ip{request.META.get('REMOTE_ADDR', '')}"
        scope = hashlib.sha256(f"{caller}|{request.path}|{key}".encode()).hexdigest()
        fingerprint = hashlib.sha256(orjson.dumps(request.data, option=orjson.OPT_SORT_KEYS)).hexdigest()
        stored = cache.get(f"idem:{scope}")
        if stored is not None:
            return _replay(stored, fingerprint)
        if not cache.add(f"idem-lock:{scope}", 1, 30):
            return Response(error_body("conflict", "A request with this Idempotency-Key is in progress."), status=409)
        try:
            response = view_method(self, request, *args, **kwargs)
            if response.status_code < 500:
                cache.set(
                    f"idem:{scope}",
                    {"fingerprint": fingerprint, "status": response.status_code, "data": response.data},
                    IDEMPOTENCY_TTL_SECONDS,
                )
            return response
        finally:
            cache.delete(f"idem-lock:{scope}")

    return wrapper


def _replay(stored: dict, fingerprint: str) -> Response:
    if stored["fingerprint"] != fingerprint:
        return Response(
            error_body("idempotency_mismatch", "This Idempotency-Key was used with a different request body."),
            status=422,
        )
    response = Response(stored["data"], status=stored["status"])
    response["Idempotent-Replayed"] = "true"
    return response
