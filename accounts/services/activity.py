"""When a learner was last active (`User.last_active_at`, read by the inactivity nudge and the admin).

The request path only marks activity: at most once per user per 5 minutes (an in-process mark spares
Redis a learner's burst of requests; `cache.add` makes one process win), one ZADD of the user's id and
the time into a Redis sorted set. `last_active_flush` (the `accounts.last_active_flush` beat task, every
minute) takes the whole set atomically and writes it with one bulk UPDATE per 1,000 users, so no
middleware writes to the database (issue 16 item 4). A mark lost to a crash between taking and writing
is made again by the learner's next request after the 5 minutes; the nudge looks for a week's silence.

Without Redis (the embedded default, which runs no beat either) marks wait in this process's memory
until `last_active_flush` is called.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django_redis import get_redis_connection

from accounts.models import User
from cerebrum.cache import l1_get, l1_set

MARK_EVERY_SECONDS = 5 * 60
PENDING_KEY = "accounts:last-active"  # sorted set: user id → Unix time of the newest unwritten mark
FLUSH_BATCH = 1000

# KEYS[1] the pending set. Returns it (id, score, id, score …) and empties it in one step.
_TAKE_LUA = """
local items = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
redis.call('DEL', KEYS[1])
return items
"""

_memory: dict[int, float] = {}
_memory_lock = threading.Lock()


def last_active_mark(*, user_id: int, now: datetime | None = None) -> bool:
    """Note that `user_id` is active now, unless noted in the last 5 minutes; True when noted.

    Writes nothing to the database; costs nothing on most requests, two Redis calls on the first.
    """
    key = f"accounts:active:{user_id}"
    if l1_get(key) is True:
        return False
    l1_set(key, True, MARK_EVERY_SECONDS)
    if not cache.add(key, 1, MARK_EVERY_SECONDS):
        return False
    moment = (now or timezone.now()).timestamp()
    if settings.REDIS_URL:
        get_redis_connection("default").zadd(PENDING_KEY, {user_id: moment})
    else:
        with _memory_lock:
            _memory[user_id] = max(moment, _memory.get(user_id, 0))
    return True


def last_active_flush() -> int:
    """Write the pending marks to `User.last_active_at` (bulk, no signals); returns how many users."""
    pending = _pending_take()
    users = [User(pk=user_id, last_active_at=datetime.fromtimestamp(moment, tz=UTC)) for user_id, moment in pending]
    if users:
        # bulk_update sends no signal: the session-user cache (accounts.backends) keeps its copy.
        User.objects.bulk_update(users, ["last_active_at"], batch_size=FLUSH_BATCH)
    return len(users)


def _pending_take() -> list[tuple[int, float]]:
    if settings.REDIS_URL:
        items = get_redis_connection("default").eval(_TAKE_LUA, 1, PENDING_KEY)
        return [(int(items[i]), float(items[i + 1])) for i in range(0, len(items), 2)]
    with _memory_lock:
        taken = list(_memory.items())
        _memory.clear()
    return taken
