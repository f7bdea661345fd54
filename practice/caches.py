"""Cache keys the practice app owns: a learner's revision summary (due today, streak) for the dashboard.

The key carries the summary's shape (cerebrum.cache.shaped) and the IST date, so "due today" turns over at
midnight by itself. It is stored with the learner's revision version (`revision-summary-version:<user id>`);
ratings and new cards bump that version after commit (`revision_summary_forget`), so a summary built from
rows read just before such a commit is never served. Redis missing or down: built from PostgreSQL.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cerebrum.cache import shaped, versioned_get_or_build, versions_bump
from practice.shapes import RevisionSummary

REVISION_SUMMARY = "revision-summary:v1"
REVISION_SUMMARY_VERSION = "revision-summary-version"
KEYS = (REVISION_SUMMARY, REVISION_SUMMARY_VERSION)  # docs/caching.md lists each key, its TTL and what drops it
REVISION_SUMMARY_TIMEOUT = 5 * 60
REVISION_SUMMARY_SHAPED = shaped(REVISION_SUMMARY, RevisionSummary)


def revision_summary_key(user_id: int, day=None) -> str:
    return f"{REVISION_SUMMARY_SHAPED}:{user_id}:{(day or timezone.localdate()).isoformat()}"


def revision_summary_version_key(user_id: int) -> str:
    return f"{REVISION_SUMMARY_VERSION}:{user_id}"


def revision_summary_keys(user_id: int) -> list[str]:
    """The keys one read takes (in one MGET): the dashboard page reads them with its own."""
    return [revision_summary_version_key(user_id), revision_summary_key(user_id)]


def revision_summary_get_or_build(user_id: int, builder) -> RevisionSummary:
    return versioned_get_or_build(
        revision_summary_key(user_id),
        revision_summary_version_key(user_id),
        builder,
        timeout=REVISION_SUMMARY_TIMEOUT,
    )


def revision_summary_forget(user_id: int) -> None:
    """After the current transaction commits, the learner's summary is rebuilt on the next read."""
    transaction.on_commit(lambda: versions_bump([revision_summary_version_key(user_id)]))
