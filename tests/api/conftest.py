"""A live API server (pytest-django's live server on the test PostgreSQL and Redis) with a learner's world.

Used by the schema-driven run (test_schemathesis.py), the generated-client journey (test_generated_client.py)
and the checks of errors raised before a view (test_errors_before_django.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils.text import slugify
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from courses import services
from payments.services import payment_order_create
from practice import revision
from practice.models import ReviewCard
from tests.factories import (
    ChapterNoteFactory,
    CourseFactory,
    EnrollmentFactory,
    ParentLinkFactory,
    PracticeTestFactory,
    UserFactory,
)

PASSWORD = "s3cret-Pass!"  # tests.factories.UserFactory's


@dataclass(frozen=True)
class LiveApi:
    """The base URL, a signed-in student's access token, and ids and slugs of what the student may see."""

    url: str
    token: str
    email: str
    parameters: dict[str, dict[str, object]]  # OpenAPI path → {path parameter: a value that exists}
    bodies: dict[str, dict[str, object]]  # "METHOD path" → {body field: a value that exists, or None: leave out}


@pytest.fixture
def unthrottled():
    """Throttles would turn most generated requests into 429s; tests/api/test_throttle.py covers them."""
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = dict.fromkeys(original, "1000000/min")
    yield
    SimpleRateThrottle.THROTTLE_RATES = original


@pytest.fixture
def live_api(live_server, transactional_db, unthrottled) -> LiveApi:
    """A student with a pending enrollment and an open order, a running attempt to answer, one to submit,
    a finished one with a result, a linked child; public courses, notes and tests."""
    student = UserFactory()
    child = ParentLinkFactory(parent=student).student
    courses = CourseFactory.create_batch(3)
    enrollment = EnrollmentFactory(user=student, course=courses[0])
    pending = EnrollmentFactory(user=student, course=courses[1])
    payment = payment_order_create(user=student, enrollment=pending)
    note = ChapterNoteFactory()
    ChapterNoteFactory(grade="12")
    test = PracticeTestFactory(question_count=3)
    running = services.attempt_start(test=test, user=student)
    to_submit = services.attempt_start(test=PracticeTestFactory(question_count=3), user=student)
    finished = services.attempt_start(test=PracticeTestFactory(question_count=3), user=student)
    services.attempt_submit(attempt=finished)
    topic = slugify(finished.test.questions.first().topic)
    question_ids = list(test.questions.values_list("pk", flat=True))
    bookmarked = running.test.questions.first().pk
    revision.cards_add(user_id=student.pk, question_ids=question_ids, source=ReviewCard.Source.BOOKMARK)
    card = ReviewCard.objects.filter(user=student).first()
    attempt = {"attempt_id": running.pk}
    return LiveApi(
        url=live_server.url,
        token=str(RefreshToken.for_user(student).access_token),
        email=student.email,
        parameters={
            "/api/v1/attempts/{attempt_id}": attempt,
            "/api/v1/attempts/{attempt_id}/answers": attempt,
            "/api/v1/attempts/{attempt_id}/submit": {"attempt_id": to_submit.pk},
            "/api/v1/attempts/{attempt_id}/result": {"attempt_id": finished.pk},
            "/api/v1/attempts/{attempt_id}/analysis": {"attempt_id": finished.pk},
            "/api/v1/me/bookmarks/{question_id}": {"question_id": bookmarked},
            "/api/v1/me/revision/cards/{card_id}/rating": {"card_id": card.pk},
            "/api/v1/courses/{slug}": {"slug": courses[2].slug},
            "/api/v1/enrollments/{enrollment_id}": {"enrollment_id": enrollment.pk},
            "/api/v1/leaderboards/topics/{topic}": {"topic": topic},
            "/api/v1/notes/{slug}": {"slug": note.slug},
            "/api/v1/parent/children/{student_id}": {"student_id": child.pk},
            "/api/v1/payments/{payment_id}": {"payment_id": payment.pk},
            "/api/v1/tests/{slug}": {"slug": test.slug},
            "/api/v1/tests/{slug}/attempts": {"slug": test.slug},
            "/api/v1/tests/{slug}/leaderboard": {"slug": finished.test.slug},
            "/api/v1/tests/{slug}/leaderboard/me": {"slug": finished.test.slug},
        },
        bodies={
            "POST /api/v1/enrollments": {"course": courses[2].slug},
            "POST /api/v1/payments/orders": {"enrollment_id": pending.pk, "coupon_code": None},
            "POST /api/v1/events": {"events[].timestamp": "$now"},  # events older than 7 days are refused
            "POST /api/v1/attempts/{attempt_id}/answers": {"answers[].question_id": question_ids},
            "POST /api/v1/me/bookmarks": {"question_id": bookmarked},
        },
    )
