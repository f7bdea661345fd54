"""Celery tasks of the courses app: thin, take ids or nothing, call services, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from cerebrum.errors import DomainError
from courses import item_analysis, journeys, rekey, services
from courses.models import Question

logger = logging.getLogger(__name__)


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


# --- Item analysis and re-scoring (courses/item_analysis.py, courses/rekey.py) ---------------------


@shared_task(name="courses.item_analysis_closed_mocks", acks_late=True, ignore_result=True)
def item_analysis_closed_mocks() -> int:
    """Every 5 minutes: analyse live mocks whose window closed since their statistics were computed."""
    return item_analysis.closed_mocks_analyse()


@shared_task(name="courses.item_analysis_nightly", acks_late=True, ignore_result=True)
def item_analysis_nightly() -> int:
    """Nightly: analyse every test with attempts finished in the last day (or never analysed)."""
    return item_analysis.recent_tests_analyse()


# A big mock (thousands of attempts) takes minutes to re-score: longer limits than the default 100 s.
LONG_TASK = {"acks_late": True, "ignore_result": True, "soft_time_limit": 1500, "time_limit": 1560}


@shared_task(name="courses.item_analysis_compute", **LONG_TASK)
def item_analysis_compute(test_id: int) -> None:
    """One test's item analysis now (after a key change)."""
    item_analysis.item_analysis_compute(test_id=test_id)


@shared_task(name="courses.attempts_rescore", **LONG_TASK)
def attempts_rescore(test_ids: list[int]) -> int:
    """Re-score the tests' finished attempts on their (corrected) keys; idempotent."""
    return rekey.attempts_rescore(test_ids=test_ids)[1]


@shared_task(name="courses.rekey_second_pass", **LONG_TASK)
def rekey_second_pass(question_id: int, test_ids: list[int], changed_by_id: int | None = None) -> int:
    """A key change's second re-score pass (courses.rekey.SECOND_PASS_SECONDS after it); idempotent."""
    return rekey.rekey_second_pass(question_id=question_id, test_ids=test_ids, changed_by_id=changed_by_id)


@shared_task(name="courses.question_rekey", **LONG_TASK)
def question_rekey(question_id: int, correct_option: str, changed_by_id: int | None = None, reason: str = "") -> None:
    """A key change staff asked for in the admin; a redelivered or repeated one finds the key already set."""
    question = Question.objects.filter(pk=question_id).first()
    if question is None:
        return
    changed_by = get_user_model().objects.filter(pk=changed_by_id).first() if changed_by_id else None
    try:
        rekey.question_rekey(question=question, correct_option=correct_option, changed_by=changed_by, reason=reason)
    except DomainError as exc:
        logger.warning("question %s not re-keyed to %s: %s", question_id, correct_option, exc.message)


# --- Journeys (courses/journeys.py): reminders, the parents' digest, inactivity nudges -------------
# They read enrollments, tests and attempts, so they live here above `communications` and write its
# outbox through `message_enqueue_many`. The task names are the broker's contract (beat schedule,
# CELERY_TASK_ROUTES to the communications queue, messages already queued), so they keep their prefix.


@shared_task(name="communications.scheduled_test_reminders_enqueue", acks_late=True, ignore_result=True)
def scheduled_test_reminders_enqueue() -> int:
    return journeys.scheduled_test_reminders_enqueue()


@shared_task(name="communications.parent_digests_enqueue", acks_late=True, ignore_result=True)
def parent_digests_enqueue() -> int:
    return journeys.parent_digests_enqueue()


@shared_task(name="communications.inactivity_nudges_enqueue", acks_late=True, ignore_result=True)
def inactivity_nudges_enqueue() -> int:
    return journeys.inactivity_nudges_enqueue()
