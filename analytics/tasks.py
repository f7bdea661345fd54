"""Periodic analytics work (queue `analytics`); each task is thin and safe to run twice."""

from datetime import datetime

from celery import shared_task
from django.conf import settings

from analytics import attribution, services


@shared_task(name="analytics.buffer_flush")
def buffer_flush() -> int:
    written = services.buffer_flush()
    if written >= services.FLUSH_MAX_BATCHES * settings.ANALYTICS_FLUSH_BATCH_SIZE:
        # A backlog (after an outage): keep draining now rather than one run per beat tick.
        buffer_flush.delay()
    return written


@shared_task(name="analytics.events_purge")
def events_purge() -> int:
    return services.events_purge(older_than_days=settings.ANALYTICS_RETENTION_DAYS)


@shared_task(name="analytics.visitor_events_join", acks_late=True, ignore_result=True)
def visitor_events_join(anonymous_id: str, user_id: int, until: str) -> int:
    return attribution.visitor_events_join(
        anonymous_id=anonymous_id, user_id=user_id, until=datetime.fromisoformat(until)
    )


@shared_task(name="analytics.landing_record", acks_late=True, ignore_result=True)
def landing_record(anonymous_id: str, user_id: int | None, touch: dict, path: str, at: str) -> int:
    """An attributed visit published by the UTM middleware (which writes nothing itself); `at` ISO 8601."""
    return attribution.landing_record(
        anonymous_id=anonymous_id, user_id=user_id, touch=touch, path=path, at=datetime.fromisoformat(at)
    ).pk
