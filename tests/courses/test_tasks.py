"""Courses Celery tasks: the expiry sweep and the paper pre-warm, run through Celery (eager in tests)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from courses import caches, services, tasks
from courses.models import TestAttempt as Attempt
from tests.factories import PracticeTestFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_beat_schedules_courses_tasks_every_minute():
    schedule = settings.CELERY_BEAT_SCHEDULE

    assert schedule["courses-attempts-expire"] == {"task": "courses.attempts_expire_overdue", "schedule": 60.0}
    assert schedule["courses-papers-prewarm"] == {"task": "courses.papers_prewarm", "schedule": 60.0}


def test_expire_task_scores_overdue_attempt_from_redis_answers():
    # Given an attempt with an answer in Redis whose clock ran out two minutes ago
    test = PracticeTestFactory(question_count=3)
    attempt = services.attempt_start(test=test, user=UserFactory())
    qid = caches.paper_get(test)["questions"][0]["id"]
    services.attempt_answer(attempt=attempt, question_id=qid, option="A")
    Attempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() - timedelta(minutes=2))

    # When
    closed = tasks.attempts_expire_overdue.delay().get()

    # Then
    attempt.refresh_from_db()
    assert closed == 1
    assert (attempt.status, attempt.score, attempt.answers) == (Attempt.Status.EXPIRED, 4, {str(qid): "A"})


def test_expire_task_twice_scores_once():
    test = PracticeTestFactory(question_count=1)
    attempt = services.attempt_start(test=test, user=UserFactory())
    Attempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() - timedelta(minutes=2))

    assert tasks.attempts_expire_overdue.delay().get() == 1
    assert tasks.attempts_expire_overdue.delay().get() == 0


def test_prewarm_builds_only_papers_starting_within_ten_minutes():
    soon = PracticeTestFactory(scheduled_start=timezone.now() + timedelta(minutes=5))
    later = PracticeTestFactory(scheduled_start=timezone.now() + timedelta(minutes=30))
    unscheduled = PracticeTestFactory()

    warmed = tasks.papers_prewarm.delay().get()

    assert warmed == 1
    assert [caches.paper_builds(t.pk) for t in (soon, later, unscheduled)] == [1, 0, 0]


def test_start_after_prewarm_builds_no_paper():
    test = PracticeTestFactory(scheduled_start=timezone.now() + timedelta(minutes=5))
    tasks.papers_prewarm.delay().get()
    test.scheduled_start = timezone.now() - timedelta(seconds=1)
    test.save(update_fields=["scheduled_start"])

    services.attempt_start(test=test, user=UserFactory())

    assert caches.paper_builds(test.pk) == 1
