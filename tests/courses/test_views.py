"""Learner pages end to end through HTTP: status, key content, refusals, and query counts for 1 and 50 rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import FreeUser
from cerebrum.cache import page_cache_bump
from communications.models import CommunicationLog
from courses import caches, services
from courses.models import Enrollment
from courses.models import TestAttempt as Attempt
from tests.factories import (
    ChapterNoteFactory,
    CourseFactory,
    EnrollmentFactory,
    ParentLinkFactory,
    PracticeTestFactory,
    QuestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
CHAPTER = "Cell: The Unit of Life"


@pytest.fixture
def student(client):
    user = UserFactory(name="Asha Verma")
    client.force_login(user)
    client.get("/")  # the once-per-5-minutes last-active write happens here, not inside a counted request
    return user


def _submit(test, user, option, capture):
    with capture(execute=True):
        attempt = services.attempt_start(test=test, user=user)
        for question in caches.paper_get(test)["questions"]:
            services.attempt_answer(attempt=attempt, question_id=question["id"], option=option)
        return services.attempt_submit(attempt=attempt)


# --- same query count for 1 and 50 rows ----------------------------------------------------------


def _rows(rows: int, user, capture) -> dict:
    """`rows` of everything a page lists, plus the objects the detail pages need."""
    for _ in range(rows):
        CourseFactory(is_featured=True)
        PracticeTestFactory(question_count=0)
        ChapterNoteFactory(chapter=CHAPTER, grade="11")
        QuestionFactory(chapter=CHAPTER)
        EnrollmentFactory(user=user, status=Enrollment.Status.COMPLETED)
    test = PracticeTestFactory(question_count=rows, max_attempts=3)
    for _ in range(min(rows, 10)):
        _submit(test, UserFactory(), "A", capture)
    done = _submit(test, user, "B", capture)
    course = CourseFactory(syllabus="\n".join(f"Chapter {n}" for n in range(rows)))
    return {
        "course": course,
        "enrollment": EnrollmentFactory(user=user, course=course),
        "note": ChapterNoteFactory(chapter=CHAPTER, grade="11"),
        "test": test,
        "done": done,
        "running": services.attempt_start(test=test, user=user),
        "topic": caches.paper_get(test)["questions"][0]["topic"],
    }


# Query budgets of a page's first (uncached) render; the session's user comes from Redis (accounts.backends).
PAGES = [
    ("home", lambda o: reverse("courses:home"), 2, "Featured courses"),
    ("catalog", lambda o: reverse("courses:catalog"), 1, "NEET Biology Course"),
    (
        "catalog-filtered",
        lambda o: reverse("courses:catalog") + "?class_level=12&type=ONLINE",
        1,
        "NEET Biology Course",
    ),
    ("course", lambda o: reverse("courses:course_detail", args=[o["course"].slug]), 2, "GST (18%)"),
    ("enrollments", lambda o: reverse("courses:enrollments"), 1, "My enrollments"),
    ("enrollment", lambda o: reverse("courses:enrollment", args=[o["enrollment"].pk]), 1, "Pending payment"),
    ("dashboard", lambda o: reverse("courses:dashboard"), 4, "Score trend"),
    ("notes", lambda o: reverse("courses:notes"), 1, CHAPTER),
    ("notes-grade", lambda o: reverse("courses:notes_grade", args=["11"]), 1, CHAPTER),
    ("notes-chapter", lambda o: reverse("courses:notes_chapter", args=["11", slugify(CHAPTER)]), 1, "Notes"),
    ("note", lambda o: reverse("courses:note_detail", args=[o["note"].slug]), 2, "Practice questions"),
    ("tests", lambda o: reverse("courses:tests"), 1, "NEET Mock Test"),
    ("test", lambda o: reverse("courses:test_detail", args=[o["test"].slug]), 2, "Continue your attempt"),
    ("attempt", lambda o: reverse("courses:attempt", args=[o["running"].pk]), 1, "Submit test"),
    ("result", lambda o: reverse("courses:attempt_result", args=[o["done"].pk]), 1, "Topic breakdown"),
    ("leaderboard", lambda o: reverse("courses:leaderboard", args=[o["test"].slug]), 3, "Your rank"),
    # the board's first read (in the test) built it and cached its names
    ("topic-board", lambda o: reverse("courses:topic_leaderboard", args=[slugify(o["topic"])]), 0, "· week 20"),
]


@pytest.mark.parametrize("rows", [1, 50])
@pytest.mark.parametrize(("name", "url", "queries", "text"), PAGES, ids=[page[0] for page in PAGES])
def test_page_status_content_and_constant_queries(
    client, student, rows, name, url, queries, text, django_assert_num_queries, django_capture_on_commit_callbacks
):
    # Given rows of everything, and cold page caches (the fixture's visit cached the home page)
    objects = _rows(rows, student, django_capture_on_commit_callbacks)
    caches.dashboard_invalidate(student.pk)
    page_cache_bump("courses")
    if name == "topic-board":
        client.get(url(objects))  # the weekly board exists from its first read on

    # When
    with django_assert_num_queries(queries):
        response = client.get(url(objects))

    # Then
    assert response.status_code == 200
    assert text in response.content.decode()


# --- catalog and course ---------------------------------------------------------------------------


def test_course_detail_shows_fees_syllabus_start_and_calls_to_action(client, student):
    course = CourseFactory(fees_paise=11_800_00, syllabus="The Living World\nCell Cycle", start_date="2027-01-05")
    test = PracticeTestFactory(is_free=True)

    body = client.get(reverse("courses:course_detail", args=[course.slug])).content.decode()

    assert "₹10,000" in body
    assert "₹1,800" in body
    assert "₹11,800" in body
    assert "<li>The Living World</li>" in body
    assert "Tuesday, 5 January 2027" in body
    assert reverse("courses:test_detail", args=[test.slug]) in body
    assert reverse("courses:enroll", args=[course.slug]) in body


def test_catalog_filters_by_class(client):
    CourseFactory(name="Class Eleven Foundation", class_level="11")
    CourseFactory(name="Dropper Crash", class_level="DROPPER", type="CRASH")

    body = client.get(reverse("courses:catalog"), {"class_level": "DROPPER"}).content.decode()

    assert "Dropper Crash" in body
    assert "Class Eleven Foundation" not in body


def test_anonymous_course_page_has_no_csrf_form_so_it_can_be_cached(client):
    course = CourseFactory()

    first = client.get(reverse("courses:course_detail", args=[course.slug]))
    second = client.get(reverse("courses:course_detail", args=[course.slug]))

    assert "csrfmiddlewaretoken" not in first.content.decode()
    assert reverse("accounts:signup") + "?next=" in first.content.decode()
    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")


@pytest.mark.parametrize("url_name", ["courses:course_detail", "courses:test_detail", "courses:note_detail"])
def test_unknown_slugs_are_404(client, url_name):
    assert client.get(reverse(url_name, args=["no-such-thing"])).status_code == 404


def test_note_markdown_is_rendered_and_sanitised(client):
    note = ChapterNoteFactory(body="## Mitosis\n\n**Prophase** first.\n\n<script>alert(1)</script>")

    body = client.get(reverse("courses:note_detail", args=[note.slug])).content.decode()

    assert "<h2>Mitosis</h2>" in body
    assert "<strong>Prophase</strong>" in body
    assert "<script>alert(1)</script>" not in body


# --- enrollment -----------------------------------------------------------------------------------


def test_enroll_requires_login_and_post(client):
    course = CourseFactory()
    url = reverse("courses:enroll", args=[course.slug])

    assert client.get(url).status_code in (302, 405)
    response = client.post(url)

    assert response.status_code == 302
    assert reverse("accounts:login") in response.url
    assert Enrollment.objects.count() == 0


def test_enroll_creates_pending_and_links_checkout(client, student):
    course = CourseFactory()

    response = client.post(reverse("courses:enroll", args=[course.slug]), follow=True)

    enrollment = Enrollment.objects.get(user=student)
    assert enrollment.status == Enrollment.Status.PENDING
    assert response.redirect_chain[-1][0] == reverse("courses:enrollment", args=[enrollment.pk])
    assert reverse("payments:checkout", args=[enrollment.pk]) in response.content.decode()


def test_enroll_in_inactive_course_is_404_and_saves_nothing(client, student):
    course = CourseFactory(is_active=False)

    response = client.post(reverse("courses:enroll", args=[course.slug]))

    assert response.status_code == 404
    assert Enrollment.objects.count() == 0


def test_another_learners_enrollment_is_404(client, student):
    other = EnrollmentFactory()

    assert client.get(reverse("courses:enrollment", args=[other.pk])).status_code == 404


def test_parent_sees_linked_childs_enrollment_without_checkout(client):
    link = ParentLinkFactory()
    enrollment = EnrollmentFactory(user=link.student)
    client.force_login(link.parent)

    response = client.get(reverse("courses:enrollment", args=[enrollment.pk]))

    assert response.status_code == 200
    assert reverse("payments:checkout", args=[enrollment.pk]) not in response.content.decode()


def test_enrollments_page_links_older_page(client, student):
    for _ in range(25):
        EnrollmentFactory(user=student, status=Enrollment.Status.COMPLETED)

    first = client.get(reverse("courses:enrollments"))
    second = client.get(reverse("courses:enrollments"), {"cursor": first.context["next_cursor"]})

    assert len(first.context["enrollments"]) == 20
    assert len(second.context["enrollments"]) == 5
    assert second.context["next_cursor"] is None


@pytest.mark.parametrize("url_name", ["courses:dashboard", "courses:enrollments"])
def test_learner_pages_need_login(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


# --- taking a test --------------------------------------------------------------------------------


def test_start_answer_plain_form_and_submit_shows_nta_score(client, student):
    test = PracticeTestFactory(question_count=3)
    questions = caches.paper_get(test)["questions"]

    start = client.post(reverse("courses:test_start", args=[test.slug]))
    attempt = Attempt.objects.get(user=student)
    answer_url = reverse("courses:attempt_answer", args=[attempt.pk])
    saved = client.post(answer_url, {"question_id": questions[0]["id"], "option": "A", "next": 2})
    client.post(answer_url, {"question_id": questions[1]["id"], "option": "C", "marked_for_review": "on"})
    page = client.get(reverse("courses:attempt", args=[attempt.pk]), {"view": "all"}).content.decode()
    result = client.post(reverse("courses:attempt_submit", args=[attempt.pk]), follow=True)

    assert start.url == reverse("courses:attempt", args=[attempt.pk])
    assert saved.url == reverse("courses:attempt", args=[attempt.pk]) + "?q=2"
    assert 'value="A" checked' in page
    assert 'value="C" checked' in page
    assert '<span id="marked-count">1</span> marked for review' in page
    assert result.context["attempt"].score == 4 - 1
    assert 'id="score">3<' in result.content.decode()


def test_answer_by_fetch_returns_json(client, student):
    test = PracticeTestFactory(question_count=1)
    attempt = services.attempt_start(test=test, user=student)
    qid = caches.paper_get(test)["questions"][0]["id"]

    response = client.post(
        reverse("courses:attempt_answer", args=[attempt.pk]),
        {"question_id": qid, "option": "B"},
        headers={"accept": "application/json"},
    )

    assert response.json() == {"saved": True, "question_id": qid, "option": "B"}
    assert services.attempt_answers(attempt)[0] == {str(qid): "B"}


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"question_id": 999_999, "option": "A"}, 400, "question_id"),
        ({"option": "E"}, 400, "option"),
        ({"question_id": "x", "option": "A"}, 400, "question_id"),
    ],
)
def test_tampered_answers_are_refused_and_nothing_saved(client, student, payload, status, field):
    test = PracticeTestFactory(question_count=1)
    attempt = services.attempt_start(test=test, user=student)
    payload = {"question_id": caches.paper_get(test)["questions"][0]["id"], **payload}

    response = client.post(
        reverse("courses:attempt_answer", args=[attempt.pk]), payload, headers={"accept": "application/json"}
    )

    assert response.status_code == status
    assert field in response.json()["error"]["fields"]
    assert services.attempt_answers(attempt) == ({}, set())


def test_answer_after_expiry_and_grace_is_refused(client, student):
    test = PracticeTestFactory(question_count=1)
    attempt = services.attempt_start(test=test, user=student)
    Attempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = client.post(
        reverse("courses:attempt_answer", args=[attempt.pk]),
        {"question_id": caches.paper_get(test)["questions"][0]["id"], "option": "A"},
        headers={"accept": "application/json"},
    )

    assert response.status_code == 409
    assert response.json()["error"]["message"] == "Time is up for this attempt."


@pytest.mark.parametrize("url_name", ["courses:attempt", "courses:attempt_result"])
def test_another_learners_attempt_pages_are_404(client, student, url_name):
    attempt = services.attempt_start(test=PracticeTestFactory(), user=UserFactory())

    assert client.get(reverse(url_name, args=[attempt.pk])).status_code == 404


@pytest.mark.parametrize("url_name", ["courses:attempt_answer", "courses:attempt_submit"])
def test_another_learners_attempt_cannot_be_changed(client, student, url_name):
    attempt = services.attempt_start(test=PracticeTestFactory(), user=UserFactory())

    response = client.post(reverse(url_name, args=[attempt.pk]), {"question_id": 1, "option": "A"})

    assert response.status_code == 404
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS


def test_parent_can_view_but_not_submit_childs_attempt(client):
    link = ParentLinkFactory()
    attempt = services.attempt_start(test=PracticeTestFactory(), user=link.student)
    client.force_login(link.parent)

    submit = client.post(reverse("courses:attempt_submit", args=[attempt.pk]))

    assert submit.status_code == 404
    assert Attempt.objects.get(pk=attempt.pk).status == Attempt.Status.IN_PROGRESS


def test_double_submit_scores_once(client, student, django_capture_on_commit_callbacks):
    test = PracticeTestFactory(question_count=1)
    attempt = services.attempt_start(test=test, user=student)
    url = reverse("courses:attempt_submit", args=[attempt.pk])

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url)
        second = client.post(url)

    assert first.url == second.url == reverse("courses:attempt_result", args=[attempt.pk])
    assert CommunicationLog.objects.filter(template="test_result").count() == 2  # email + WhatsApp, once


def test_attempt_limit_refusal_is_shown_on_the_test_page(client, student):
    test = PracticeTestFactory(question_count=1, max_attempts=1)
    services.attempt_submit(attempt=services.attempt_start(test=test, user=student))

    response = client.post(reverse("courses:test_start", args=[test.slug]), follow=True)

    assert "You have used all 1 attempts of this test." in response.content.decode()
    assert Attempt.objects.filter(user=student).count() == 1


def test_course_test_without_enrollment_is_refused(client, student):
    test = PracticeTestFactory(is_free=False, course=CourseFactory())

    response = client.post(reverse("courses:test_start", args=[test.slug]), follow=True)

    assert "not enrolled" in response.content.decode()
    assert Attempt.objects.count() == 0


def test_scheduled_test_before_t0_is_refused(client, student):
    test = PracticeTestFactory(scheduled_start=timezone.now() + timedelta(hours=1))

    response = client.post(reverse("courses:test_start", args=[test.slug]), follow=True)

    assert "This test has not started yet." in response.content.decode()
    assert Attempt.objects.count() == 0


# --- free users -----------------------------------------------------------------------------------


def test_visitor_gives_name_and_phone_then_takes_free_test(client):
    test = PracticeTestFactory(question_count=1, is_free=True)

    response = client.post(
        reverse("courses:test_start", args=[test.slug]), {"name": "Ravi Kumar", "phone": "98123 45678", "grade": "12"}
    )

    free_user = FreeUser.objects.get()
    attempt = Attempt.objects.get(free_user=free_user)
    assert (free_user.name, free_user.phone) == ("Ravi Kumar", "+919812345678")
    assert client.session["free_user_id"] == free_user.pk
    assert response.url == reverse("courses:attempt", args=[attempt.pk])
    assert client.get(response.url).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"), [({"name": "", "phone": "98123 45678"}, "name"), ({"name": "Ravi", "phone": "12"}, "phone")]
)
def test_free_test_form_errors_beside_fields_and_nothing_saved(client, payload, field):
    test = PracticeTestFactory(is_free=True)

    response = client.post(reverse("courses:test_start", args=[test.slug]), payload)

    assert response.status_code == 400
    assert response.context["free_form"].errors[field]
    assert FreeUser.objects.count() == 0
    assert Attempt.objects.count() == 0


def test_visitor_cannot_start_paid_test(client):
    test = PracticeTestFactory(is_free=False, course=CourseFactory())

    response = client.post(reverse("courses:test_start", args=[test.slug]), {"name": "Ravi", "phone": "9812345678"})

    assert response.status_code == 302
    assert reverse("accounts:login") in response.url
    assert Attempt.objects.count() == 0


def test_scheduled_exam_hides_answer_key_until_it_ends(client, student):
    # Given a scheduled exam still running, submitted early by one learner
    test = PracticeTestFactory(question_count=1, scheduled_start=timezone.now() - timedelta(minutes=5))
    attempt = services.attempt_submit(attempt=services.attempt_start(test=test, user=student))

    # When they open their result
    body = client.get(reverse("courses:attempt_result", args=[attempt.pk])).content.decode()

    # Then they see their score but no key or explanation while others are still writing
    assert "Answers and explanations appear when the exam ends" in body
    assert "Mitochondria make ATP" not in body
    test.scheduled_start = timezone.now() - timedelta(minutes=40)
    test.save(update_fields=["scheduled_start"])
    assert "Mitochondria make ATP" in client.get(reverse("courses:attempt_result", args=[attempt.pk])).content.decode()


@pytest.mark.parametrize("path", ["/notes/13/", "/notes/11/no-such-chapter/"])
def test_unknown_grade_or_chapter_is_404(client, path):
    ChapterNoteFactory(grade="11", chapter=CHAPTER)

    assert client.get(path).status_code == 404


def test_clear_response_removes_the_answer_but_keeps_the_review_mark(client, student):
    test = PracticeTestFactory(question_count=2)
    attempt = services.attempt_start(test=test, user=student)
    qid = caches.paper_get(test)["questions"][0]["id"]
    url = reverse("courses:attempt_answer", args=[attempt.pk])
    client.post(url, {"question_id": qid, "option": "C"})

    client.post(url, {"question_id": qid, "option": "C", "marked_for_review": "on", "clear": "1"})

    assert services.attempt_answers(attempt) == ({}, {str(qid)})


def test_the_exam_page_after_start_costs_no_query(
    client, student, django_assert_num_queries, django_capture_on_commit_callbacks
):
    test = PracticeTestFactory(question_count=3)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("courses:test_start", args=[test.slug]))

    with django_assert_num_queries(0):  # the new attempt went to Redis when the start committed
        page = client.get(started["Location"])

    assert page.status_code == 200
    assert "Submit test" in page.content.decode()


@pytest.mark.parametrize("questions", [1, 50])
def test_saving_an_answer_costs_one_query_and_no_write(client, student, questions, django_assert_num_queries):
    # Given a running attempt whose paper is cached (as during an exam)
    test = PracticeTestFactory(question_count=questions)
    attempt = services.attempt_start(test=test, user=student)
    qid = caches.paper_get(test)["questions"][-1]["id"]

    # When: the attempt is read (the session user comes from Redis); the answer itself goes to Redis
    with django_assert_num_queries(1):
        response = client.post(
            reverse("courses:attempt_answer", args=[attempt.pk]),
            {"question_id": qid, "option": "D"},
            headers={"accept": "application/json"},
        )

    # Then
    assert response.json()["saved"] is True
    assert Attempt.objects.get(pk=attempt.pk).answers == {}
    with django_assert_num_queries(0):  # the running attempt is in Redis from now on
        again = client.post(
            reverse("courses:attempt_answer", args=[attempt.pk]),
            {"question_id": qid, "option": "A"},
            headers={"accept": "application/json"},
        )
    assert again.json()["saved"] is True


@pytest.mark.parametrize(("week", "status"), [("2026-W01", 200), ("2026-W99", 404), ("last", 404)])
def test_topic_board_for_a_chosen_week(client, week, status):
    response = client.get(reverse("courses:topic_leaderboard", args=["nucleus"]), {"week": week})

    assert response.status_code == status
