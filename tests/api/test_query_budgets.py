"""Query budgets of the hot API endpoints: at most 4 SQL queries, and the same number for 1 and 50 rows."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cerebrum.cache import l1_clear
from courses import services
from courses.models import Enrollment
from tests.factories import (
    ChapterNoteFactory,
    CourseFactory,
    EnrollmentFactory,
    ParentFactory,
    ParentLinkFactory,
    PracticeTestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def count_queries(client, method: str, url: str, body: dict | None = None) -> tuple[int, int]:
    """(status, SQL statements run), not counting SAVEPOINT/RELEASE: transaction control, not reads or writes."""
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, body or {}, format="json")
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    return response.status_code, len(statements)


def _rows(kind: str, n: int, user) -> str:
    """Make n rows of a list and return its URL."""
    if kind == "courses":
        CourseFactory.create_batch(n)
        return "/api/v1/courses?page_size=100"
    if kind == "tests":
        for _ in range(n):
            PracticeTestFactory(question_count=0, course=CourseFactory())
        return "/api/v1/tests?page_size=100"
    if kind == "enrollments":
        EnrollmentFactory.create_batch(n, user=user)
        return "/api/v1/enrollments?page_size=100"
    if kind == "notes":
        ChapterNoteFactory.create_batch(n)
        return "/api/v1/notes?grade=11"
    for _ in range(n):
        ParentLinkFactory(parent=user)
    return "/api/v1/parent/children?page_size=100"


@pytest.mark.parametrize("kind", ["courses", "tests", "enrollments", "notes", "children"])
def test_list_endpoints_cost_the_same_for_1_and_50_rows(api_client, kind):
    counts = []
    for n in (1, 50):
        user = ParentFactory() if kind == "children" else UserFactory()
        api_client.force_authenticate(user)
        # Public lists are page-cached, and the version bump that would refresh them runs on commit,
        # which a test transaction never reaches: each size starts from empty caches instead.
        url = _rows(kind, n, user)
        cache.clear()
        l1_clear()
        status, queries = count_queries(api_client, "get", url)
        assert status == 200
        counts.append(queries)
    print(f"QUERIES {kind}: {counts}")  # noqa: T201 - shown with -s, for the performance notes
    assert counts[0] == counts[1]
    assert counts[1] <= 4


def test_dashboard_miss_and_hit(api_client):
    user = UserFactory()
    EnrollmentFactory.create_batch(50, user=user, status=Enrollment.Status.ACTIVE)
    api_client.force_authenticate(user)
    api_client.get("/api/v1/me")  # the first request in 5 minutes also marks the learner active (Redis)
    _, miss = count_queries(api_client, "get", "/api/v1/dashboard")
    with CaptureQueriesContext(connection) as captured:
        api_client.get("/api/v1/dashboard")
    assert miss <= 4
    assert [q["sql"] for q in captured.captured_queries] == []  # a real JWT adds its user's query


@pytest.mark.parametrize("answers_per_save", [1, 50])
def test_exam_hot_path_budgets(api_client, answers_per_save):
    # given a learner and a 50-question test whose paper is already cached (pre-warmed before T0),
    # and the shared list of questions kept secret (one entry for every learner)
    user = UserFactory()
    test = PracticeTestFactory(question_count=50)
    services.caches.paper_get(test)
    services.caches.answer_key_get(test_id=test.pk, version=test.paper_version)
    services.selectors.protected_question_ids()
    api_client.force_authenticate(user)
    api_client.get("/api/v1/me")  # the first request in 5 minutes also marks the learner active (Redis)
    # when they start, read, answer (a batch) and submit
    status, start = count_queries(api_client, "post", f"/api/v1/tests/{test.slug}/attempts")
    attempt_id = user.attempts.get().pk
    _, read = count_queries(api_client, "get", f"/api/v1/attempts/{attempt_id}")
    question_ids = [q["id"] for q in services.caches.paper_get(test)["questions"]][:answers_per_save]
    batch = [{"question_id": qid, "option": "A", "seq": seq} for seq, qid in enumerate(question_ids, start=1)]
    _, answer = count_queries(api_client, "post", f"/api/v1/attempts/{attempt_id}/answers", {"answers": batch})
    _, submit = count_queries(api_client, "post", f"/api/v1/attempts/{attempt_id}/submit")
    # then each stays within budget, whatever the paper's length and the batch's size: the answer is
    # one statement (the attempt itself comes from Redis), the submit locks, reads the answers, writes
    # the score, and the result message costs the outbox's three (consent, key check, insert)
    assert status == 201
    print(f"QUERIES exam: start={start} read={read} answer={answer} submit={submit}")  # noqa: T201
    assert max(start, read) <= 4, (start, read)
    assert answer == 1
    assert submit <= 6, submit
