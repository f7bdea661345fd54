"""When a learner was last active (`User.last_active_at`, read by the inactivity nudge and the admin).

The request path only marks activity: at most once per user per 5 minutes (an in-process mark spares
Redis a learner's burst of requests; a Redis SET NX makes one process win), one ZADD of the user's id and
the time into a Redis sorted set. `last_active_flush` (the `accounts.last_active_flush` beat task, every
minute) takes the whole set atomically and writes it with one bulk UPDATE per 1,000 users, so no
middleware writes to the database (issue 16 item 4). A mark lost to a crash between taking and writing
is made again by the learner's next request after the 5 minutes; the nudge looks for a week's silence.

Without Redis (the embedded default, which runs no beat either) marks wait in this process's memory
until `last_active_flush` is called. The keys and that store are `accounts.caches`' (docs/caching.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from accounts import caches
from accounts.models import User

MARK_EVERY_SECONDS = 5 * 60
FLUSH_BATCH = 1000


def last_active_mark(*, user_id: int, now: datetime | None = None) -> bool:
    """Note that `user_id` is active now, unless noted in the last 5 minutes; True when noted.

    Writes nothing to the database; costs nothing on most requests, two Redis calls on the first.
    """
    if not caches.active_claim(user_id, MARK_EVERY_SECONDS):
        return False
    caches.active_pending_add(user_id, (now or timezone.now()).timestamp())
    return True


def last_active_flush() -> int:
    """Write the pending marks to `User.last_active_at` (bulk, no signals); returns how many users."""
    pending = caches.active_pending_take()
    users = [User(pk=user_id, last_active_at=datetime.fromtimestamp(moment, tz=UTC)) for user_id, moment in pending]
    if users:
        # bulk_update sends no signal: the session-user cache (accounts.caches) keeps its copy.
        User.objects.bulk_update(users, ["last_active_at"], batch_size=FLUSH_BATCH)
    return len(users)
