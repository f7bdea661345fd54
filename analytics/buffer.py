"""The Redis buffer between event ingestion and PostgreSQL (report §3.2 bulkCreateAnalyticsEvents).

Ingestion pushes a whole batch with one Lua call: each event id is remembered for an hour (so a
retried batch is reported as duplicates) and the new events are appended to the buffer list.

Flushing is a reliable-queue hand-over. One flusher at a time holds a Redis lock; it moves up to a
batch of events from the buffer to the processing list in one atomic step, writes them with
`bulk_create(ignore_conflicts=True)` and only then empties the processing list. A flusher killed
at any point leaves its events in the processing list; the next flusher (once the lock expires)
writes that list first. Events written before the crash are skipped by the unique event_id, so
nothing is lost and nothing is written twice.
"""

from __future__ import annotations

import contextlib

import orjson
from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

BUFFER_KEY = "analytics:buffer"
PROCESSING_KEY = "analytics:processing"
LOCK_KEY = "analytics:flush-lock"
SEEN_PREFIX = "analytics:seen:"
# A client retries within minutes; an hour of remembered ids keeps Redis small. Older duplicates are
# still dropped by the unique event_id when written.
SEEN_SECONDS = 60 * 60

# KEYS[1] buffer list; ARGV[1] seen-key prefix, ARGV[2] seen TTL, then (event_id, payload) pairs.
# Returns how many events were duplicates.
_PUSH_LUA = """
local fresh = {}
local duplicates = 0
for i = 3, #ARGV, 2 do
  if redis.call('SET', ARGV[1] .. ARGV[i], '1', 'NX', 'EX', ARGV[2]) then
    fresh[#fresh + 1] = ARGV[i + 1]
  else
    duplicates = duplicates + 1
  end
end
for i = 1, #fresh, 500 do
  redis.call('RPUSH', KEYS[1], unpack(fresh, i, math.min(i + 499, #fresh)))
end
return duplicates
"""

# KEYS[1] buffer, KEYS[2] processing; ARGV[1] batch size. Moves the head of the buffer atomically.
_MOVE_LUA = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
for i = 1, #items, 500 do
  redis.call('RPUSH', KEYS[2], unpack(items, i, math.min(i + 499, #items)))
end
redis.call('LTRIM', KEYS[1], #items, -1)
return items
"""

# KEYS[1] lock, KEYS[2] processing; ARGV[1] our lock token.
_DONE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
"""


class BufferUnavailable(Exception):
    """Redis is not configured or not answering: the caller writes straight to the database."""


def connection():
    if not settings.REDIS_URL:
        raise BufferUnavailable("no Redis configured")
    return get_redis_connection("default")


def push(events: list[dict]) -> int:
    """Append serialised events to the buffer in one Redis call; returns how many were duplicates."""
    args: list = [SEEN_PREFIX, SEEN_SECONDS]
    for event in events:
        args += [event["event_id"], orjson.dumps(event)]
    try:
        redis = connection()
        return int(redis.register_script(_PUSH_LUA)(keys=[BUFFER_KEY], args=args))
    except RedisError as error:
        raise BufferUnavailable(str(error)) from error


def length() -> int:
    redis = connection()
    return redis.llen(BUFFER_KEY) + redis.llen(PROCESSING_KEY)


class Flusher:
    """One run of the flush: holds the lock and hands out batches until the buffer is empty."""

    def __init__(self, *, batch_size: int, lock_seconds: int):
        self.redis = connection()
        self.batch_size = batch_size
        self.lock = self.redis.lock(LOCK_KEY, timeout=lock_seconds, blocking=False)
        self._move = self.redis.register_script(_MOVE_LUA)
        self._done = self.redis.register_script(_DONE_LUA)

    def __enter__(self) -> Flusher | None:
        return self if self.lock.acquire() else None

    def __exit__(self, *exc_info) -> None:
        # Expired while working: the next flusher simply finds a processing list to redo.
        with contextlib.suppress(RedisError):
            self.lock.release()

    def next_batch(self) -> list[dict]:
        """The orphaned processing list of a crashed flusher first, else the next head of the buffer."""
        self.lock.reacquire()
        items = self.redis.lrange(PROCESSING_KEY, 0, -1) or self._move(
            keys=[BUFFER_KEY, PROCESSING_KEY], args=[self.batch_size]
        )
        return [_decoded(item) for item in items]

    def done(self) -> bool:
        """The batch is committed to PostgreSQL: forget it, unless the lock was lost meanwhile.

        A flusher whose lock expired must not delete a list that the new holder may have refilled;
        leaving it costs only a rewrite that the unique event_id turns into a no-op.
        """
        token = self.lock.local.token
        return bool(self._done(keys=[LOCK_KEY, PROCESSING_KEY], args=[token]))


def _decoded(item: bytes) -> dict:
    """A buffered event; an undecodable item stays a dict the writer refuses, so it is set aside, not fatal."""
    try:
        event = orjson.loads(item)
    except orjson.JSONDecodeError:
        return {"undecodable": item.decode("utf-8", errors="replace")}
    return event if isinstance(event, dict) else {"undecodable": repr(event)}
