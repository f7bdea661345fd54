"""Cache keys the staff reports own: the "backfill enqueued" mark per date range.

Listed in docs/caching.md (`KEYS` is checked against it).
"""

from __future__ import annotations

from django.core.cache import cache

BACKFILL = "reports:backfill"
KEYS = (BACKFILL,)
BACKFILL_SECONDS = 10 * 60


def backfill_claim(start, end) -> bool:
    """True once per BACKFILL_SECONDS per date range: only then is the backfill task enqueued again."""
    return bool(cache.add(f"{BACKFILL}:{start}:{end}", 1, timeout=BACKFILL_SECONDS))
