"""Every cache layer in front of the real pages lets a write show at once.

Committed transactions (transactional_db): cacheops and the page-version bump run after commit, as
in production. Each test first proves the page is cached, then writes, then reads once more.
"""

from __future__ import annotations

from typing import TypedDict

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from cerebrum.cache import l1_clear
from cerebrum.http_cache import _view_for_path
from cerebrum.shapes import shape_digest
from courses import caches, services
from courses.shapes import Dashboard, DashboardCourse
from courses.templatetags.courses_tags import rupees
from tests.factories import CourseFactory, PracticeTestFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    _view_for_path.cache_clear()
    l1_clear()
    yield
    l1_clear()


@pytest.fixture
def student(client):
    user = UserFactory(name="Asha Verma")
    client.force_login(user)
    client.get("/")  # the once-per-5-minutes last-active write happens here
    return user


PRICED_PAGES = pytest.mark.parametrize(
    "url",
    [
        lambda course: reverse("courses:catalog"),
        lambda course: reverse("courses:course_detail", args=[course.slug]),
        lambda course: reverse("courses:home"),
    ],
    ids=["catalog", "course", "home"],
)


@PRICED_PAGES
@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "signed-in"])
def test_price_change_shows_at_once_on_cached_pages(request, client, url, signed_in):
    if signed_in:
        request.getfixturevalue("student")  # logs `client` in
    course = CourseFactory(fees_paise=4_500_000, is_featured=True)
    page = url(course)
    client.get(page)
    cached = client.get(page)
    assert cached["X-Cache"] == "HIT"
    assert rupees(4_500_000) in cached.content.decode()

    course.fees_paise = 3_900_000
    course.save(update_fields=["fees_paise"])  # what the admin's change form does
    after = client.get(page)

    assert after["X-Cache"] == "MISS"
    assert rupees(3_900_000) in after.content.decode()
    assert rupees(4_500_000) not in after.content.decode()


def test_price_change_shows_at_once_in_the_public_api(api_client):
    course = CourseFactory(fees_paise=4_500_000)
    api_client.get("/api/v1/courses")
    assert api_client.get("/api/v1/courses")["X-Cache"] == "HIT"

    course.fees_paise = 3_900_000
    course.save(update_fields=["fees_paise"])
    body = api_client.get("/api/v1/courses").json()

    fees = [row["fees_paise"] for row in body.get("results", body)]
    assert fees == [3_900_000]


def test_new_enrollment_shows_at_once_on_the_dashboard(client, student):
    course = CourseFactory(name="NEET 2027 Crash Course")
    client.get(reverse("courses:dashboard"))
    cached = client.get(reverse("courses:dashboard"))
    assert cached["X-Cache"] == "HIT"  # the rendered page, kept for this learner
    assert "NEET 2027 Crash Course" not in cached.content.decode()

    services.enrollment_create(user=student, course=course)
    page = client.get(reverse("courses:dashboard"))

    assert page["X-Cache"] == "MISS"
    assert "NEET 2027 Crash Course" in page.content.decode()
    assert page["Cache-Control"] == "private, no-store"


def test_new_enrollment_shows_at_once_in_the_dashboard_api(api_client, student):
    api_client.force_authenticate(student)
    course = CourseFactory(name="NEET 2027 Crash Course")
    before = api_client.get("/api/v1/dashboard").content.decode()

    services.enrollment_create(user=student, course=course)
    after = api_client.get("/api/v1/dashboard").content.decode()

    assert "NEET 2027 Crash Course" not in before
    assert "NEET 2027 Crash Course" in after


def test_submitted_attempt_shows_at_once_on_dashboard_and_leaderboard(client, student):
    test = PracticeTestFactory(title="Genetics Sprint", question_count=2)
    board_url = reverse("courses:leaderboard", args=[test.slug])
    client.get(reverse("courses:dashboard"))
    client.get(board_url)
    cached = client.get(reverse("courses:dashboard"))
    assert cached["X-Cache"] == "HIT"
    assert "Genetics Sprint" not in cached.content.decode()

    attempt = services.attempt_start(test=test, user=student)
    for question in caches.paper_get(test)["questions"]:
        services.attempt_answer(attempt=attempt, question_id=question["id"], option="A")
    services.attempt_submit(attempt=attempt)
    dashboard = client.get(reverse("courses:dashboard")).content.decode()
    my_rank = client.get(f"/api/v1/tests/{test.slug}/leaderboard/me").json()
    # The shared top list is kept LEADERBOARD_PAGE_SECONDS (never dropped for a submit): once that passes,
    # the board shows the score.
    assert 0 < cache.ttl(next(iter(cache.keys(f"mpage:*{board_url}*")))) <= settings.LEADERBOARD_PAGE_SECONDS
    cache.delete_pattern(f"mpage:*{board_url}*")
    l1_clear()
    board = client.get(board_url).content.decode()

    assert "Genetics Sprint" in dashboard
    assert (my_rank["rank"], my_rank["total"]) == (1, 1)
    assert "Asha Verma" in board


def test_unpublishing_a_test_closes_its_pages_at_once(client, student):
    test = PracticeTestFactory(question_count=2)
    board_url = reverse("courses:leaderboard", args=[test.slug])
    assert client.get(board_url).status_code == 200
    assert client.get(board_url).status_code == 200  # the test itself now comes from Redis

    test.is_published = False
    test.save(update_fields=["is_published"])  # the admin's change form

    assert client.get(board_url).status_code == 404
    assert client.post(reverse("courses:test_start", args=[test.slug])).status_code == 404


def test_started_attempt_shows_at_once_in_the_dashboard_api(api_client, student):
    # Its recent activity lists a running attempt ("Started …"): the start changes the dashboard's data.
    api_client.force_authenticate(student)
    test = PracticeTestFactory(title="Genetics Sprint", question_count=2)
    before = api_client.get("/api/v1/dashboard")
    assert "Genetics Sprint" not in before.content.decode()

    services.attempt_start(test=test, user=student)
    after = api_client.get("/api/v1/dashboard", HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert "Genetics Sprint" in after.content.decode()


def test_enrollment_edited_in_the_admin_shows_at_once_in_the_dashboard_api(api_client, student):
    api_client.force_authenticate(student)
    enrollment = services.enrollment_create(user=student, course=CourseFactory(name="NEET 2027 Crash Course"))
    before = api_client.get("/api/v1/dashboard")
    assert "NEET 2027 Crash Course" in before.content.decode()

    enrollment.status = enrollment.Status.CANCELLED
    enrollment.save(update_fields=["status"])  # what the admin's change form does
    after = api_client.get("/api/v1/dashboard", HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert "NEET 2027 Crash Course" not in after.content.decode()


def test_course_renamed_in_the_admin_shows_at_once_in_the_dashboard_api(api_client, student):
    api_client.force_authenticate(student)
    course = CourseFactory(name="NEET 2027 Crash Course")
    services.enrollment_create(user=student, course=course)
    before = api_client.get("/api/v1/dashboard")
    assert "NEET 2027 Crash Course" in before.content.decode()

    course.name = "NEET 2027 Rank Booster"
    course.save(update_fields=["name"])
    after = api_client.get("/api/v1/dashboard", HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert "NEET 2027 Rank Booster" in after.content.decode()


class NextCourse(DashboardCourse):  # the next release's shapes (module level: the annotations are strings)
    fees_paise: int


class NextEnrollment(TypedDict):
    course: NextCourse


class ThisEnrollment(TypedDict):
    course: DashboardCourse


def test_dashboard_data_of_another_shape_is_never_read(student):
    # A release that adds a key to the dashboard's shape, nested too, must not serve the previous release's
    # dicts (the serializer's KeyError was a 500 for every learner with a cached dashboard, for 5 minutes).
    assert f":{shape_digest(Dashboard)}:" in caches.dashboard_key(student.pk)
    assert shape_digest(DashboardCourse) != shape_digest(NextCourse)
    assert shape_digest(ThisEnrollment) != shape_digest(NextEnrollment)
