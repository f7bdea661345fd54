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

A Celery task published from a pinned context (a request's on_commit after its write, a task that
wrote) carries the pin in a message header and reads the primary until it ends, as the cookie carries
it to the learner's next request: a worker picks the task up within milliseconds, before a replica
may have replayed the write that enqueued it.

Reads that fill a shared cache go to the primary (`primary_reads()`, and every read of a model
cacheops caches): a write drops or re-versions its cache entries when it commits, and a fill read
from a replica that has not replayed that commit yet would put the old rows back under the fresh
key, where every learner then reads them until the entry expires (minutes), long after the replica
caught up. Fills are the misses of a cache, so this costs the primary little.

A replica whose replay lags the primary by more than REPLICA_MAX_LAG_SECONDS, or that does not answer,
gets no reads until it catches up: they go to the primary (or to a replica that is fresh). Each process
asks each replica at most once per REPLICA_LAG_CHECK_SECONDS, so the check costs one small query per
replica per second, never one per request.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import threading
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

PIN_COOKIE = "cb_rw"
_pinned_until: contextvars.ContextVar[float] = contextvars.ContextVar("cerebrum_pinned_until", default=0.0)
_wrote: contextvars.ContextVar[bool] = contextvars.ContextVar("cerebrum_wrote", default=False)
_filling_cache: contextvars.ContextVar[bool] = contextvars.ContextVar("cerebrum_filling_cache", default=False)
logger = logging.getLogger(__name__)

# Seconds of replay lag on a standby: 0 when it has replayed all it received (an idle primary, or a
# paused standby that received nothing since) or when it is no standby (promoted); otherwise the age of
# the last transaction it replayed. PostgreSQL's own functions, documented in "Recovery Information Functions".
REPLICA_LAG_SQL = """
    SELECT CASE
        WHEN NOT pg_is_in_recovery() THEN 0
        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)
    END
"""
_lag_checked: dict[str, tuple[float, bool]] = {}  # alias -> (monotonic time of the check, fresh)
_lag_lock = threading.Lock()


def pin_to_primary(seconds: float | None = None) -> None:
    """Send this context's reads to the primary for `seconds` (default READ_YOUR_WRITES_SECONDS)."""
    seconds = settings.READ_YOUR_WRITES_SECONDS if seconds is None else seconds
    _pinned_until.set(max(_pinned_until.get(), time.monotonic() + seconds))
    _wrote.set(True)


def is_pinned() -> bool:
    return _pinned_until.get() > time.monotonic()


@contextlib.contextmanager
def primary_reads():
    """Reads inside go to the primary: wrap the loader of anything stored in a shared cache.

    Unlike pin_to_primary it ends with the block and sets no cookie (reading is not writing).
    """
    token = _filling_cache.set(True)
    try:
        yield
    finally:
        _filling_cache.reset(token)


def read_from_primary(loader):
    """loader() with its reads on the primary (primary_reads): for cache fills given as a callable."""
    with primary_reads():
        return loader()


def replica_lag_seconds(alias: str) -> float:
    """The replica's replay lag in seconds (REPLICA_LAG_SQL); raises DatabaseError when it is unreachable."""
    with connections[alias].cursor() as cursor:
        cursor.execute(REPLICA_LAG_SQL)
        return float(cursor.fetchone()[0])


def replica_is_fresh(alias: str) -> bool:
    """True if `alias` lags at most REPLICA_MAX_LAG_SECONDS; asked at most once per REPLICA_LAG_CHECK_SECONDS."""
    now = time.monotonic()
    checked = _lag_checked.get(alias)
    if checked and now - checked[0] < settings.REPLICA_LAG_CHECK_SECONDS:
        return checked[1]
    with _lag_lock:  # one thread of the process asks; the others use the last answer meanwhile
        checked = _lag_checked.get(alias)
        if checked and time.monotonic() - checked[0] < settings.REPLICA_LAG_CHECK_SECONDS:
            return checked[1]
        try:
            fresh = replica_lag_seconds(alias) <= settings.REPLICA_MAX_LAG_SECONDS
        except DatabaseError:
            logger.warning("replica %s did not answer the lag check; reading from the primary", alias)
            fresh = False
        if checked is None or checked[1] != fresh:
            logger.info("replica %s %s", alias, "serves reads" if fresh else "is behind: reads go to the primary")
        _lag_checked[alias] = (time.monotonic(), fresh)
        return fresh


def forget_replica_lag() -> None:
    """Drop every cached lag answer (tests; a deploy that swapped replicas)."""
    _lag_checked.clear()


TASK_PIN_HEADER = "cerebrum_read_primary_until"  # wall-clock seconds since the epoch (UTC)


def task_pin_header() -> dict[str, float]:
    """The header a task published now carries: {TASK_PIN_HEADER: until} while this context is pinned, else {}."""
    remaining = _pinned_until.get() - time.monotonic()
    return {TASK_PIN_HEADER: time.time() + remaining} if remaining > 0 else {}


def task_pin_from_header(until: float | None) -> contextvars.Token | None:
    """Pin a task's reads until the wall-clock `until` its header carried; the token undoes it (task end)."""
    remaining = min((until or 0) - time.time(), settings.READ_YOUR_WRITES_SECONDS)
    return _pinned_until.set(time.monotonic() + remaining) if remaining > 0 else None


def task_pin_reset(token: contextvars.Token | None) -> None:
    if token is not None:
        _pinned_until.reset(token)


# Statements that change nothing; anything else run on the primary pins the learner to it.
_READ_ONLY_STATEMENTS = ("SELECT", "SHOW", "SET", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


def pin_on_raw_write(execute, sql, params, many, context):
    """A write the router never saw (raw SQL through connection.cursor(), such as the answer upsert)
    pins like an ORM write: measured by `make drill`, a learner's answer then read straight back
    came from a lagging replica without it."""
    if not str(sql).lstrip().upper().startswith(_READ_ONLY_STATEMENTS):
        pin_to_primary()
    return execute(sql, params, many, context)


def _cached_by_cacheops(model) -> bool:
    """A read of a model cacheops caches reaches the database only to fill the cache (module docstring)."""
    return settings.CACHEOPS_ENABLED and model._meta.label_lower in settings.CACHEOPS


class PrimaryReplicaRouter:
    """Installed by settings when DATABASE_REPLICA_URLS names at least one replica."""

    def db_for_read(self, model, **hints) -> str:
        replicas = settings.DATABASE_REPLICAS
        if (
            not replicas
            or is_pinned()
            or _filling_cache.get()
            or _cached_by_cacheops(model)
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        fresh = [alias for alias in replicas if replica_is_fresh(alias)]
        return random.choice(fresh) if fresh else DEFAULT_DB_ALIAS

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
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(pin_on_raw_write):
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
