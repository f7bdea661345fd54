"""Cache keys the practice app owns: a learner's revision summary (due today, streak) for the dashboard.

The key carries the IST date, so "due today" turns over at midnight by itself; ratings and new cards
drop it after commit (`revision_summary_forget`). Redis missing or down: built from PostgreSQL.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from cerebrum.cache import get_or_build

REVISION_SUMMARY = "revision-summary:v1"
KEYS = (REVISION_SUMMARY,)  # docs/caching.md lists each key, its TTL and what drops it
REVISION_SUMMARY_TIMEOUT = 5 * 60


def revision_summary_key(user_id: int, day=None) -> str:
    return f"{REVISION_SUMMARY}:{user_id}:{(day or timezone.localdate()).isoformat()}"


def revision_summary_get_or_build(user_id: int, builder) -> dict:
    value, _ = get_or_build(revision_summary_key(user_id), builder, timeout=REVISION_SUMMARY_TIMEOUT)
    return value


def revision_summary_forget(user_id: int) -> None:
    """After the current transaction commits, the learner's summary is rebuilt on the next read."""
    transaction.on_commit(lambda: cache.delete(revision_summary_key(user_id)))
