"""Cache keys the analytics app owns: the staff performance page's previous request-counter snapshot.

Every key, its TTL and what drops it is listed in docs/caching.md (`KEYS` is checked against it).
The event buffer's Redis lists (analytics.buffer) are a queue, not a cache: their keys are listed
here and in the doc so one table names every key in Redis, but analytics.buffer owns them.
"""

from __future__ import annotations

from django.core.cache import cache

from analytics.buffer import BUFFER_KEY, LOCK_KEY, PROCESSING_KEY, SEEN_PREFIX

PERFORMANCE_PREVIOUS = "analytics:perf:previous"
KEYS = (PERFORMANCE_PREVIOUS, BUFFER_KEY, PROCESSING_KEY, LOCK_KEY, SEEN_PREFIX.rstrip(":"))
PERFORMANCE_PREVIOUS_SECONDS = 60 * 60


def performance_previous_swap(snapshot: dict) -> dict | None:
    """Store this snapshot of the request counters and return the one before it (rates between the two)."""
    previous = cache.get(PERFORMANCE_PREVIOUS)
    cache.set(PERFORMANCE_PREVIOUS, snapshot, PERFORMANCE_PREVIOUS_SECONDS)
    return previous
