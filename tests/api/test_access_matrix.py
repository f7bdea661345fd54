"""Who sees what: students A and B, A's parent, staff and anonymous against every endpoint with an id and every list.

B's objects give 404 (never 403: an id is not a hint), lists hold only one's own, anonymous gets 401.
"""

from __future__ import annotations

import pytest

from courses import services
from courses.models import Enrollment
from tests.factories import (
    EnrollmentFactory,
    ParentLinkFactory,
    PracticeTestFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

VIEWERS = ["student_a", "student_b", "parent_of_a", "staff", "anonymous"]


@pytest.fixture
def world():
    """Student A (with a parent), student B, staff; A owns an enrollment and a submitted attempt."""
    link = ParentLinkFactory()
    a, b = link.student, UserFactory()
    test = PracticeTestFactory(question_count=2)
    attempt = services.attempt_start(test=test, user=a)
    running = services.attempt_start(test=PracticeTestFactory(question_count=2), user=a)
    services.attempt_submit(attempt=attempt)
    return {
        "users": {
            "student_a": a,
            "student_b": b,
            "parent_of_a": link.parent,
            "staff": StaffFactory(),
            "anonymous": None,
        },
        "enrollment": EnrollmentFactory(user=a, status=Enrollment.Status.ACTIVE),
        "attempt": attempt,
        "running": running,
        "b_enrollment": EnrollmentFactory(user=b),
    }


def as_viewer(api_client, world, viewer):
    user = world["users"][viewer]
    if user is not None:
        api_client.force_authenticate(user)
    return api_client


# Reads of A's objects: who gets them (200) and who is told they do not exist (404).
READS = {
    "enrollment": ("/api/v1/enrollments/{enrollment}", {"student_a": 200, "parent_of_a": 200, "staff": 200}),
    "attempt": ("/api/v1/attempts/{attempt}", {"student_a": 200, "parent_of_a": 200, "staff": 200}),
    "result": ("/api/v1/attempts/{attempt}/result", {"student_a": 200, "parent_of_a": 200, "staff": 200}),
    "child": ("/api/v1/parent/children/{student_a}", {"parent_of_a": 200}),
}


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("endpoint", READS)
def test_reads_of_student_as_objects(api_client, world, endpoint, viewer):
    template, allowed = READS[endpoint]
    url = template.format(
        enrollment=world["enrollment"].pk, attempt=world["attempt"].pk, student_a=world["users"]["student_a"].pk
    )
    response = as_viewer(api_client, world, viewer).get(url)
    expected = 401 if viewer == "anonymous" else allowed.get(viewer, 404)
    assert response.status_code == expected
    if expected != 200:
        assert set(response.json()["error"]) == {"code", "message", "fields"}


# Writes on A's running attempt: only A may answer or submit it.
@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("action", ["answers", "submit"])
def test_writes_on_student_as_attempt(api_client, world, action, viewer):
    running = world["running"]
    question_id = int(next(iter(services.caches.answer_key_get(test_id=running.test_id, version=1))))
    body = {"question_id": question_id, "option": "A"} if action == "answers" else {}
    response = as_viewer(api_client, world, viewer).post(f"/api/v1/attempts/{running.pk}/{action}", body, format="json")
    expected = {"student_a": 200, "anonymous": 401}.get(viewer, 404)
    assert response.status_code == expected
    running.refresh_from_db()
    assert running.status == ("SUBMITTED" if viewer == "student_a" and action == "submit" else "IN_PROGRESS")


@pytest.mark.parametrize("viewer", VIEWERS)
def test_enrollment_list_holds_only_ones_own(api_client, world, viewer):
    response = as_viewer(api_client, world, viewer).get("/api/v1/enrollments")
    if viewer == "anonymous":
        assert response.status_code == 401
        return
    own = set(Enrollment.objects.filter(user=world["users"][viewer]).values_list("id", flat=True))
    assert {row["id"] for row in response.json()["results"]} == own


@pytest.mark.parametrize("viewer", VIEWERS)
def test_children_list_holds_only_ones_own_children(api_client, world, viewer):
    response = as_viewer(api_client, world, viewer).get("/api/v1/parent/children")
    if viewer == "anonymous":
        assert response.status_code == 401
        return
    expected = [world["users"]["student_a"].pk] if viewer == "parent_of_a" else []
    assert [row["id"] for row in response.json()["results"]] == expected


@pytest.mark.parametrize("viewer", VIEWERS)
def test_dashboard_and_me_are_ones_own(api_client, world, viewer):
    client = as_viewer(api_client, world, viewer)
    dashboard, me = client.get("/api/v1/dashboard"), client.get("/api/v1/me")
    if viewer == "anonymous":
        assert (dashboard.status_code, me.status_code) == (401, 401)
        return
    user = world["users"][viewer]
    assert (dashboard.json()["user"]["id"], me.json()["id"]) == (user.pk, user.pk)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/me",
        "/api/v1/dashboard",
        "/api/v1/enrollments",
        "/api/v1/parent/children",
        "/api/v1/tests/any/leaderboard",
        "/api/v1/leaderboards/topics/any",
    ],
)
def test_anonymous_gets_401_on_every_personal_endpoint(api_client, url):
    response = api_client.get(url)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/enrollments"),
        ("post", "/api/v1/tests/any/attempts"),
        ("post", "/api/v1/attempts/1/answers"),
        ("post", "/api/v1/attempts/1/submit"),
        ("patch", "/api/v1/me"),
        ("post", "/api/v1/me/otp/request"),
    ],
)
def test_anonymous_gets_401_on_every_write(api_client, method, url):
    assert getattr(api_client, method)(url, {}, format="json").status_code == 401


@pytest.mark.parametrize("url", ["/api/v1/courses", "/api/v1/tests", "/api/v1/notes"])
def test_public_lists_are_open_to_anonymous(api_client, url):
    assert api_client.get(url).status_code == 200
