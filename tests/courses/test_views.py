"""Learner pages end to end through HTTP: status, key content, refusals, and query counts for 1 and 50 rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import FreeUser
from cerebrum.cache import page_cache_bump
from cerebrum.errors import DomainError
from communications.models import CommunicationLog
from courses import caches, selectors, services
from courses.models import AttemptAnswer, Enrollment, TestSection
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
    # 3 for the dashboard data + 1 for the revision line (due today, streak: practice.revision, then Redis).
    ("dashboard", lambda o: reverse("courses:dashboard"), 4, "Score trend"),
    ("notes", lambda o: reverse("courses:notes"), 1, CHAPTER),
    ("notes-grade", lambda o: reverse("courses:notes_grade", args=["11"]), 1, CHAPTER),
    ("notes-chapter", lambda o: reverse("courses:notes_chapter", args=["11", slugify(CHAPTER)]), 1, "Notes"),
    ("note", lambda o: reverse("courses:note_detail", args=[o["note"].slug]), 2, "Practice questions"),
    ("tests", lambda o: reverse("courses:tests"), 1, "NEET Mock Test"),
    # the same for every learner (nginx shares it): the running attempt shows through the page-state JSON
    ("test", lambda o: reverse("courses:test_detail", args=[o["test"].slug]), 1, "Start test"),
    # the attempt row (not yet in Redis: its start did not commit here) and its answers (the store of record)
    ("attempt", lambda o: reverse("courses:attempt", args=[o["running"].pk]), 2, "Submit test"),
    # the attempt, and which of its questions a live or course test also uses (their keys stay private)
    ("result", lambda o: reverse("courses:attempt_result", args=[o["done"].pk]), 2, "Topic breakdown"),
    # the top list only: "my rank" is filled from the rank JSON (the element waits for it, hidden)
    ("leaderboard", lambda o: reverse("courses:leaderboard", args=[o["test"].slug]), 3, 'id="my-rank" hidden'),
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


def test_attempt_limit_refusal_is_shown_on_the_test_page(client, student):
    test = PracticeTestFactory(question_count=1, max_attempts=1)
    services.attempt_submit(attempt=services.attempt_start(test=test, user=student))

    response = client.post(reverse("courses:test_start", args=[test.slug]), follow=True)

    assert "You have used your 1 attempt of this test." in response.content.decode()
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


def test_live_mock_result_waits_for_the_window_to_close(client, student):
    # Given a scheduled (live) mock still running, submitted early by one learner
    test = PracticeTestFactory(question_count=1, scheduled_start=timezone.now() - timedelta(minutes=5))
    attempt = services.attempt_submit(attempt=services.attempt_start(test=test, user=student))

    # When they open their result
    body = client.get(reverse("courses:attempt_result", args=[attempt.pk])).content.decode()

    # Then no score, key or explanation while others are still writing; all of it once the window closed
    assert "scores, answers and solutions appear when its window closes" in body
    assert 'id="score"' not in body
    assert "Mitochondria make ATP" not in body
    test.scheduled_start = timezone.now() - timedelta(minutes=40)
    test.save(update_fields=["scheduled_start"])
    later = client.get(reverse("courses:attempt_result", args=[attempt.pk])).content.decode()
    assert "Mitochondria make ATP" in later
    assert 'id="score"' in later


def test_a_live_mocks_page_states_its_one_attempt_whatever_max_attempts_says(client, student):
    live = PracticeTestFactory(question_count=1, max_attempts=3, scheduled_start=timezone.now() + timedelta(hours=1))

    body = client.get(reverse("courses:test_detail", args=[live.slug])).content.decode()

    assert "Up to 3 attempts" not in body
    assert "One attempt" in body


@pytest.mark.parametrize("path", ["/notes/13/", "/notes/11/no-such-chapter/"])
def test_unknown_grade_or_chapter_is_404(client, path):
    ChapterNoteFactory(grade="11", chapter=CHAPTER)

    assert client.get(path).status_code == 404


# --- the NTA exam screen (issue 15 §2; docs/exam.md) ------------------------------------------


def _start(student, questions: int = 4, **test_fields):
    test = PracticeTestFactory(question_count=questions, **test_fields)
    attempt = services.attempt_start(test=test, user=student)
    return attempt, [question["id"] for question in selectors.attempt_state(attempt=attempt)["paper"]]


def _stored(attempt) -> dict[int, tuple[str, bool]]:
    return {row.question_id: (row.option, row.marked) for row in AttemptAnswer.objects.filter(attempt=attempt)}


def _save(attempt, *items: tuple[int, str, bool]) -> None:
    answers = [
        {"question_id": qid, "option": option, "marked_for_review": marked, "seq": seq}
        for seq, (qid, option, marked) in enumerate(items, start=1)
    ]
    services.attempt_answers_save(attempt=attempt, answers=answers)


def test_the_exam_page_after_start_costs_one_query(
    client, student, django_assert_num_queries, django_capture_on_commit_callbacks
):
    test = PracticeTestFactory(question_count=3)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("courses:test_start", args=[test.slug]))

    # the attempt went to Redis when the start committed; its answers come from PostgreSQL, the store of record
    with django_assert_num_queries(1):
        page = client.get(started["Location"])

    assert page.status_code == 200
    assert "Submit test" in page.content.decode()


def test_plain_form_buttons_work_the_nta_way(client, student):
    # Given a running attempt, without JavaScript (every button posts the form)
    attempt, ids = _start(student)
    url = reverse("courses:attempt_answer", args=[attempt.pk])
    page = reverse("courses:attempt", args=[attempt.pk])

    # When: Save & Next on Q1, Mark for Review & Next on Q2, a pick then Back on Q3, Clear Response on Q2
    save = client.post(url, {"question_id": ids[0], "option": "A", "action": "save_next"})
    mark = client.post(url, {"question_id": ids[1], "option": "C", "action": "mark_next"})
    back = client.post(url, {"question_id": ids[2], "option": "D", "action": "back"})
    clear = client.post(url, {"question_id": ids[1], "action": "clear"})

    # Then each lands on the right question (at the question, not the top), and Back dropped the unsaved pick
    assert [save.url, mark.url, back.url, clear.url] == [f"{page}?q={n}#question" for n in (2, 3, 2, 2)]
    assert _stored(attempt) == {ids[0]: ("A", False), ids[1]: ("", True), ids[2]: ("", False)}


def test_save_and_next_is_the_default_button_so_enter_never_clears(client, student):
    attempt, ids = _start(student)

    body = client.get(reverse("courses:attempt", args=[attempt.pk])).content.decode()
    form = body[body.index('<form method="post" action="/attempts/') :]
    first_submit = re.search(r'<(?:button|input)[^>]*type="submit"[^>]*>', form).group(0)
    # a form posted with no button at all (implicit submission by an old page) saves too, never clears
    client.post(reverse("courses:attempt_answer", args=[attempt.pk]), {"question_id": ids[0], "option": "B"})

    assert 'value="save_next"' in first_submit
    assert _stored(attempt) == {ids[0]: ("B", False)}


def test_palette_shows_the_five_nta_states_the_legend_and_the_current_question(client, student):
    # Given one question in each state (the one on screen counts as visited)
    attempt, ids = _start(student, questions=6)
    _save(attempt, (ids[0], "", False), (ids[1], "B", False), (ids[2], "", True), (ids[3], "C", True))

    body = client.get(reverse("courses:attempt", args=[attempt.pk]), {"q": 5}).content.decode()

    palette = body[body.index('id="palette"') :]
    items = re.findall(
        r'class="pal s-(\w+)" data-q="(\d+)" data-n="\d+" aria-label="([^"]+)"( aria-current="step")?', palette
    )
    assert [(int(qid), state) for state, qid, _, _ in items] == [
        (ids[0], "not_answered"),
        (ids[1], "answered"),
        (ids[2], "marked_for_review"),
        (ids[3], "answered_and_marked"),
        (ids[4], "not_answered"),
        (ids[5], "not_visited"),
    ]
    assert items[3][2] == "Question 4, Answered and marked for review (will be scored)"
    assert [bool(current) for *_, current in items] == [False, False, False, False, True, False]
    legend = dict(re.findall(r'data-count="(\w+)">(\d+)<', palette))
    assert legend == {
        "not_visited": "1",
        "not_answered": "2",
        "answered": "1",
        "marked_for_review": "1",
        "answered_and_marked": "1",
    }


def test_sections_are_tabs_with_answered_counts_and_the_any_n_rule(client, student):
    test = PracticeTestFactory(question_count=4)
    physics = TestSection.objects.create(test=test, name="Physics", position=1)
    botany = TestSection.objects.create(test=test, name="Botany", position=2, attempt_any=1)
    for item, section in zip(test.paper_items.order_by("position"), [physics, physics, botany, botany], strict=True):
        item.section = section
        item.save(update_fields=["section"])
    test = services.practice_test_bump_paper(test=test)
    attempt = services.attempt_start(test=test, user=student)
    first = selectors.attempt_state(attempt=attempt)["paper"][0]["id"]
    _save(attempt, (first, "A", False))

    body = client.get(reverse("courses:attempt", args=[attempt.pk]), {"q": 3}).content.decode()

    assert re.search(r'aria-current="true">Physics', body) is None
    assert 'data-section-count="0">1/2</span>' in body
    assert re.search(
        r'aria-current="true">Botany <span class="section-count" data-section-count="1">0/2</span> '
        r'<span class="section-rule">any 1</span>',
        body,
    )
    assert 'Question <span id="question-number">3</span>' in body
    assert " · Botany" in body
    confirm = client.get(reverse("courses:attempt_submit", args=[attempt.pk])).content.decode()
    rows = re.findall(r'<tr><th scope="row">(\w+)</th><td data-label="Questions">(\d)</td>(.*?)</tr>', confirm)
    assert [(name, total) for name, total, _ in rows] == [("Physics", "2"), ("Botany", "2")]
    assert 'data-section-summary="answered">1<' in rows[0][2]
    assert 'data-section-summary="not_visited">2<' in rows[1][2]


def test_the_exam_page_shows_only_the_exam(client, student):
    attempt, _ = _start(student)
    page = reverse("courses:attempt", args=[attempt.pk])

    body = client.get(page).content.decode()

    links = re.findall(r'href="([^"]+)"', body)
    assert links
    assert all(link.startswith(("?", "#", "data:", settings.STATIC_URL, page)) for link in links)
    assert "Log out" not in body
    assert 'class="site-header"' not in body


def test_question_paper_lists_every_question_read_only(client, student):
    attempt, ids = _start(student, questions=3)

    body = client.get(reverse("courses:attempt", args=[attempt.pk]), {"view": "paper"}).content.decode()

    assert body.count('class="paper-question"') == 3
    assert 'type="radio"' not in body
    assert '<a href="?q=3#question">Question 3</a>' in body


@pytest.mark.parametrize("items", [1, 50])
def test_a_queued_batch_keeps_the_newest_seq_per_question_in_constant_queries(
    client, student, items, django_assert_max_num_queries
):
    # Given a running attempt of 50 questions, and a batch the page queued (possibly while offline)
    attempt, ids = _start(student, questions=50)
    url = reverse("courses:attempt_answer", args=[attempt.pk])
    batch = [
        {"question_id": qid, "option": "A", "marked_for_review": False, "seq": 10 + n, "time_spent_seconds": 0}
        for n, qid in enumerate(ids[:items])
    ]

    # When it is sent, then a late retry of an older change arrives
    with django_assert_max_num_queries(2):  # the attempt (not yet in Redis here) and one upsert
        sent = client.post(url, {"answers": batch}, content_type="application/json")
    stale = client.post(
        url, {"answers": [{"question_id": ids[0], "option": "D", "seq": 3}]}, content_type="application/json"
    )

    # Then every item is stored once and the older change is ignored
    assert sent.json() == {"saved": items, "acknowledged_seq": 9 + items}
    assert stale.json() == {"saved": 0, "acknowledged_seq": 9 + items}
    assert _stored(attempt) == dict.fromkeys(ids[:items], ("A", False))


def _good(qid: int) -> dict:
    return {"question_id": qid, "option": "B", "marked_for_review": False, "seq": 2}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (lambda ids: {"answers": []}, "answers"),
        (lambda ids: {"answers": [_good(ids[1]), {"question_id": 999_999, "option": "A", "seq": 1}]}, "question_id"),
        (lambda ids: {"answers": [_good(ids[1]), {"question_id": ids[0], "option": "E", "seq": 1}]}, "option"),
        (lambda ids: {"answers": [_good(ids[1]), {"question_id": ids[0], "option": "A"}]}, "seq"),
        (lambda ids: {"answers": [_good(ids[1]), {**_good(ids[0]), "time_spent_seconds": -3}]}, "time_spent_seconds"),
        (lambda ids: {"answers": [_good(ids[1]), {**_good(ids[0]), "seq": 2**31}]}, "seq"),
        (
            lambda ids: {"answers": [_good(ids[1]), {**_good(ids[0]), "time_spent_seconds": 2**31}]},
            "time_spent_seconds",
        ),
        (lambda ids: {"answers": "A"}, "answers"),
        (lambda ids: "not json", "answers"),
        (lambda ids: '{"answers": ' + "[" * 50_000 + "]" * 50_000 + "}", "answers"),
    ],
    ids=[
        "empty",
        "not-in-paper",
        "option-E",
        "no-seq",
        "negative-time",
        "seq-past-integer",
        "time-past-integer",
        "not-a-list",
        "not-json",
        "nested-past-the-parsers-depth",
    ],
)
def test_a_malformed_batch_is_refused_whole_and_nothing_is_saved(client, student, body, field):
    attempt, ids = _start(student)

    response = client.post(
        reverse("courses:attempt_answer", args=[attempt.pk]), body(ids), content_type="application/json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert _stored(attempt) == {}


@pytest.mark.parametrize("questions", [1, 50])
def test_the_previous_scripts_form_post_still_saves_one_answer(
    client, student, questions, django_assert_max_num_queries
):
    # Given a page loaded before a deploy, whose old attempt.js posts one answer as a form, asking for JSON
    attempt, ids = _start(student, questions=questions)
    url = reverse("courses:attempt_answer", args=[attempt.pk])

    with django_assert_max_num_queries(2):  # the attempt (not yet in Redis here) and one upsert
        saved = client.post(url, {"question_id": ids[-1], "option": "D"}, headers={"accept": "application/json"})
    cleared = client.post(
        url,
        {"question_id": ids[-1], "option": "D", "marked_for_review": "on", "clear": "1"},
        headers={"accept": "application/json"},
    )

    assert saved.json() == {"saved": 1, "acknowledged_seq": 1}
    assert cleared.json() == {"saved": 1, "acknowledged_seq": 2}
    assert _stored(attempt) == {ids[-1]: ("", True)}


def test_a_seq_past_the_database_integer_is_refused_not_a_server_error(client, student):
    # Given a running attempt; attempt_answers.seq is a PostgreSQL integer (2**31 - 1 at most)
    attempt, ids = _start(student)
    url = reverse("courses:attempt_answer", args=[attempt.pk])

    # When a hand-made plain form and the old script's post carry a seq past it
    form = client.post(url, {"question_id": ids[0], "option": "A", "seq": str(2**31), "action": "save_next"})
    old_script = client.post(
        url, {"question_id": ids[0], "option": "A", "seq": str(2**40)}, headers={"accept": "application/json"}
    )
    # and a service caller skips the forms, after a save at the highest seq allowed
    services.attempt_answers_save(
        attempt=attempt, answers=[{"question_id": ids[1], "option": "B", "seq": services.MAX_SEQ}]
    )
    with pytest.raises(DomainError) as refused:
        services.attempt_answers_save(attempt=attempt, answers=[{"question_id": ids[0], "option": "C", "seq": 2**31}])
    # a save without seq after the highest one still fits ("last + 1")
    services.attempt_answer(attempt=attempt, question_id=ids[2], option="D")

    # Then each is refused (never a 500) and only the allowed saves are stored
    assert form.status_code == 302
    assert old_script.status_code == 400
    assert "seq" in old_script.json()["error"]["fields"]
    assert refused.value.fields == {"seq": [f"Between 1 and {services.MAX_SEQ}."]}
    assert _stored(attempt) == {ids[1]: ("B", False), ids[2]: ("D", False)}


def test_a_batch_after_the_deadline_is_409_attempt_closed(client, student):
    attempt, ids = _start(student)
    Attempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() - timedelta(minutes=5))
    caches.attempts_forget([attempt.pk])

    response = client.post(
        reverse("courses:attempt_answer", args=[attempt.pk]),
        {"answers": [{"question_id": ids[0], "option": "A", "seq": 1}]},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "attempt_closed"
    assert _stored(attempt) == {}


def test_a_plain_form_save_after_the_deadline_scores_the_attempt_and_shows_its_result(client, student):
    # Given an attempt whose time (and grace) ran out before the expiry sweep reached it
    attempt, ids = _start(student)
    services.attempt_answers_save(attempt=attempt, answers=[{"question_id": ids[0], "option": "A", "seq": 1}])
    Attempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() - timedelta(minutes=5))
    caches.attempts_forget([attempt.pk])

    # When the page without JavaScript saves one more answer
    response = client.post(
        reverse("courses:attempt_answer", args=[attempt.pk]), {"question_id": ids[1], "option": "A"}, follow=True
    )

    # Then it is refused, the attempt is scored with what was saved in time, and the result is shown
    assert response.redirect_chain[-1][0] == reverse("courses:attempt_result", args=[attempt.pk])
    assert Attempt.objects.get(pk=attempt.pk).status == Attempt.Status.EXPIRED
    assert response.context["attempt"].score == 4


def test_an_ended_session_gets_a_json_401_not_an_html_page(client, student):
    attempt, ids = _start(student)
    client.logout()

    response = client.post(
        reverse("courses:attempt_answer", args=[attempt.pk]),
        {"answers": [{"question_id": ids[0], "option": "A", "seq": 1}]},
        content_type="application/json",
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_expired"
    assert _stored(attempt) == {}


def test_submit_asks_for_confirmation_with_the_nta_summary(client, student):
    # Given one question in each state (the fifth never opened)
    attempt, ids = _start(student, questions=5)
    _save(attempt, (ids[0], "A", False), (ids[1], "", True), (ids[2], "A", True), (ids[3], "", False))
    submit = reverse("courses:attempt_submit", args=[attempt.pk])

    # When the learner presses Submit (the page without JavaScript), then posts without confirming
    summary = client.get(submit).content.decode()
    unconfirmed = client.post(submit)

    # Then the summary counts each state and nothing is submitted until "Yes, submit"
    assert dict(re.findall(r'<td data-count="(\w+)">(\d+)</td>', summary)) == {
        "answered": "1",
        "not_answered": "1",
        "marked_for_review": "1",
        "answered_and_marked": "1",
        "not_visited": "1",
    }
    assert unconfirmed.url == submit
    assert Attempt.objects.get(pk=attempt.pk).status == Attempt.Status.IN_PROGRESS
    confirmed = client.post(submit, {"confirm": "1"})
    assert confirmed.url == reverse("courses:attempt_result", args=[attempt.pk])
    assert Attempt.objects.get(pk=attempt.pk).score == 4 + 4  # answered and marked is scored, as at NTA


def test_double_submit_scores_once(client, student, django_capture_on_commit_callbacks):
    attempt, _ = _start(student, questions=1)
    url = reverse("courses:attempt_submit", args=[attempt.pk])

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"confirm": "1"})
        second = client.post(url, {"confirm": "1"})

    assert first.url == second.url == reverse("courses:attempt_result", args=[attempt.pk])
    assert CommunicationLog.objects.filter(template="test_result").count() == 2  # email + WhatsApp, once


def test_result_shows_the_learners_own_order_and_letters(client, student):
    # Given a shuffled test, answered right on the first question the learner saw
    attempt, _ = _start(student, questions=6, shuffle=True)
    paper = selectors.attempt_state(attempt=attempt)["paper"]
    first = paper[0]
    right = next(letter for letter, text in first["options"].items() if text == "Mitochondrion")
    _save(attempt, (first["id"], right, False))
    services.attempt_submit(attempt=attempt)

    body = client.get(reverse("courses:attempt_result", args=[attempt.pk])).content.decode()

    positions = [body.index(question["text"]) for question in paper]
    assert positions == sorted(positions)
    assert f"Your answer: <strong>{right}</strong> · Correct: <strong>{right}</strong>" in body
    assert 'id="score">4<' in body


def test_the_learners_own_letters_score_right_through_the_plain_form_and_the_batch(client, student):
    # Given a shuffled test: the letters the learner sees are not the key's
    attempt, _ = _start(student, questions=6, shuffle=True)
    paper = selectors.attempt_state(attempt=attempt)["paper"]
    right = {q["id"]: next(k for k, text in q["options"].items() if text == "Mitochondrion") for q in paper}
    url = reverse("courses:attempt_answer", args=[attempt.pk])

    # When half is answered by the page without JavaScript, half by attempt.js's batch, with the seen letters
    for question in paper[:3]:
        client.post(url, {"question_id": question["id"], "option": right[question["id"]], "action": "save_next"})
    batch = [{"question_id": q["id"], "option": right[q["id"]], "seq": 10 + n} for n, q in enumerate(paper[3:])]
    client.post(url, {"answers": batch}, content_type="application/json")
    client.post(reverse("courses:attempt_submit", args=[attempt.pk]), {"confirm": "1"})

    # Then every answer is right on the canonical key
    scored = Attempt.objects.get(pk=attempt.pk)
    assert (scored.correct_count, scored.wrong_count, scored.score) == (6, 0, 24)


@pytest.mark.parametrize(("week", "status"), [("2026-W01", 200), ("2026-W99", 400), ("last", 400)])
def test_topic_board_for_a_chosen_week(client, week, status):
    response = client.get(reverse("courses:topic_leaderboard", args=["nucleus"]), {"week": week})

    assert response.status_code == status
