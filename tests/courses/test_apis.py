"""Courses over REST: catalog, enrollments, dashboard, notes, tests, attempts and leaderboards, through HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from courses import caches
from courses.models import Course, Enrollment, TestAttempt
from tests.factories import (
    ChapterNoteFactory,
    CourseFactory,
    EnrollmentFactory,
    ParentLinkFactory,
    PracticeTestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def student(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    return user


def answer_key(test) -> dict[int, str]:
    return {int(qid): row["correct"] for qid, row in caches.answer_key_get(test_id=test.pk, version=1).items()}


# --- catalog ----------------------------------------------------------------------------------


def test_course_list_shows_active_courses_newest_first(api_client):
    older, newer = CourseFactory(), CourseFactory()
    CourseFactory(is_active=False)
    response = api_client.get("/api/v1/courses")
    assert response.status_code == 200
    assert [row["slug"] for row in response.json()["results"]] == [newer.slug, older.slug]
    assert response.json()["results"][0]["fees_paise"] == 4_999_900


@pytest.mark.parametrize(
    ("query", "expected"),
    [("class=11", ["c11"]), ("type=CRASH", ["crash"]), ("class=12&type=ONLINE", ["c12"])],
)
def test_course_list_filters_by_class_and_type(api_client, query, expected):
    CourseFactory(slug="c11", class_level="11")
    CourseFactory(slug="c12", class_level="12")
    CourseFactory(slug="crash", class_level="DROPPER", type=Course.Type.CRASH)
    response = api_client.get(f"/api/v1/courses?{query}")
    assert [row["slug"] for row in response.json()["results"]] == expected


@pytest.mark.parametrize(
    "url", ["/api/v1/courses?class=12&type=ONLINE", "/api/v1/courses?type=ONLINE&class=12", "/api/v1/notes?grade=11"]
)
def test_the_public_apis_filters_are_kept_like_the_pages(client, url):
    # The app's catalog and notes filters: a query the API reads is one copy, as the HTML catalog's filters are
    CourseFactory(class_level="12")
    first, second = client.get(url), client.get(url)
    assert (first.status_code, first["X-Cache"], second["X-Cache"]) == (200, "MISS", "HIT")


@pytest.mark.parametrize(("query", "field"), [("class=9", "class"), ("type=PODCAST", "type")])
def test_course_list_refuses_unknown_filter_values(api_client, query, field):
    response = api_client.get(f"/api/v1/courses?{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("count", [1, 50])
def test_course_list_query_count_does_not_grow(api_client, django_assert_max_num_queries, count):
    CourseFactory.create_batch(count)
    with django_assert_max_num_queries(4):
        response = api_client.get("/api/v1/courses?page_size=100")
    assert len(response.json()["results"]) == count


def test_course_list_pages_with_a_cursor_and_refuses_a_page_size_over_100(api_client):
    CourseFactory.create_batch(105)
    refused = api_client.get("/api/v1/courses?page_size=500")
    assert (refused.status_code, refused.json()["error"]["fields"]) == (400, {"page_size": ["Must be at most 100."]})
    first = api_client.get("/api/v1/courses?page_size=100").json()
    assert len(first["results"]) == 100
    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 5
    assert not {row["id"] for row in first["results"]} & {row["id"] for row in second["results"]}


@pytest.mark.parametrize("cursor", ["garbage!", "bz1hYmM", "cj14"])
def test_a_tampered_cursor_is_400(api_client, cursor):
    CourseFactory()
    response = api_client.get(f"/api/v1/courses?cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


def test_course_detail_has_fees_breakdown_and_syllabus(api_client):
    course = CourseFactory(fees_paise=118_000, syllabus="Cell\n\nGenetics\n")
    body = api_client.get(f"/api/v1/courses/{course.slug}").json()
    assert body["fees"] == {"total": 118_000, "base": 100_000, "gst": 18_000, "gst_percent": 18}
    assert body["syllabus"] == ["Cell", "Genetics"]


@pytest.mark.parametrize("active", [False, None])
def test_course_detail_of_an_inactive_or_missing_course_is_404(api_client, active):
    slug = CourseFactory(is_active=False).slug if active is False else "no-such-course"
    response = api_client.get(f"/api/v1/courses/{slug}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- enrollments ------------------------------------------------------------------------------


def test_enroll_creates_a_pending_enrollment(api_client, student):
    course = CourseFactory()
    response = api_client.post("/api/v1/enrollments", {"course": course.slug}, format="json")
    assert response.status_code == 201
    enrollment = Enrollment.objects.get(user=student)
    assert (response.json()["id"], response.json()["status"], enrollment.status) == (
        enrollment.pk,
        "PENDING",
        "PENDING",
    )
    assert response.json()["course"]["slug"] == course.slug


def test_enrolling_twice_returns_the_same_enrollment(api_client, student):
    course = CourseFactory()
    first = api_client.post("/api/v1/enrollments", {"course": course.slug}, format="json").json()
    second = api_client.post("/api/v1/enrollments", {"course": course.slug}, format="json").json()
    assert first["id"] == second["id"]
    assert Enrollment.objects.filter(user=student).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"course": "no-such-course"}, "course"),
        ({}, "course"),
        ({"course": "x", "status": "ACTIVE"}, "status"),
        ({"course": "x", "user": 1}, "user"),
        ({"course": "x", "amount": 1}, "amount"),
    ],
)
def test_enroll_refusals(api_client, student, body, field):
    if body.get("course") == "x":
        body["course"] = CourseFactory().slug
    response = api_client.post("/api/v1/enrollments", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Enrollment.objects.count() == 0


def test_enrolling_in_an_inactive_course_is_400(api_client, student):
    response = api_client.post("/api/v1/enrollments", {"course": CourseFactory(is_active=False).slug}, format="json")
    assert response.status_code == 400
    assert Enrollment.objects.count() == 0


def test_enrollment_list_holds_only_mine(api_client, student):
    mine = EnrollmentFactory(user=student)
    EnrollmentFactory()
    response = api_client.get("/api/v1/enrollments")
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


@pytest.mark.parametrize("count", [1, 50])
def test_enrollment_list_query_count_does_not_grow(api_client, student, django_assert_max_num_queries, count):
    EnrollmentFactory.create_batch(count, user=student)
    with django_assert_max_num_queries(4):
        response = api_client.get("/api/v1/enrollments?page_size=100")
    assert len(response.json()["results"]) == count


def test_enrollment_detail(api_client, student):
    enrollment = EnrollmentFactory(user=student, status=Enrollment.Status.ACTIVE)
    body = api_client.get(f"/api/v1/enrollments/{enrollment.pk}").json()
    assert (body["id"], body["status"], body["course"]["id"]) == (enrollment.pk, "ACTIVE", enrollment.course_id)


# --- dashboard --------------------------------------------------------------------------------


def test_dashboard_has_the_report_shape(api_client, student):
    for _ in range(6):
        EnrollmentFactory(user=student, status=Enrollment.Status.ACTIVE)
    response = api_client.get("/api/v1/dashboard")
    body = response.json()
    assert response.status_code == 200
    assert body["user"]["id"] == student.pk
    assert body["active_enrollment_count"] == 6
    assert len(body["enrollments"]) == 5
    assert len(body["recent_activity"]) <= 10
    assert set(body["enrollments"][0]["course"]) == {"id", "name", "slug", "type"}


def test_dashboard_is_served_from_cache_on_the_second_call(api_client, student, django_assert_max_num_queries):
    EnrollmentFactory(user=student, status=Enrollment.Status.ACTIVE)
    api_client.get("/api/v1/dashboard")
    with django_assert_max_num_queries(1):  # the JWT/session user only
        assert api_client.get("/api/v1/dashboard").status_code == 200


# --- notes ------------------------------------------------------------------------------------


def test_notes_tree_lists_published_notes_only(api_client):
    note = ChapterNoteFactory(grade="11", chapter="The Living World")
    ChapterNoteFactory(is_published=False)
    body = api_client.get("/api/v1/notes").json()
    assert body == [
        {
            "curriculum": "NCERT",
            "grade": "11",
            "chapters": [
                {
                    "number": note.chapter_number,
                    "chapter": "The Living World",
                    "slug": "the-living-world",
                    "notes": [{"title": note.title, "slug": note.slug}],
                }
            ],
        }
    ]


def test_note_detail_and_unpublished_is_404(api_client):
    note, hidden = ChapterNoteFactory(), ChapterNoteFactory(is_published=False)
    assert api_client.get(f"/api/v1/notes/{note.slug}").json()["body"] == note.body
    assert api_client.get(f"/api/v1/notes/{hidden.slug}").status_code == 404


def test_notes_grade_filter_refuses_unknown_grade(api_client):
    assert api_client.get("/api/v1/notes?grade=9").status_code == 400


# --- tests and attempts -------------------------------------------------------------------------


def test_test_list_and_detail_are_public(api_client):
    test = PracticeTestFactory(question_count=3)
    PracticeTestFactory(is_published=False)
    assert [row["slug"] for row in api_client.get("/api/v1/tests").json()["results"]] == [test.slug]
    detail = api_client.get(f"/api/v1/tests/{test.slug}").json()
    assert (detail["question_count"], detail["marks_correct"], detail["marks_wrong"]) == (3, 4, -1)


def test_a_live_mock_says_one_attempt_whatever_max_attempts_holds(api_client):
    live = PracticeTestFactory(question_count=1, max_attempts=3, scheduled_start=timezone.now() + timedelta(hours=1))
    practice = PracticeTestFactory(question_count=1, max_attempts=3)

    listed = {row["slug"]: row["max_attempts"] for row in api_client.get("/api/v1/tests").json()["results"]}

    assert listed == {live.slug: 1, practice.slug: 3}
    assert api_client.get(f"/api/v1/tests/{live.slug}").json()["max_attempts"] == 1


def test_start_returns_the_paper_without_answers(api_client, student):
    test = PracticeTestFactory(question_count=3)
    response = api_client.post(f"/api/v1/tests/{test.slug}/attempts")
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["attempt_number"], body["test"]) == ("IN_PROGRESS", 1, test.slug)
    assert 0 < body["seconds_left"] <= 30 * 60
    assert len(body["questions"]) == 3
    assert not {"correct", "correct_option", "explanation"} & set(body["questions"][0])


def test_start_twice_returns_the_running_attempt(api_client, student):
    test = PracticeTestFactory()
    first = api_client.post(f"/api/v1/tests/{test.slug}/attempts").json()
    second = api_client.post(f"/api/v1/tests/{test.slug}/attempts").json()
    assert first["id"] == second["id"]
    assert TestAttempt.objects.count() == 1


def test_start_a_course_test_without_enrollment_is_refused(api_client, student):
    test = PracticeTestFactory(is_free=False, course=CourseFactory())
    response = api_client.post(f"/api/v1/tests/{test.slug}/attempts")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_enrolled"


def test_full_attempt_answer_submit_result(api_client, student):
    # given a started three-question test
    test = PracticeTestFactory(question_count=3)
    attempt = api_client.post(f"/api/v1/tests/{test.slug}/attempts").json()
    key = answer_key(test)
    first, second, _third = (q["id"] for q in attempt["questions"])
    wrong = next(option for option in "ABCD" if option != key[second])
    # when one answer is right, one wrong, one left blank, and the attempt is submitted
    url = f"/api/v1/attempts/{attempt['id']}"
    single = api_client.post(f"{url}/answers", {"question_id": first, "option": key[first]}, format="json")
    assert (single.status_code, single.json()) == (200, {"saved": 1, "acknowledged_seq": 1})
    api_client.post(
        f"{url}/answers", {"question_id": second, "option": wrong, "marked_for_review": True}, format="json"
    )
    resumed = api_client.get(url).json()
    submitted = api_client.post(f"{url}/submit")
    # then the saved answers show on resume, and NTA marking gives 4 - 1 + 0
    assert [q["chosen"] for q in resumed["questions"]] == [key[first], wrong, ""]
    assert [q["marked"] for q in resumed["questions"]] == [False, True, False]
    assert submitted.status_code == 200
    body = submitted.json()
    assert (body["status"], body["score"], body["correct_count"], body["wrong_count"]) == ("SUBMITTED", 3, 1, 1)
    result = api_client.get(f"{url}/result").json()
    assert [q["correct"] for q in result["questions"]] == [key[q] for q in (first, second, _third)]
    # and submitting again changes nothing
    assert api_client.post(f"{url}/submit").json()["score"] == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question_id": 1, "option": "E"}, "option"),
        ({"question_id": "x", "option": "A"}, "question_id"),
        ({"option": "A"}, "question_id"),
        ({"question_id": 1, "option": "A", "score": 100}, "score"),
    ],
)
def test_answer_refusals(api_client, student, body, field):
    test = PracticeTestFactory()
    attempt = api_client.post(f"/api/v1/tests/{test.slug}/attempts").json()
    response = api_client.post(f"/api/v1/attempts/{attempt['id']}/answers", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_answer_to_a_question_not_in_the_paper_is_400(api_client, student):
    test = PracticeTestFactory()
    attempt = api_client.post(f"/api/v1/tests/{test.slug}/attempts").json()
    response = api_client.post(
        f"/api/v1/attempts/{attempt['id']}/answers", {"question_id": 999_999, "option": "A"}, format="json"
    )
    assert response.status_code == 400
    assert "question_id" in response.json()["error"]["fields"]


def test_answer_after_submit_is_409(api_client, student):
    test = PracticeTestFactory()
    attempt = api_client.post(f"/api/v1/tests/{test.slug}/attempts").json()
    api_client.post(f"/api/v1/attempts/{attempt['id']}/submit")
    qid = attempt["questions"][0]["id"]
    response = api_client.post(
        f"/api/v1/attempts/{attempt['id']}/answers", {"question_id": qid, "option": "A"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "attempt_closed"


def test_result_before_submit_is_409(api_client, student):
    attempt = api_client.post(f"/api/v1/tests/{PracticeTestFactory().slug}/attempts").json()
    response = api_client.get(f"/api/v1/attempts/{attempt['id']}/result")
    assert response.status_code == 409


def test_a_parent_can_read_but_not_answer_or_submit_a_childs_attempt(api_client):
    link = ParentLinkFactory()
    test = PracticeTestFactory()
    api_client.force_authenticate(link.student)
    attempt = api_client.post(f"/api/v1/tests/{test.slug}/attempts").json()
    api_client.force_authenticate(link.parent)
    url = f"/api/v1/attempts/{attempt['id']}"
    assert api_client.get(url).status_code == 200
    qid = attempt["questions"][0]["id"]
    assert api_client.post(f"{url}/answers", {"question_id": qid, "option": "A"}, format="json").status_code == 404
    assert api_client.post(f"{url}/submit").status_code == 404
    assert TestAttempt.objects.get().status == "IN_PROGRESS"


# --- leaderboards -----------------------------------------------------------------------------


def _submit_with_score(api_client, user, test, right: int) -> None:
    api_client.force_authenticate(user)
    attempt = api_client.post(f"/api/v1/tests/{test.slug}/attempts").json()
    key = answer_key(test)
    for question in attempt["questions"][:right]:
        body = {"question_id": question["id"], "option": key[question["id"]]}
        api_client.post(f"/api/v1/attempts/{attempt['id']}/answers", body, format="json")
    api_client.post(f"/api/v1/attempts/{attempt['id']}/submit")


def test_test_leaderboard_ranks_best_scores_and_shows_my_rank(api_client, django_capture_on_commit_callbacks):
    test = PracticeTestFactory(question_count=3)
    top, me = UserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _submit_with_score(api_client, top, test, right=3)
        _submit_with_score(api_client, me, test, right=1)
    body = api_client.get(f"/api/v1/tests/{test.slug}/leaderboard").json()
    assert [(row["user_id"], row["score"]) for row in body["top"]] == [(top.pk, 12), (me.pk, 4)]
    assert (body["total"], body["me"]["rank"], body["me"]["score"]) == (2, 2, 4)


def test_topic_leaderboard(api_client, student):
    response = api_client.get("/api/v1/leaderboards/topics/cell-organelles")
    assert response.status_code == 200
    assert (response.json()["topic_slug"], response.json()["top"], response.json()["me"]) == (
        "cell-organelles",
        [],
        None,
    )


@pytest.mark.parametrize("week", ["2026-W99", "2026-48", "week"])
def test_topic_leaderboard_refuses_a_bad_week(api_client, student, week):
    response = api_client.get(f"/api/v1/leaderboards/topics/cell-organelles?week={week}")
    assert response.status_code == 400
    assert "week" in response.json()["error"]["fields"]
