"""Cache keys the accounts app owns: the session's user, profiles, roles, names, and login/reset counters.

Every key, its TTL and what drops it is listed in docs/caching.md (`KEYS` below is checked against it).
Values are plain data (dicts, strings, integers), never pickled model instances: a cached row survives
a deploy that changes the model, and nothing of Django's private state is stored or rebuilt by hand.
Redis missing (embedded default: local memory) or down: every read falls back to PostgreSQL.

Invalidation: the session user, profile, role and name are stored with the user's version
(`accounts:user-version:<id>`, cerebrum.cache.versioned_get_many); any save or delete of a user (services,
the admin, a password change) bumps it, now and again after the commit, through the receivers connected
in `AccountsConfig.ready`. A request that read the old row just before the commit stores it under the
version the commit replaced: never served (deleting the keys let it stay for its whole TTL).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from accounts.models import User
from accounts.shapes import Profile
from cerebrum.cache import (
    l1_get,
    l1_set,
    row_dump,
    row_load,
    shaped,
    versioned_get_many,
    versioned_get_or_build,
    versioned_set_many,
    versions_bump,
)
from cerebrum.metrics import record_cache

logger = logging.getLogger(__name__)

USER_VERSION = "accounts:user-version"
SESSION_USER = "accounts:session-user:v3"  # v3: stored with the user's version; v2 was not
PROFILE = "accounts:profile:v2"  # v2: stored with the user's version, key with the shape's digest
ROLE = "accounts:role:v2"  # v2: stored with the user's version
NAME = "accounts:name:v2"  # v2: stored with the user's version
LOGIN_FAILURES = "accounts:login-failures"
PASSWORD_RESETS = "accounts:password-reset"
ACTIVE = "accounts:active"
ACTIVE_PENDING = "accounts:last-active"  # sorted set: user id → Unix time of the newest unwritten mark
KEYS = (USER_VERSION, SESSION_USER, PROFILE, ROLE, NAME, LOGIN_FAILURES, PASSWORD_RESETS, ACTIVE, ACTIVE_PENDING)

# Every signed-in request needs its user; a users SELECT (and its ORM compilation) was ~15 % of a
# cached page's CPU. Redis only, no in-process copy: a deactivation or a password change must end
# the sessions on every app server at once, and deleting one Redis key does that.
SESSION_USER_SECONDS = 5 * 60
# Cache-aside (design.md, report 2.2): the profile changes rarely; the receivers below drop it on save.
PROFILE_SECONDS = 30 * 60
ROLE_SECONDS = 2 * 60 * 60
NAME_SECONDS = 24 * 60 * 60  # leaderboards show names


PROFILE_SHAPED = shaped(PROFILE, Profile)


def user_version_key(user_id) -> str:
    return f"{USER_VERSION}:{user_id}"


def session_user_key(user_id) -> str:
    return f"{SESSION_USER}:{user_id}"


def profile_key(user_id: int) -> str:
    return f"{PROFILE_SHAPED}:{user_id}"


def role_key(user_id: int) -> str:
    return f"{ROLE}:{user_id}"


def name_key(user_id: int) -> str:
    return f"{NAME}:{user_id}"


# --- The session's user -------------------------------------------------------------------------


def session_user_get_or_load(user_id, loader: Callable[[], User | None]) -> User | None:
    """The user from Redis (one MGET with their version), else loader() and then cached as plain data
    (cerebrum.cache.row_dump) under the version read before loader() ran."""
    key = session_user_key(user_id)
    found, versions = versioned_get_many({key: user_version_key(user_id)})
    user = row_load(User, found[key]) if key in found else None
    record_cache(hit=user is not None, cache="session-user")
    if user is None:
        user = loader()
        if user is not None:
            versioned_set_many({key: (versions[key], row_dump(user))}, SESSION_USER_SECONDS)
    return user


# --- Profile, role and name (accounts.selectors reads them) ----------------------------------


def profile_get_or_build(user_id: int, builder: Callable[[], Profile | None]) -> Profile | None:
    return versioned_get_or_build(profile_key(user_id), user_version_key(user_id), builder, timeout=PROFILE_SECONDS)


def role_get_or_build(user_id: int, builder: Callable[[], str]) -> str:
    return versioned_get_or_build(role_key(user_id), user_version_key(user_id), builder, timeout=ROLE_SECONDS)


def names_get_or_load(user_ids: list[int], loader: Callable[[list[int]], dict[int, str]]) -> dict[int, str]:
    """{id: name}: one MGET (names with their users' versions), loader(missing ids) for the rest, stored."""
    keys = {user_id: name_key(user_id) for user_id in user_ids}
    found, versions = versioned_get_many({key: user_version_key(user_id) for user_id, key in keys.items()})
    names = {user_id: found[key] for user_id, key in keys.items() if key in found}
    missing = [user_id for user_id in user_ids if user_id not in names]
    if user_ids:
        record_cache(hit=not missing, cache="names")
    if missing:
        loaded = loader(missing)
        versioned_set_many(
            {keys[user_id]: (versions[keys[user_id]], name) for user_id, name in loaded.items()}, NAME_SECONDS
        )
        names.update(loaded)
    return names


def user_forget(user_id: int) -> None:
    """Every cached copy of one user (session user, profile, role, name) is stale: their version moves."""
    versions_bump([user_version_key(user_id)])


def _user_forget_on_change(sender, instance: User, **kwargs) -> None:
    """Any save of a user (services, the admin, a password change) makes every cached copy of them stale.

    Now and again after the commit: what a reader stored in between (the old row, read before the
    commit) is under the version the commit replaced. QuerySet.update() sends no signal; only
    last_active_at is written that way.
    """
    user_id = instance.pk
    user_forget(user_id)
    transaction.on_commit(lambda: user_forget(user_id), robust=True)


def connect_signals() -> None:
    """Called once from AccountsConfig.ready."""
    post_save.connect(_user_forget_on_change, sender=User, dispatch_uid="accounts.caches.user_forget.save")
    post_delete.connect(_user_forget_on_change, sender=User, dispatch_uid="accounts.caches.user_forget.delete")


# --- Counters: failed logins per account (accounts.lockout), reset emails, last-active marks -----
# (accounts.services.activity: a mark per user per 5 minutes, pending marks flushed in bulk by a task)
# Not caches of rows but short-lived counters; they live in the default cache (Redis), so they are
# listed here with the rest of the app's keys.


def login_failure_bucket_keys(identity: str, bucket_seconds: int, buckets: int) -> list[str]:
    """The rolling window's per-minute counters of one account key, newest first."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    now = int(time.time()) // bucket_seconds
    return [f"{LOGIN_FAILURES}:{digest}:{minute}" for minute in range(now, now - buckets, -1)]


def counter_add(key: str, seconds: int) -> int | None:
    """Increment a counter that starts at 0 and lives `seconds`; None when the cache lost it (Redis down)."""
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:
        return None


def counter_give_back(key: str) -> None:
    with contextlib.suppress(ValueError):  # the counter expired meanwhile: nothing left to give back
        cache.decr(key)


def counters_sum(keys: list[str]) -> int:
    return sum(int(value or 0) for value in cache.get_many(keys).values())


def counters_clear(keys: list[str]) -> None:
    cache.delete_many(keys)


def password_reset_key(identity: str) -> str:
    return f"{PASSWORD_RESETS}:" + hashlib.sha256(identity.encode()).hexdigest()


def active_key(user_id: int) -> str:
    return f"{ACTIVE}:{user_id}"


# KEYS[1] the pending set. Returns it (id, score, id, score …) and empties it in one step.
_TAKE_LUA = """
local items = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
redis.call('DEL', KEYS[1])
return items
"""
# Without Redis (the embedded default, which runs no beat either) pending marks wait in this process.
_pending_memory: dict[int, float] = {}
_pending_lock = threading.Lock()


def active_claim(user_id: int, seconds: int) -> bool:
    """True for exactly one caller per user per `seconds`, across processes (SET NX).

    An in-process mark (L1, up to 30 s) spares Redis on a learner's burst of requests.
    """
    key = active_key(user_id)
    if l1_get(key) is True:
        return False
    l1_set(key, True, seconds)
    return bool(cache.add(key, 1, seconds))


def active_pending_add(user_id: int, moment: float) -> None:
    """Remember that `user_id` was active at `moment` (Unix seconds) until `active_pending_take`."""
    if settings.REDIS_URL:
        try:
            get_redis_connection("default").zadd(ACTIVE_PENDING, {user_id: moment})
        except RedisError:
            # Redis failed after the claim: this 5-minute mark is lost, the learner's request is not.
            logger.warning("last-active mark of user %s lost: Redis unavailable", user_id)
        return
    with _pending_lock:
        _pending_memory[user_id] = max(moment, _pending_memory.get(user_id, 0))


def active_pending_take() -> list[tuple[int, float]]:
    """Every pending (user id, Unix seconds), removed in the same step."""
    if settings.REDIS_URL:
        items = get_redis_connection("default").eval(_TAKE_LUA, 1, ACTIVE_PENDING)
        return [(int(items[i]), float(items[i + 1])) for i in range(0, len(items), 2)]
    with _pending_lock:
        taken = list(_pending_memory.items())
        _pending_memory.clear()
    return taken
