"""Courses services: enrollments, attempt start/answer/submit, and their refusals."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client import REGISTRY

from analytics.models import AnalyticsEvent
from analytics.services import buffer_flush
from cerebrum.errors import Conflict, DomainError, NotFound
from communications.models import CommunicationLog
from courses import caches, selectors, services
from courses.models import AttemptAnswer, Enrollment, PracticeTest
from courses.models import TestAttempt as Attempt
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    FreeUserFactory,
    PracticeTestFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _events(event_type: str) -> int:
    """Events reach PostgreSQL through the analytics Redis buffer: flush it, then count."""
    buffer_flush()
    return AnalyticsEvent.objects.filter(event_type=event_type).count()


def _paper_ids(test) -> list[int]:
    return [q["id"] for q in caches.paper_get(test)["questions"]]


# --- enrollments ------------------------------------------------------------------------------


def test_enrollment_create_is_pending_and_records_event(django_capture_on_commit_callbacks):
    user, course = UserFactory(), CourseFactory()

    with django_capture_on_commit_callbacks(execute=True):
        enrollment = services.enrollment_create(user=user, course=course, utm={"utm_source": "instagram"})

    assert enrollment.status == Enrollment.Status.PENDING
    assert enrollment.utm_source == "instagram"
    assert _events("ENROLLMENT") == 1


def test_enrollment_create_twice_returns_the_live_one():
    user, course = UserFactory(), CourseFactory()

    first = services.enrollment_create(user=user, course=course)
    second = services.enrollment_create(user=user, course=course)

    assert first.pk == second.pk
    assert Enrollment.objects.filter(user=user).count() == 1


def test_enrollment_create_refuses_inactive_course():
    with pytest.raises(DomainError) as error:
        services.enrollment_create(user=UserFactory(), course=CourseFactory(is_active=False))

    assert error.value.fields == {"course": ["Course is not active."]}
    assert Enrollment.objects.count() == 0


def test_enrollment_activate_once_enqueues_one_confirmation(django_capture_on_commit_callbacks):
    enrollment = EnrollmentFactory()

    with django_capture_on_commit_callbacks(execute=False):
        _, changed_first = services.enrollment_activate(enrollment=enrollment)
        _, changed_second = services.enrollment_activate(enrollment=enrollment)

    assert (changed_first, changed_second) == (True, False)
    assert CommunicationLog.objects.filter(template="enrollment_confirmed").count() == 2  # email + whatsapp
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_enrollment_activate_refuses_cancelled():
    enrollment = EnrollmentFactory(status=Enrollment.Status.CANCELLED)

    with pytest.raises(Conflict):
        services.enrollment_activate(enrollment=enrollment)


# --- attempt_start ----------------------------------------------------------------------------


def test_attempt_start_free_test_for_free_user():
    test, free_user = PracticeTestFactory(is_free=True), FreeUserFactory()

    attempt = services.attempt_start(test=test, free_user=free_user)

    assert attempt.free_user_id == free_user.pk
    assert attempt.user_id is None
    assert attempt.status == Attempt.Status.IN_PROGRESS
    assert attempt.expires_at == attempt.started_at + timedelta(minutes=30)


def test_attempt_start_again_returns_running_attempt():
    test, user = PracticeTestFactory(), UserFactory()

    first = services.attempt_start(test=test, user=user)
    second = services.attempt_start(test=test, user=user)

    assert first.pk == second.pk
    assert Attempt.objects.count() == 1


def test_attempt_start_enforces_max_attempts():
    test, user = PracticeTestFactory(max_attempts=2), UserFactory()
    for _ in range(2):
        services.attempt_submit(attempt=services.attempt_start(test=test, user=user))

    with pytest.raises(Conflict) as error:
        services.attempt_start(test=test, user=user)

    assert error.value.code == "attempt_limit"
    assert Attempt.objects.filter(user=user).count() == 2


@pytest.mark.parametrize(
    ("enrollment_status", "allowed"),
    [(None, False), (Enrollment.Status.PENDING, False), (Enrollment.Status.ACTIVE, True)],
)
def test_attempt_start_course_test_needs_active_enrollment(enrollment_status, allowed):
    course, user = CourseFactory(), UserFactory()
    test = PracticeTestFactory(is_free=False, course=course)
    if enrollment_status:
        EnrollmentFactory(user=user, course=course, status=enrollment_status)

    if allowed:
        assert services.attempt_start(test=test, user=user).user_id == user.pk
    else:
        with pytest.raises(DomainError) as error:
            services.attempt_start(test=test, user=user)
        assert error.value.code == "not_enrolled"
        assert Attempt.objects.count() == 0


def test_attempt_start_course_test_staff_allowed_free_user_refused():
    test = PracticeTestFactory(is_free=False, course=CourseFactory())

    assert services.attempt_start(test=test, user=StaffFactory()).pk
    with pytest.raises(DomainError) as error:
        services.attempt_start(test=test, free_user=FreeUserFactory())
    assert error.value.code == "login_required"


def test_attempt_start_unpublished_is_not_found():
    with pytest.raises(NotFound):
        services.attempt_start(test=PracticeTestFactory(is_published=False), user=UserFactory())


def test_attempt_start_scheduled_before_t0_refused_and_after_uses_t0():
    later = PracticeTestFactory(scheduled_start=timezone.now() + timedelta(minutes=5))
    with pytest.raises(Conflict) as error:
        services.attempt_start(test=later, user=UserFactory())
    assert error.value.code == "not_started"

    t0 = timezone.now() - timedelta(minutes=10)
    running = PracticeTestFactory(scheduled_start=t0, duration_minutes=60)
    attempt = services.attempt_start(test=running, user=UserFactory())
    assert attempt.expires_at == t0 + timedelta(minutes=60)


def test_attempt_start_after_scheduled_end_refused():
    over = PracticeTestFactory(scheduled_start=timezone.now() - timedelta(minutes=90), duration_minutes=60)

    with pytest.raises(Conflict) as error:
        services.attempt_start(test=over, user=UserFactory())

    assert error.value.code == "test_over"


def test_attempt_start_closes_forgotten_overdue_attempt():
    test, user = PracticeTestFactory(), UserFactory()
    old = services.attempt_start(test=test, user=user)
    Attempt.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=5))

    new = services.attempt_start(test=test, user=user)

    old.refresh_from_db()
    assert old.status == Attempt.Status.EXPIRED
    assert (new.pk != old.pk, new.attempt_number) == (True, 2)


# --- attempt_answer ---------------------------------------------------------------------------


def test_attempt_answer_is_stored_in_postgres_and_redis_holds_no_copy():
    test, user = PracticeTestFactory(), UserFactory()
    attempt = services.attempt_start(test=test, user=user)
    qid = _paper_ids(test)[0]

    services.attempt_answer(attempt=attempt, question_id=qid, option="b", marked_for_review=True)

    row = AttemptAnswer.objects.get(attempt=attempt, question_id=qid)
    assert (row.option, row.marked, row.seq) == ("B", True, 1)
    assert services.attempt_answers(attempt) == ({str(qid): "B"}, {str(qid)})
    assert not [key for key in caches.redis_client().keys("*") if b"answers" in key]


def test_attempt_answer_works_the_same_without_redis():
    test, user = PracticeTestFactory(), UserFactory()
    attempt = services.attempt_start(test=test, user=user)
    qid = _paper_ids(test)[1]

    with mock.patch.object(caches, "redis_client", return_value=None):
        services.attempt_answer(attempt=attempt, question_id=qid, option="C")
        answers = services.attempt_answers(attempt)

    assert answers == ({str(qid): "C"}, set())


@pytest.mark.parametrize(
    ("question", "option", "field"),
    [("other", "A", "question_id"), ("first", "E", "option"), ("first", "AB", "option")],
)
def test_attempt_answer_refuses_bad_input(question, option, field):
    test, user = PracticeTestFactory(), UserFactory()
    attempt = services.attempt_start(test=test, user=user)
    qid = PracticeTestFactory().paper_items.first().question_id if question == "other" else _paper_ids(test)[0]

    with pytest.raises(DomainError) as error:
        services.attempt_answer(attempt=attempt, question_id=qid, option=option)

    assert list(error.value.fields) == [field]
    assert services.attempt_answers(attempt) == ({}, set())


def test_attempt_answer_after_grace_refused():
    test, user = PracticeTestFactory(), UserFactory()
    attempt = services.attempt_start(test=test, user=user)
    Attempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() - timedelta(seconds=31))

    with pytest.raises(Conflict) as error:
        services.attempt_answer(attempt=attempt, question_id=_paper_ids(test)[0], option="A")

    assert error.value.code == "attempt_closed"
    assert services.attempt_answers(attempt) == ({}, set())


def test_attempt_answer_within_grace_accepted():
    test, user = PracticeTestFactory(), UserFactory()
    attempt = services.attempt_start(test=test, user=user)
    Attempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() - timedelta(seconds=20))

    services.attempt_answer(attempt=attempt, question_id=_paper_ids(test)[0], option="A")

    assert services.attempt_answers(attempt)[0] == {str(_paper_ids(test)[0]): "A"}


# --- attempt_submit ---------------------------------------------------------------------------


def test_attempt_submit_scores_nta_and_persists_once(django_capture_on_commit_callbacks):
    test, user = PracticeTestFactory(question_count=4), UserFactory()
    attempt = services.attempt_start(test=test, user=user)
    q1, q2, q3, _ = _paper_ids(test)
    services.attempt_answer(attempt=attempt, question_id=q1, option="B")
    services.attempt_answer(attempt=attempt, question_id=q1, option="A")  # changed answer
    services.attempt_answer(attempt=attempt, question_id=q2, option="C")
    services.attempt_answer(attempt=attempt, question_id=q3, option="")

    with django_capture_on_commit_callbacks(execute=True):
        submitted = services.attempt_submit(attempt=attempt)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.attempt_submit(attempt=attempt)

    assert (submitted.status, submitted.score) == (Attempt.Status.SUBMITTED, 3)
    assert (submitted.correct_count, submitted.wrong_count, submitted.unanswered_count) == (1, 1, 2)
    assert submitted.answers == {str(q1): "A", str(q2): "C"}
    assert again.submitted_at == submitted.submitted_at
    assert _events("TEST_SUBMIT") == 1
    assert CommunicationLog.objects.filter(template="test_result").count() == 2
    assert caches.redis_client().zscore(caches.test_board_key(test.pk), str(user.pk)) == 3


def test_attempt_submit_after_grace_is_expired_but_scored():
    test, user = PracticeTestFactory(question_count=2), UserFactory()
    attempt = services.attempt_start(test=test, user=user)
    services.attempt_answer(attempt=attempt, question_id=_paper_ids(test)[0], option="A")
    Attempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    result = services.attempt_submit(attempt=attempt)

    assert (result.status, result.score) == (Attempt.Status.EXPIRED, 4)


def test_free_user_submit_sends_no_message_and_no_leaderboard(django_capture_on_commit_callbacks):
    test = PracticeTestFactory(question_count=2)
    attempt = services.attempt_start(test=test, free_user=FreeUserFactory())

    with django_capture_on_commit_callbacks(execute=True):
        services.attempt_submit(attempt=attempt)

    assert CommunicationLog.objects.filter(template="test_result").count() == 0
    assert caches.redis_client().zcard(caches.test_board_key(test.pk)) == 0


def test_attempts_expire_overdue_closes_only_overdue():
    test = PracticeTestFactory(question_count=2)
    overdue = services.attempt_start(test=test, user=UserFactory())
    fresh = services.attempt_start(test=test, user=UserFactory())
    Attempt.objects.filter(pk=overdue.pk).update(expires_at=timezone.now() - timedelta(minutes=2))

    closed = services.attempts_expire_overdue()

    assert closed == 1
    assert Attempt.objects.get(pk=overdue.pk).status == Attempt.Status.EXPIRED
    assert Attempt.objects.get(pk=fresh.pk).status == Attempt.Status.IN_PROGRESS


def test_paper_built_once_counts_in_redis_and_prometheus():
    test = PracticeTestFactory(question_count=3)
    before = REGISTRY.get_sample_value("cerebrum_paper_builds_total") or 0

    papers = [caches.paper_get(test) for _ in range(3)]

    assert caches.paper_builds(test.pk) == 1
    assert REGISTRY.get_sample_value("cerebrum_paper_builds_total") == before + 1
    assert papers[0] == papers[2]
    assert set(papers[0]["questions"][0]) == {"id", "number", "text", "options", "topic", "chapter", "section"}
    assert papers[0]["sections"] == [
        {"name": "Questions", "question_ids": [q["id"] for q in papers[0]["questions"]], "attempt_any": None}
    ]


@pytest.mark.django_db(transaction=True)  # cacheops caches reads only outside a transaction
def test_bump_reaches_cached_test_reads():
    test = PracticeTestFactory(question_count=1)
    assert selectors.test_get(slug=test.slug).paper_version == 1  # now in cacheops

    services.practice_test_bump_paper(test=PracticeTest.objects.get(pk=test.pk))

    assert selectors.test_get(slug=test.slug).paper_version == 2


def test_practice_test_bump_paper_changes_paper_key():
    test = PracticeTestFactory(question_count=2)
    before = caches.paper_get(test)

    services.practice_test_bump_paper(test=test)

    assert test.paper_version == 2
    assert caches.paper_get(test)["version"] == 2
    assert before["version"] == 1
    assert caches.paper_builds(test.pk) == 2


# --- Redis faults and costs -------------------------------------------------------------------------


@pytest.fixture
def redis_down(monkeypatch):
    """The answer/leaderboard Redis connection points at a closed port: every call raises a RedisError."""
    import redis

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(caches, "redis_client", lambda: dead)


def test_answers_and_submit_survive_redis_outage(redis_down, django_capture_on_commit_callbacks):
    test, user = PracticeTestFactory(question_count=2), UserFactory()
    attempt = services.attempt_start(test=test, user=user)
    first, second = _paper_ids(test)

    services.attempt_answer(attempt=attempt, question_id=first, option="A")
    services.attempt_answer(attempt=attempt, question_id=second, option="D", marked_for_review=True)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.attempt_submit(attempt=attempt)

    assert (result.status, result.score, result.answers) == (
        Attempt.Status.SUBMITTED,
        4 - 1,
        {str(first): "A", str(second): "D"},
    )


def test_attempt_start_is_one_insert(django_assert_num_queries, django_capture_on_commit_callbacks):
    # Given a free test whose paper is already cached
    test, user = PracticeTestFactory(question_count=5), UserFactory()
    caches.paper_get(test)

    # When: one SELECT of own attempts and one INSERT, no transaction around them (each is atomic; the
    # one-running-attempt unique index, not a transaction, is what keeps a racing second start out)
    with django_assert_num_queries(2) as captured:
        services.attempt_start(test=test, user=user)

    # Then
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    assert statements == ["SELECT", "INSERT"]
    assert captured.captured_queries[1]["sql"].startswith('INSERT INTO "test_attempts"')


@pytest.mark.parametrize("answered", [1, 50])
def test_a_live_mocks_submit_is_three_statements(answered, django_capture_on_commit_callbacks):
    # Given a learner in a running 50-question live mock (its paper and key cached), with 1 or 50 answers
    test = PracticeTestFactory(question_count=50, scheduled_start=timezone.now() - timedelta(minutes=1))
    user = UserFactory()
    caches.answer_key_get(test_id=test.pk, version=test.paper_version)
    attempt = services.attempt_start(test=test, user=user)
    items = [{"question_id": qid, "option": "B", "seq": n} for n, qid in enumerate(_paper_ids(test)[:answered], 1)]
    services.attempt_answers_save(attempt=attempt, answers=items)

    # When it is submitted
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        services.attempt_submit(attempt=attempt)

    # Then: lock the row (with its test and user), read the answers, write the score; the notebook, the
    # result message and the boards wait for the results (live_results_announce)
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert [sql.split()[0] for sql in statements] == ["SELECT", "SELECT", "UPDATE"]
    assert statements[0].endswith('FOR UPDATE OF "test_attempts"')


def test_question_edit_bumps_every_test_that_uses_it():
    shared = PracticeTestFactory(question_count=2)
    other = PracticeTestFactory(question_count=1)
    question_id = shared.paper_items.first().question_id
    also = PracticeTestFactory(question_count=0)
    also.paper_items.create(question_id=question_id, position=1)

    bumped = services.question_papers_bump(question_ids=[question_id])

    assert bumped == 2
    versions = dict(PracticeTest.objects.values_list("pk", "paper_version"))
    assert (versions[shared.pk], versions[also.pk], versions[other.pk]) == (2, 2, 1)
