"""The real learner pages and API with Redis refused or hung: 200 from PostgreSQL, never a 5xx, answers kept."""

from __future__ import annotations

import pytest
from django.urls import reverse

from courses import caches, services
from courses.models import TestAttempt
from tests.cerebrum.test_degrade import _clean_redis, blackhole, redis_unavailable  # noqa: F401 - fixtures
from tests.factories import ChapterNoteFactory, CourseFactory, EnrollmentFactory, PracticeTestFactory, UserFactory

pytestmark = [pytest.mark.urls("cerebrum.urls"), pytest.mark.django_db, pytest.mark.usefixtures("redis_unavailable")]


@pytest.fixture
def content():
    course = CourseFactory(is_featured=True)
    test = PracticeTestFactory(question_count=3, is_free=True)
    return {"course": course, "note": ChapterNoteFactory(), "test": test}


ANONYMOUS = [
    lambda c: reverse("courses:home"),
    lambda c: reverse("courses:catalog"),
    lambda c: reverse("courses:course_detail", args=[c["course"].slug]),
    lambda c: reverse("courses:notes"),
    lambda c: reverse("courses:note_detail", args=[c["note"].slug]),
    lambda c: reverse("courses:tests"),
    lambda c: "/api/v1/courses",
]
SIGNED_IN = [
    lambda c: reverse("courses:dashboard"),
    lambda c: reverse("courses:catalog"),
    lambda c: reverse("courses:leaderboard", args=[c["test"].slug]),
    lambda c: "/api/v1/dashboard",
    lambda c: f"/api/v1/tests/{c['test'].slug}/leaderboard/me",
]


@pytest.mark.parametrize("url", ANONYMOUS, ids=["home", "catalog", "course", "notes", "note", "tests", "api-courses"])
def test_anonymous_pages_answer_200(client, content, url):
    responses = [client.get(url(content)) for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]


@pytest.mark.parametrize("url", SIGNED_IN, ids=["dashboard", "catalog", "leaderboard", "api-dashboard", "api-my-rank"])
def test_signed_in_pages_answer_200(client, content, url):
    user = UserFactory()
    EnrollmentFactory(user=user, course=content["course"])
    client.force_login(user)

    assert client.get(url(content)).status_code == 200


def test_personal_json_without_redis_is_built_every_time_and_never_304(client, content):
    # No version can be read: no ETag, so no If-None-Match can match (docs/api.md, "Personal JSON")
    user = UserFactory()
    client.force_login(user)

    first = client.get("/api/v1/dashboard", HTTP_IF_NONE_MATCH="*")
    EnrollmentFactory(user=user, course=content["course"])
    second = client.get("/api/v1/dashboard", HTTP_IF_NONE_MATCH="*")

    assert (first.status_code, second.status_code) == (200, 200)
    assert "ETag" not in first
    assert first["Cache-Control"] == "private, no-cache"
    assert (first.json()["enrollments"], len(second.json()["enrollments"])) == ([], 1)


def test_a_test_taken_while_redis_is_down_keeps_every_answer(client, content):
    user = UserFactory()
    client.force_login(user)
    test = content["test"]

    client.post(reverse("courses:test_start", args=[test.slug]))
    attempt = TestAttempt.objects.get(user=user, test=test)
    questions = caches.paper_get(test)["questions"]
    for question in questions:
        saved = client.post(
            reverse("courses:attempt_answer", args=[attempt.pk]),
            {"question_id": question["id"], "option": "B"},
            HTTP_ACCEPT="application/json",
        )
        assert saved.status_code == 200
    result = client.post(reverse("courses:attempt_submit", args=[attempt.pk]), {"confirm": "1"})

    attempt.refresh_from_db()
    assert result.status_code == 302
    assert attempt.status != TestAttempt.Status.IN_PROGRESS
    assert services.attempt_answers(attempt)[0] == {str(question["id"]): "B" for question in questions}
