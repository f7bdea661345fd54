"""The platform part of caching: an in-process L1 (bounded, seconds) in front of Redis (L2, Django's cache),
single-flight builds, version keys, rows as plain data, the Redis circuit breaker. It holds no app's keys:
each app's keys, TTLs and invalidation live in its own `caches.py` (docs/caching.md lists them all).

`get_or_build` is the one way expensive keys are filled: at most one builder at a time per key
across all processes (a short Redis lock), everyone else waits briefly for the result instead of
stampeding PostgreSQL. If Redis is down, the cache calls fail soft and the builder runs.

Two rules every owner's dict caches follow (docs/caching.md):
- `shaped(prefix, Shape)`: a cached dict's key carries the digest of its declared shape, so a release that
  changes the shape never reads the previous release's dicts (a missing key was a 500 until they expired).
- `versioned_get_or_build` / `versions_bump`: a cache of rows that a write invalidates stores its entry
  with the version it read *before* reading the rows; the write bumps the version after its commit. A
  reader that read the old rows just before the commit stores them under the old version, never served.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import redis
from cachetools import TTLCache
from django.conf import settings
from django.core.cache import cache, caches
from django.db import models, router
from django_redis.cache import RedisCache
from django_redis.compressors.zlib import ZlibCompressor
from redis.client import Pipeline
from redis.lock import Lock as RedisLock

from cerebrum.db_router import read_from_primary
from cerebrum.edge import EDGE_KEYS, edge_purge
from cerebrum.metrics import record_cache
from cerebrum.shapes import shape_digest

# The platform's own keys (docs/caching.md): version counters, single-flight locks, the page caches'
# entries (cerebrum.http_cache), stored API answers for Idempotency-Key (cerebrum.api_tools) and the keys
# of nginx's page copies (cerebrum.edge).
PAGE_VERSION = "pagever"
LOCK = "lock"
PUBLIC_PAGE = "page"
MEMBER_PAGE = "mpage"
IDEMPOTENT_ANSWER = "idem"
IDEMPOTENCY_LOCK = "idem-lock"
KEYS = (PAGE_VERSION, LOCK, PUBLIC_PAGE, MEMBER_PAGE, IDEMPOTENT_ANSWER, IDEMPOTENCY_LOCK, EDGE_KEYS)

_MISSING = object()
L1_MAX_SECONDS = 30
_l1: TTLCache = TTLCache(maxsize=2048, ttl=L1_MAX_SECONDS)
_l1_lock = threading.Lock()


def l1_get(key: str) -> Any:
    with _l1_lock:
        entry = _l1.get(key, _MISSING)
    if entry is _MISSING:
        return _MISSING
    value, expires = entry
    return value if expires > time.monotonic() else _MISSING


def l1_set(key: str, value: Any, seconds: int) -> None:
    with _l1_lock:
        _l1[key] = (value, time.monotonic() + min(seconds, L1_MAX_SECONDS))


def l1_clear() -> None:
    with _l1_lock:
        _l1.clear()


def get_or_build(
    key: str,
    builder: Callable[[], Any],
    *,
    timeout: int,
    l1_seconds: int = 0,
    lock_seconds: int = 10,
    wait_seconds: float = 5.0,
    version_key: str | None = None,
) -> tuple[Any, bool]:
    """Return (value, was_hit). Builds at most once at a time per key across processes.

    The builder's reads go to the primary (cerebrum.db_router.primary_reads): a fill from a lagging
    replica would keep the old rows under the key a write just dropped, for the whole timeout.
    With `version_key` the value is a versioned entry (see versioned_get_or_build; the version is read in
    the same MGET): a write that changes what the builder reads calls versions_bump after its commit.
    """
    builder = _on_primary(builder)
    if l1_seconds:
        value = l1_get(key)
        if value is not _MISSING:
            record_cache(hit=True)
            return value, True
    version = None
    if version_key is None:
        value = _prefetched_get(key)
        if value is _MISSING:
            value = cache.get(key, _MISSING)
    else:
        found = get_many([version_key, key])
        version = found.get(version_key) or version_new(version_key)
        value = _current(found.get(key, _MISSING), version)
    hit = value is not _MISSING
    if not hit:
        value = _build_single_flight(
            key, builder, version=version, timeout=timeout, lock_seconds=lock_seconds, wait_seconds=wait_seconds
        )
    record_cache(hit=hit)
    if l1_seconds:
        l1_set(key, value, l1_seconds)
    return value, hit


# A page made of several cached parts owned by different apps (the dashboard: courses' data, practice's
# revision line) reads them in one MGET instead of one GET each, keeping a hit within the budget of 3
# Redis round trips. Only inside `prefetched()`, which clears the copies when it exits: nothing read
# ahead outlives the block, so a worker thread's next request never sees them.
_prefetched: contextvars.ContextVar[dict | None] = contextvars.ContextVar("cerebrum_cache_prefetched", default=None)


@contextlib.contextmanager
def prefetched(keys: list[str]) -> Iterator[None]:
    """Within the block, get_or_build and get_many take these keys from one MGET made now."""
    found = cache.get_many(keys) if keys else {}
    token = _prefetched.set({key: found.get(key, _MISSING) for key in keys})  # a miss is known, too
    try:
        yield
    finally:
        _prefetched.reset(token)


def get_many(keys: list[str]) -> dict[str, Any]:
    """{key: value} of the keys found: from the enclosing `prefetched()` block when it read them all (no
    round trip), else one MGET."""
    ahead = _prefetched.get()
    if ahead and all(key in ahead for key in keys):
        return {key: ahead[key] for key in keys if ahead[key] is not _MISSING}
    return cache.get_many(keys)


def _prefetched_get(key: str) -> Any:
    found = _prefetched.get()
    return found.get(key, _MISSING) if found else _MISSING


def warm(key: str, builder: Callable[[], Any], *, timeout: int) -> Any:
    """Build and store `key` now, whatever is cached: pre-warming before a scheduled exam start."""
    value = read_from_primary(builder)
    cache.set(key, value, timeout)
    return value


def _on_primary(builder: Callable[[], Any]) -> Callable[[], Any]:
    return lambda: read_from_primary(builder)


def _build_single_flight(
    key: str, builder: Callable[[], Any], *, version: str | None, timeout: int, lock_seconds: int, wait_seconds: float
) -> Any:
    lock_key, token = f"{LOCK}:{key}", uuid.uuid4().hex
    deadline = time.monotonic() + wait_seconds
    while True:
        acquired = cache.add(lock_key, token, lock_seconds)
        if acquired is None:  # django-redis swallowed a connection error: Redis is down, just build
            return builder()
        if acquired:
            break
        # Someone else is building: wait for their result rather than stampede the database.
        time.sleep(0.02)
        value = _current(cache.get(key, _MISSING), version)
        if value is not _MISSING:
            return value
        if time.monotonic() > deadline:
            return builder()
    try:
        value = _current(cache.get(key, _MISSING), version)  # built while we were acquiring
        if value is _MISSING:
            value = builder()
            cache.set(key, value if version is None else {"version": version, "data": value}, timeout)
        return value
    finally:
        lock_release(lock_key, token)


# Delete a lock only while it holds the releaser's token (one round trip; KEYS[1] the raw key, ARGV[1] the
# token): a builder slower than its lock's expiry must not free the lock a second builder took since, or a
# third would build too. redis-py's own Lock releases with this script.
LOCK_RELEASE_SCRIPT = RedisLock.LUA_RELEASE_SCRIPT


def lock_release(lock_key: str, token: str) -> None:
    """Release `lock_key` (a cache key, as given to cache.add) if it still holds `token`."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):  # local memory: one process, no other builder to free
        if backend.get(lock_key) == token:
            backend.delete(lock_key)
        return
    client = backend.client
    with contextlib.suppress(redis.RedisError):  # Redis down: the lock expires by itself
        client.get_client(write=True).eval(LOCK_RELEASE_SCRIPT, 1, client.make_key(lock_key), client.encode(token))


def page_version_key(area: str) -> str:
    return f"{PAGE_VERSION}:{area}"


def page_cache_bump(area: str) -> None:
    """Make every cached page of `area` (an app label) stale, here and in nginx (cerebrum.edge); call after a
    content write commits."""
    _version_bump(page_version_key(area))
    edge_purge()


def _version_bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # no version yet, or evicted: start from the clock so no old entry can match
        cache.set(key, int(time.time() * 1000), None)


# --- Shapes and versions of cached dicts --------------------------------------------------------


def shaped(prefix: str, shape: Any) -> str:
    """`<prefix>:<digest of shape>` (cerebrum.shapes.shape_digest): the key prefix of values of `shape`, a
    TypedDict or a type such as `dict[str, Entry]`. A release that adds, drops or retypes a key (nested keys
    too) reads and writes under a new prefix: the previous release's dicts are a miss, rebuilt, never a
    KeyError. The previous prefix's entries are left to their TTL."""
    return f"{prefix}:{shape_digest(shape)}"


# A version lives longer than the entries it guards (the longest is a day): when it expires or is evicted,
# the next reader makes a new random one, so entries stored under the old one are only a miss.
VERSION_SECONDS = 24 * 60 * 60


def versioned_get_or_build(key: str, version_key: str, builder: Callable[[], Any], *, timeout: int) -> Any:
    """The value stored at `key` under the current version of `version_key`, else builder()'s (read on the
    primary) stored under the version read before it ran. One MGET on a hit (none inside a `prefetched()`
    block that read both keys); Redis down: builder() each time."""
    found, versions = versioned_get_many({key: version_key})
    record_cache(hit=key in found)
    if key in found:
        return found[key]
    value = read_from_primary(builder)
    versioned_set_many({key: (versions[key], value)}, timeout)
    return value


def versioned_get_many(keys: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """({key: value} of the entries current, {key: version to store a rebuilt value under}) of `keys`, a
    {key: its version key} map. One MGET, and one more round trip when version keys are missing (new random
    versions, `versions_new`). Read the rows to rebuild *after* this call: that order is what makes a
    racing write's bump win."""
    version_keys = list(dict.fromkeys(keys.values()))
    found = get_many([*version_keys, *keys])
    current = {version_key: found[version_key] for version_key in version_keys if found.get(version_key)}
    current |= versions_new([version_key for version_key in version_keys if version_key not in current])
    versions = {key: current[version_key] for key, version_key in keys.items()}
    values = {key: _current(found.get(key, _MISSING), version) for key, version in versions.items()}
    return {key: value for key, value in values.items() if value is not _MISSING}, versions


def versioned_set_many(entries: dict[str, tuple[str, Any]], timeout: int) -> None:
    """Store {key: (version, value)} in one round trip; a value without a version (Redis was down) is not stored."""
    stored = {key: {"version": version, "data": value} for key, (version, value) in entries.items() if version}
    if stored:
        cache.set_many(stored, timeout)


def versions_bump(version_keys: list[str]) -> None:
    """Every entry stored under these versions is stale (one round trip). Call it after the write commits."""
    if version_keys:
        cache.set_many({key: uuid.uuid4().hex for key in version_keys}, VERSION_SECONDS)


def _current(entry: Any, version: str | None) -> Any:
    """The data of a versioned entry stored under `version`, else _MISSING; an unversioned value as it is."""
    if version is None:
        return entry
    if version and isinstance(entry, dict) and entry.get("version") == version:
        return entry["data"]
    return _MISSING


def versions_new(version_keys: list[str]) -> dict[str, str]:
    """{version key: its version} for keys found missing, each made now where it still is (SET NX, as
    version_new) and read back, all in one round trip: an ADD each grew with the rows (a leaderboard's ten
    names after a Redis restart, or once a day as their users' versions expire, were ten round trips).
    "" for each when Redis is down."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache) or len(version_keys) < 2:  # local memory, or one key: ADD it
        return {version_key: version_new(version_key) for version_key in version_keys}
    client = backend.client
    try:
        pipe = client.get_client(write=True).pipeline(transaction=False)
        for version_key in version_keys:
            raw_key = client.make_key(version_key)
            pipe.set(raw_key, client.encode(uuid.uuid4().hex), nx=True, ex=VERSION_SECONDS)
            pipe.get(raw_key)  # a racing reader's version, when theirs was set first
        replies = pipe.execute()[1::2]
    except redis.RedisError:
        return dict.fromkeys(version_keys, "")
    return {key: client.decode(value) if value else "" for key, value in zip(version_keys, replies, strict=True)}


def version_new(version_key: str) -> str:
    """The version at `version_key`, made now (one ADD) when it is missing, as a new row's first version;
    "" when Redis is down."""
    token = uuid.uuid4().hex
    added = cache.add(version_key, token, VERSION_SECONDS)
    if added is None:  # django-redis swallowed a connection error: Redis is down, nothing can be versioned
        return ""
    return token if added else (cache.get(version_key) or "")  # a racing reader's version won: use it


# --- Rows as plain data ---------------------------------------------------------------------------
# Model instances are never pickled into the cache: a pickle carries Django's private state and breaks
# when the model changes. A row is cached as {column: value} and rebuilt with Model.from_db, Django's
# documented constructor for loaded rows; a row cached before a model change is simply a miss.


def row_dump(instance: models.Model, *, related: tuple[str, ...] = ()) -> dict:
    """{"columns": {attname: value}, "related": {name: row_dump or None}} of a loaded instance."""
    return {
        "columns": {column: getattr(instance, column) for column in _columns(type(instance))},
        "related": {name: _related_dump(getattr(instance, name)) for name in related},
    }


def row_load(model: type[models.Model], row: dict) -> models.Model | None:
    """The instance row_dump stored, with its related rows set; None when the model's columns changed."""
    columns = _columns(model)
    if tuple(row["columns"]) != columns:
        return None
    instance = model.from_db(router.db_for_read(model), columns, list(row["columns"].values()))
    for name, related in row["related"].items():
        target = None
        if related is not None:
            target = row_load(model._meta.get_field(name).related_model, related)
            if target is None:
                return None
        setattr(instance, name, target)
    return instance


def _related_dump(instance: models.Model | None) -> dict | None:
    return None if instance is None else row_dump(instance)


@functools.cache
def _columns(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


# --- Circuit breaker for Redis ------------------------------------------------------------------
# A hung Redis costs every call its socket timeout; a page makes several calls, so each request would
# wait seconds and the workers' threads would all be stuck. After one failed call this process skips
# Redis for settings.REDIS_BREAKER_SECONDS (callers see the ConnectionError they already handle:
# django-redis ignores it, cacheops degrades), then lets calls through again to probe.
_breaker = {"open_until": 0.0}
_BREAKING_ERRORS = (redis.ConnectionError, redis.TimeoutError)


def redis_breaker_open() -> bool:
    return _breaker["open_until"] > time.monotonic()


def redis_breaker_reset() -> None:
    _breaker["open_until"] = 0.0


def _guarded(call: Callable[[], Any]) -> Any:
    if redis_breaker_open():
        raise redis.ConnectionError("Redis circuit open: skipping Redis for a few seconds")
    try:
        return call()
    except _BREAKING_ERRORS:
        _breaker["open_until"] = time.monotonic() + settings.REDIS_BREAKER_SECONDS
        raise


class BreakerPipeline(Pipeline):
    def execute(self, raise_on_error: bool = True):
        return _guarded(lambda: super(BreakerPipeline, self).execute(raise_on_error))


class BreakerRedis(redis.Redis):
    """redis.Redis with the breaker; django-redis (REDIS_CLIENT_CLASS) and cacheops (CACHEOPS_CLIENT_CLASS) use it."""

    def execute_command(self, *args, **options):
        return _guarded(lambda: super(BreakerRedis, self).execute_command(*args, **options))

    def pipeline(self, transaction: bool = True, shard_hint=None) -> BreakerPipeline:
        return BreakerPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


class BigValueZlibCompressor(ZlibCompressor):
    """Compress only values worth it (papers, pages); small keys stay raw and cost no CPU."""

    min_length = 1024
