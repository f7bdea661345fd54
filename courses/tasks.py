"""Celery tasks of the courses app: thin, take ids or nothing, call services, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from courses import services


@shared_task(name="courses.attempts_expire_overdue", acks_late=True, ignore_result=True)
def attempts_expire_overdue() -> int:
    """Every minute: score attempts whose clock ran out, with every answer acknowledged until then."""
    closed = services.attempts_expire_overdue()
    if closed == services.EXPIRE_BATCH_SIZE:
        # A full batch means more are waiting (e.g. a whole mock test ended): keep going now.
        attempts_expire_overdue.delay()
    else:
        services.live_results_announce()  # the sweep is done: a closed live mock's results go out
    return closed


@shared_task(name="courses.papers_prewarm", acks_late=True, ignore_result=True)
def papers_prewarm() -> int:
    """Every minute: build the papers of scheduled tests starting in the next 10 minutes, before T0."""
    return services.papers_prewarm()
