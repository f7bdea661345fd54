"""Every write to the courses domain goes through here (pages, API, admin, tasks, commands)."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from analytics.services import event_record
from cerebrum.errors import Conflict, DomainError, NotFound
from communications.services import message_enqueue
from courses import caches
from courses.models import Course, Enrollment, PracticeTest, PracticeTestQuestion, TestAttempt
from courses.scoring import OPTIONS, Marking, score_answers

# Slack for a slow phone network: an answer or submit arriving this late after the clock ran out still counts.
SUBMIT_GRACE = timedelta(seconds=30)
EXPIRE_BATCH_SIZE = 200
PREWARM_WINDOW = timedelta(minutes=10)


# --- Enrollments --------------------------------------------------------------------------------


@transaction.atomic
def enrollment_create(*, user, course: Course, utm: dict | None = None) -> Enrollment:
    """A PENDING enrollment, or the learner's existing live one (enrolling twice is not an error)."""
    if not course.is_active:
        raise DomainError("This course is not open for enrollment.", fields={"course": ["Course is not active."]})
    existing = Enrollment.objects.filter(user=user, course=course, status__in=Enrollment.LIVE_STATUSES).first()
    if existing:
        return existing
    enrollment = Enrollment(user=user, course=course, **_utm_fields(utm))
    enrollment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError:
        # A concurrent request created it between our read and write: the live one wins.
        return Enrollment.objects.get(user=user, course=course, status__in=Enrollment.LIVE_STATUSES)
    event_record(
        event_type="ENROLLMENT",
        name="enrollment_created",
        user=user,
        properties={"enrollment_id": enrollment.pk, "course_id": course.pk, "fees_paise": course.fees_paise},
        utm=utm,
    )
    transaction.on_commit(lambda: caches.dashboard_invalidate(user.pk))
    return enrollment


@transaction.atomic
def enrollment_activate(*, enrollment: Enrollment) -> tuple[Enrollment, bool]:
    """PENDING → ACTIVE once; returns (enrollment, changed). Safe to call twice or concurrently."""
    locked = Enrollment.objects.select_for_update(of=("self",)).select_related("user", "course").get(pk=enrollment.pk)
    if locked.status == Enrollment.Status.ACTIVE:
        return locked, False
    if locked.status != Enrollment.Status.PENDING:
        raise Conflict(f"Enrollment is {locked.get_status_display().lower()} and cannot be activated.")
    locked.status = Enrollment.Status.ACTIVE
    locked.save(update_fields=["status", "updated_at"])
    message_enqueue(
        template="enrollment_confirmed",
        context={"name": locked.user.name, "course": locked.course.name, "enrollment_id": locked.pk},
        idempotency_key=f"enrollment_confirmed:{locked.pk}",
        user=locked.user,
    )
    transaction.on_commit(lambda: caches.dashboard_invalidate(locked.user_id))
    return locked, True


# --- Tests and attempts ---------------------------------------------------------------------------


@transaction.atomic
def practice_test_bump_paper(*, test: PracticeTest) -> PracticeTest:
    """Call after changing a test's questions: the next read builds a new paper under a new key."""
    # save(), not queryset.update(): cacheops invalidates cached test reads only on save.
    locked = PracticeTest.objects.select_for_update().get(pk=test.pk)
    locked.paper_version += 1
    locked.save(update_fields=["paper_version", "updated_at"])
    test.paper_version, test.updated_at = locked.paper_version, locked.updated_at
    return test


@transaction.atomic
def question_papers_bump(*, question_ids: list[int]) -> int:
    """After editing questions (text, options, key): every test that uses them gets a new paper version."""
    test_ids = sorted(
        set(PracticeTestQuestion.objects.filter(question_id__in=question_ids).values_list("test_id", flat=True))
    )
    for test_id in test_ids:  # primary-key order, like every multi-row lock here
        practice_test_bump_paper(test=PracticeTest(pk=test_id))
    return len(test_ids)


@transaction.atomic
def attempt_start(*, test: PracticeTest, user=None, free_user=None) -> TestAttempt:
    """The learner's running attempt, or a new one: one INSERT, the paper comes from the cache.

    Two tabs, a double click or a client retry get the same IN_PROGRESS attempt back.
    """
    user = user if user is not None and user.is_authenticated else None
    if (user is None) == (free_user is None):
        raise DomainError("Sign in or give your name and phone number to take a test.", code="login_required")
    _check_test_access(test=test, user=user, free_user=free_user)
    now = timezone.now()
    starts_at = test.scheduled_start or now
    if starts_at > now:
        raise Conflict("This test has not started yet.", code="not_started")
    expires_at = starts_at + timedelta(minutes=test.duration_minutes)
    if expires_at <= now:
        raise Conflict("This scheduled test is over.", code="test_over")
    learner = {"user": user} if user else {"free_user": free_user}
    running, used = _running_attempt(test=test, learner=learner, now=now)
    if running:
        return running
    caches.paper_get(test)
    return _attempt_insert(test=test, learner=learner, number=used + 1, now=now, expires_at=expires_at)


def attempt_answer(*, attempt: TestAttempt, question_id: int, option: str | None, marked_for_review: bool = False):
    """Save one answer ("" or None clears it) to Redis, or to the attempt row when Redis is unavailable."""
    option = (option or "").strip().upper()
    if option and option not in OPTIONS:
        raise DomainError("Choose A, B, C or D.", fields={"option": ["Choose A, B, C or D."]})
    _check_answerable(attempt)
    paper = caches.paper_get_by_id(test_id=attempt.test_id, version=attempt.paper_version)
    if int(question_id) not in {question["id"] for question in paper["questions"]}:
        raise DomainError("That question is not in this paper.", fields={"question_id": ["Not in this paper."]})
    ttl = int((attempt.expires_at + SUBMIT_GRACE - timezone.now()).total_seconds()) + 3600
    saved = caches.answers_save(
        attempt_id=attempt.pk, question_id=int(question_id), option=option, marked=marked_for_review, ttl_seconds=ttl
    )
    if not saved:
        _answer_to_database(attempt=attempt, question_id=int(question_id), option=option, marked=marked_for_review)


@transaction.atomic
def attempt_submit(*, attempt: TestAttempt) -> TestAttempt:
    """Score the attempt once. A second submit (two tabs, retry, the expiry sweep) returns it unchanged."""
    locked = TestAttempt.objects.select_for_update(of=("self",)).select_related("test", "user").get(pk=attempt.pk)
    if locked.status != TestAttempt.Status.IN_PROGRESS:
        return locked
    now = timezone.now()
    overdue = now > locked.expires_at + SUBMIT_GRACE
    locked.answers = attempt_answers(locked)[0]
    _apply_score(locked)
    locked.status = TestAttempt.Status.EXPIRED if overdue else TestAttempt.Status.SUBMITTED
    locked.submitted_at = min(now, locked.expires_at + SUBMIT_GRACE)
    # Foreign keys come from the locked row itself; validating them would cost a query each.
    locked.full_clean(exclude=["user", "free_user", "test"], validate_constraints=False)
    locked.save(update_fields=[*_SCORE_FIELDS, "answers", "status", "submitted_at"])
    _after_submit(locked)
    return locked


def attempts_expire_overdue(*, batch_size: int = EXPIRE_BATCH_SIZE) -> int:
    """Submit (as EXPIRED) attempts whose clock and grace ran out; returns how many were closed."""
    cutoff = timezone.now() - SUBMIT_GRACE
    overdue = list(
        TestAttempt.objects.filter(status=TestAttempt.Status.IN_PROGRESS, expires_at__lt=cutoff)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    for attempt_id in overdue:
        attempt_submit(attempt=TestAttempt(pk=attempt_id))
    return len(overdue)


def papers_prewarm(*, within: timedelta = PREWARM_WINDOW) -> int:
    """Put the papers of scheduled tests starting soon in the cache, so T0 costs no paper build."""
    now = timezone.now()
    upcoming = PracticeTest.objects.filter(
        is_published=True, scheduled_start__gt=now - within, scheduled_start__lte=now + within
    ).only("id", "paper_version")
    count = 0
    for test in upcoming:
        caches.paper_get(test)
        caches.answer_key_get(test_id=test.pk, version=test.paper_version)
        count += 1
    return count


def attempt_answers(attempt: TestAttempt) -> tuple[dict[str, str], set[str]]:
    """The answers so far: the row's (Redis-outage fall-back) overlaid with Redis's newer ones."""
    stored = attempt.answers or {}
    answers = {key: value for key, value in stored.items() if key.isdigit()}
    marked = set(stored.get("_marked", []))
    from_redis = caches.answers_load(attempt.pk)
    if from_redis:
        answers.update(from_redis[0])
        marked = (marked - set(from_redis[0])) | from_redis[1]
    return {key: value for key, value in answers.items() if value}, marked


# --- helpers --------------------------------------------------------------------------------------

_SCORE_FIELDS = ("score", "correct_count", "wrong_count", "unanswered_count", "topic_breakdown")


def _check_test_access(*, test: PracticeTest, user, free_user) -> None:
    if not test.is_published:
        raise NotFound("No such test.")
    if test.is_free or (user is not None and user.is_staff):
        return
    if user is None:
        raise DomainError("Sign up to take this test; free users can take free tests.", code="login_required")
    if (
        test.course_id
        and not Enrollment.objects.filter(user=user, course_id=test.course_id, status=Enrollment.Status.ACTIVE).exists()
    ):
        raise DomainError("This test is part of a course you are not enrolled in.", code="not_enrolled")


def _running_attempt(*, test: PracticeTest, learner: dict, now) -> tuple[TestAttempt | None, int]:
    """(the running attempt, the highest attempt number used so far)."""
    attempts = list(TestAttempt.objects.filter(test=test, **learner).order_by("-attempt_number"))
    used = attempts[0].attempt_number if attempts else 0
    running = next((a for a in attempts if a.status == TestAttempt.Status.IN_PROGRESS), None)
    if running and now > running.expires_at + SUBMIT_GRACE:
        attempt_submit(attempt=running)  # a forgotten attempt closes now and still counts as one
        running = None
    if running:
        return running, used
    if len(attempts) >= test.max_attempts:
        raise Conflict(f"You have used all {test.max_attempts} attempts of this test.", code="attempt_limit")
    return None, used


def _attempt_insert(*, test: PracticeTest, learner: dict, number: int, now, expires_at) -> TestAttempt:
    attempt = TestAttempt(
        test=test, attempt_number=number, started_at=now, expires_at=expires_at, paper_version=test.paper_version
    )
    for field, value in learner.items():
        setattr(attempt, field, value)
    try:
        with transaction.atomic():
            attempt.save()
    except IntegrityError:
        # The same learner started in another tab at the same instant: theirs is ours.
        existing = TestAttempt.objects.filter(test=test, status=TestAttempt.Status.IN_PROGRESS, **learner).first()
        if existing is None:
            raise Conflict("Another start of this test is in progress; try again.", code="attempt_race") from None
        return existing
    # Its exam page is the learner's next request: have the attempt in Redis by then (after the commit).
    transaction.on_commit(lambda: caches.attempt_remember(attempt))
    event_record(
        event_type="TEST_START",
        name="test_started",
        user=learner.get("user"),
        anonymous_id=f"free:{learner['free_user'].pk}" if "free_user" in learner else "",
        properties={"test_id": test.pk, "attempt_id": attempt.pk, "attempt_number": number},
    )
    return attempt


def _check_answerable(attempt: TestAttempt) -> None:
    if attempt.status != TestAttempt.Status.IN_PROGRESS:
        raise Conflict("This attempt is already submitted.", code="attempt_closed")
    if timezone.now() > attempt.expires_at + SUBMIT_GRACE:
        raise Conflict("Time is up for this attempt.", code="attempt_expired")


@transaction.atomic
def _answer_to_database(*, attempt: TestAttempt, question_id: int, option: str, marked: bool) -> None:
    locked = TestAttempt.objects.select_for_update().get(pk=attempt.pk)
    _check_answerable(locked)
    answers = dict(locked.answers or {})
    answers[str(question_id)] = option
    marks = set(answers.get("_marked", []))
    marks = marks | {str(question_id)} if marked else marks - {str(question_id)}
    answers["_marked"] = sorted(marks)
    locked.answers = answers
    locked.save(update_fields=["answers"])
    attempt.answers = answers


def _apply_score(attempt: TestAttempt) -> None:
    test = attempt.test
    key = caches.answer_key_get(test_id=test.pk, version=attempt.paper_version)
    marking = Marking(correct=test.marks_correct, wrong=test.marks_wrong, unanswered=test.marks_unanswered)
    result = score_answers(answers=attempt.answers, answer_key=key, marking=marking)
    for field in _SCORE_FIELDS:
        setattr(attempt, field, getattr(result, field))


def _after_submit(attempt: TestAttempt) -> None:
    properties = {"test_id": attempt.test_id, "attempt_id": attempt.pk, "score": attempt.score}
    event_record(event_type="TEST_SUBMIT", name="test_submitted", user=attempt.user, properties=properties)
    if attempt.user_id:
        message_enqueue(
            template="test_result",
            context={
                "name": attempt.user.name,
                "test": attempt.test.title,
                "score": attempt.score,
                "correct": attempt.correct_count,
                "wrong": attempt.wrong_count,
                "unanswered": attempt.unanswered_count,
                "attempt_id": attempt.pk,
            },
            idempotency_key=f"test_result:{attempt.pk}",
            user=attempt.user,
        )
    transaction.on_commit(lambda: _after_submit_commit(attempt))


def _after_submit_commit(attempt: TestAttempt) -> None:
    caches.answers_delete(attempt.pk)
    user_id = attempt.user_id or (attempt.free_user.user_id if attempt.free_user_id else None)
    caches.dashboard_invalidate(user_id)
    if attempt.user_id:
        caches.leaderboard_record(
            test_id=attempt.test_id,
            user_id=attempt.user_id,
            score=attempt.score,
            topic_scores={topic: row["score"] for topic, row in attempt.topic_breakdown.items()},
            week=caches.iso_week(timezone.localdate(attempt.submitted_at)),
        )


def _utm_fields(utm: dict | None) -> dict:
    keys = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
    return {key: str((utm or {}).get(key, ""))[:100] for key in keys}
