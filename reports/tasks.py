"""Rollup tasks of the staff reports (queue `analytics`); thin and safe to run twice.

The task names keep their `analytics.` prefix: they are the broker's contract (the beat schedule,
CELERY_TASK_ROUTES to the analytics queue, messages already queued when this module moved here).
"""

from datetime import date

from celery import shared_task
from django.conf import settings

from reports import rollups


@shared_task(name="analytics.rollups_rebuild")
def rollups_rebuild(days: int | None = None) -> int:
    return rollups.rollups_rebuild(days=days or settings.ANALYTICS_ROLLUP_DAYS)


@shared_task(name="analytics.rollups_backfill", acks_late=True, ignore_result=True)
def rollups_backfill(dates: list[str]) -> int:
    """Compute the given IST days (ISO dates) a staff member's range is missing; safe to run twice."""
    return rollups.rollups_rebuild_dates(dates=[date.fromisoformat(day) for day in dates])
