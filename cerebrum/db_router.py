"""Reads to read replicas, writes to the primary, and read-your-writes for the learner who wrote.

Streaming replicas lag the primary by milliseconds to seconds. A learner who just submitted a test
and is redirected to the result must not read an old row, so after a write their reads stay on the
primary for READ_YOUR_WRITES_SECONDS:

- inside the request that wrote, a context variable pins the rest of the request to the primary;
- a short-lived cookie carries the pin to the learner's next requests (the redirect, the refresh),
  so no Redis round trip is needed on every read. Forging the cookie only sends reads to the
  primary, which is always correct, so it is not signed.

Reads inside an open transaction on the primary also stay there: a replica cannot see rows the
transaction has not committed yet. Code outside a request (Celery tasks, commands) is pinned the
same way for a few seconds after it writes.
"""

from __future__ import annotations

import contextvars
import random
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

PIN_COOKIE = "cb_rw"
_pinned_until: contextvars.ContextVar[float] = contextvars.ContextVar("cerebrum_pinned_until", default=0.0)
_wrote: contextvars.ContextVar[bool] = contextvars.ContextVar("cerebrum_wrote", default=False)


def pin_to_primary(seconds: float | None = None) -> None:
    """Send this context's reads to the primary for `seconds` (default READ_YOUR_WRITES_SECONDS)."""
    seconds = settings.READ_YOUR_WRITES_SECONDS if seconds is None else seconds
    _pinned_until.set(max(_pinned_until.get(), time.monotonic() + seconds))
    _wrote.set(True)


def is_pinned() -> bool:
    return _pinned_until.get() > time.monotonic()


class PrimaryReplicaRouter:
    """Installed by settings when DATABASE_REPLICA_URLS names at least one replica."""

    def db_for_read(self, model, **hints) -> str:
        replicas = settings.DATABASE_REPLICAS
        if not replicas or is_pinned() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return random.choice(replicas)

    def db_for_write(self, model, **hints) -> str:
        pin_to_primary()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Every alias holds the same data (replicas mirror the primary).
        return True

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReadYourWritesMiddleware:
    """Restores a learner's pin from the cookie, and sets the cookie when this request wrote."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        pinned_token = _pinned_until.set(self._pinned_until_from_cookie(request))
        wrote_token = _wrote.set(False)
        try:
            response = self.get_response(request)
            if _wrote.get():
                seconds = settings.READ_YOUR_WRITES_SECONDS
                response.set_cookie(
                    PIN_COOKIE, str(int(time.time() + seconds)), max_age=seconds, httponly=True, samesite="Lax"
                )
            return response
        finally:
            _pinned_until.reset(pinned_token)
            _wrote.reset(wrote_token)

    @staticmethod
    def _pinned_until_from_cookie(request: HttpRequest) -> float:
        try:
            wall_clock_until = int(request.COOKIES.get(PIN_COOKIE, "0"))
        except ValueError:
            return 0.0
        remaining = min(wall_clock_until - time.time(), settings.READ_YOUR_WRITES_SECONDS)
        return time.monotonic() + remaining if remaining > 0 else 0.0
