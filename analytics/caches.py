"""Cache keys the analytics app owns: the staff performance page's previous request-counter snapshot.

Every key, its TTL and what drops it is listed in docs/caching.md (`KEYS` is checked against it).
The event buffer's Redis lists (analytics.buffer) are a queue, not a cache: their keys are listed
here and in the doc so one table names every key in Redis, but analytics.buffer owns them.
"""

from __future__ import annotations

from typing import TypedDict

from django.core.cache import cache

from analytics.buffer import BUFFER_KEY, LOCK_KEY, PROCESSING_KEY, SEEN_PREFIX
from cerebrum.cache import shaped

PERFORMANCE_PREVIOUS = "analytics:perf:previous"
KEYS = (PERFORMANCE_PREVIOUS, BUFFER_KEY, PROCESSING_KEY, LOCK_KEY, SEEN_PREFIX.rstrip(":"))
PERFORMANCE_PREVIOUS_SECONDS = 60 * 60


class PerformanceSnapshot(TypedDict):
    at: float  # Unix seconds
    counts: dict[str, float]  # "view|method" → requests counted so far


# The key carries the snapshot's shape (cerebrum.cache.shaped): a release never reads the previous one's.
PERFORMANCE_PREVIOUS_SHAPED = shaped(PERFORMANCE_PREVIOUS, PerformanceSnapshot)


def performance_previous_swap(snapshot: PerformanceSnapshot) -> PerformanceSnapshot | None:
    """Store this snapshot of the request counters and return the one before it (rates between the two)."""
    previous = cache.get(PERFORMANCE_PREVIOUS_SHAPED)
    cache.set(PERFORMANCE_PREVIOUS_SHAPED, snapshot, PERFORMANCE_PREVIOUS_SECONDS)
    return previous
