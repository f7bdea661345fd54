"""Courses selectors: access rules, keyset pages, the cached dashboard and its query budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from cerebrum.errors import NotFound
from courses import caches, selectors, services
from courses.models import Enrollment
from tests.factories import (
    ChapterNoteFactory,
    CourseFactory,
    EnrollmentFactory,
    FreeUserFactory,
    ParentLinkFactory,
    PracticeTestFactory,
    QuestionFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _submitted_attempt(user, test=None, option="A"):
    test = test or PracticeTestFactory(question_count=3)
    attempt = services.attempt_start(test=test, user=user)
    for question in caches.paper_get(test)["questions"]:
        services.attempt_answer(attempt=attempt, question_id=question["id"], option=option)
    return services.attempt_submit(attempt=attempt)


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "visible"),
    [("owner", True), ("linked_parent", True), ("staff", True), ("other_student", False), ("other_parent", False)],
)
def test_enrollment_and_attempt_access(viewer, visible):
    owner = UserFactory()
    enrollment = EnrollmentFactory(user=owner)
    attempt = services.attempt_start(test=PracticeTestFactory(), user=owner)
    users = {
        "owner": owner,
        "linked_parent": ParentLinkFactory(student=owner).parent,
        "staff": StaffFactory(),
        "other_student": UserFactory(),
        "other_parent": ParentLinkFactory().parent,
    }
    user = users[viewer]

    if visible:
        assert selectors.enrollment_get_for_user(user=user, enrollment_id=enrollment.pk) == enrollment
        assert selectors.attempt_get_for_user(user=user, attempt_id=attempt.pk) == attempt
    else:
        with pytest.raises(NotFound):
            selectors.enrollment_get_for_user(user=user, enrollment_id=enrollment.pk)
        with pytest.raises(NotFound):
            selectors.attempt_get_for_user(user=user, attempt_id=attempt.pk)


@pytest.mark.parametrize(
    ("viewer", "may_change"),
    [("owner", True), ("linked_parent", False), ("staff", False), ("other_student", False)],
)
def test_only_the_attempts_learner_may_change_it(viewer, may_change):
    # The one ownership rule of the pages and the API (attempt_get_own): readers are not writers.
    owner = UserFactory()
    attempt = services.attempt_start(test=PracticeTestFactory(), user=owner)
    user = {
        "owner": owner,
        "linked_parent": ParentLinkFactory(student=owner).parent,
        "staff": StaffFactory(),
        "other_student": UserFactory(),
    }[viewer]

    if may_change:
        assert selectors.attempt_get_own(user=user, attempt_id=attempt.pk) == attempt
    else:
        with pytest.raises(NotFound):
            selectors.attempt_get_own(user=user, attempt_id=attempt.pk)


def test_a_free_users_attempt_is_its_sessions_own():
    free_user = FreeUserFactory()
    attempt = services.attempt_start(test=PracticeTestFactory(), free_user=free_user)

    own = selectors.attempt_get_own(user=AnonymousUser(), attempt_id=attempt.pk, free_user_id=free_user.pk)

    assert own == attempt
    with pytest.raises(NotFound):
        selectors.attempt_get_own(user=StaffFactory(), attempt_id=attempt.pk)


def test_student_with_two_parents_still_sees_own_enrollment_once():
    owner = UserFactory()
    ParentLinkFactory(student=owner)
    ParentLinkFactory(student=owner)
    enrollment = EnrollmentFactory(user=owner)

    assert selectors.enrollment_get_for_user(user=owner, enrollment_id=enrollment.pk) == enrollment


def test_free_user_attempt_visible_only_with_its_session_id():
    free_user = FreeUserFactory()
    attempt = services.attempt_start(test=PracticeTestFactory(), free_user=free_user)

    found = selectors.attempt_get_for_user(user=AnonymousUser(), attempt_id=attempt.pk, free_user_id=free_user.pk)

    assert found == attempt
    with pytest.raises(NotFound):
        selectors.attempt_get_for_user(user=AnonymousUser(), attempt_id=attempt.pk, free_user_id=FreeUserFactory().pk)
    with pytest.raises(NotFound):
        selectors.attempt_get_for_user(user=AnonymousUser(), attempt_id=attempt.pk)


def test_unpublished_tests_notes_and_inactive_courses_are_not_found():
    with pytest.raises(NotFound):
        selectors.test_get(slug=PracticeTestFactory(is_published=False).slug)
    with pytest.raises(NotFound):
        selectors.note_get(slug=ChapterNoteFactory(is_published=False).slug)
    with pytest.raises(NotFound):
        selectors.course_get(slug=CourseFactory(is_active=False).slug)


# --- catalog and notes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"a", "b", "c"}),
        ({"class_level": "11"}, {"a"}),
        ({"type": "CRASH"}, {"b"}),
        ({"class_level": "DROPPER", "type": "CRASH"}, set()),
    ],
)
def test_course_list_filters(filters, expected):
    CourseFactory(slug="a", class_level="11")
    CourseFactory(slug="b", class_level="12", type="CRASH")
    CourseFactory(slug="c", class_level="DROPPER")
    CourseFactory(slug="hidden", is_active=False)

    assert {c.slug for c in selectors.course_list(**filters)} == expected


@pytest.mark.parametrize(("fees", "base", "gst"), [(4_999_900, 4_237_203, 762_697), (11_800, 10_000, 1_800), (0, 0, 0)])
def test_fees_breakdown_is_gst_inclusive(fees, base, gst):
    assert selectors.fees_breakdown(fees) == {"total": fees, "base": base, "gst": gst, "gst_percent": 18}


def test_note_tree_groups_published_notes_by_grade_and_chapter():
    ChapterNoteFactory(grade="11", chapter_number=2, chapter="Cell", title="Organelles", slug="organelles")
    ChapterNoteFactory(grade="11", chapter_number=2, chapter="Cell", title="Membrane", slug="membrane")
    ChapterNoteFactory(grade="12", chapter_number=5, chapter="Inheritance", title="Mendel", slug="mendel")
    ChapterNoteFactory(grade="12", is_published=False)

    tree = selectors.note_tree()

    assert [(g["grade"], [c["chapter"] for c in g["chapters"]]) for g in tree] == [
        ("11", ["Cell"]),
        ("12", ["Inheritance"]),
    ]
    assert [n["slug"] for n in tree[0]["chapters"][0]["notes"]] == ["membrane", "organelles"]


def test_note_practice_questions_come_from_the_chapter():
    note = ChapterNoteFactory(grade="11", chapter="Cell: The Unit of Life")
    same = QuestionFactory(chapter="Cell: The Unit of Life", ncert_class="11")
    QuestionFactory(chapter="Plant Kingdom", ncert_class="11")

    assert selectors.note_practice_questions(note=note) == [same]


# --- enrollments page -----------------------------------------------------------------------------


def test_enrollment_pages_walk_every_row_once_newest_first():
    user = UserFactory()
    created = [EnrollmentFactory(user=user, status=Enrollment.Status.COMPLETED) for _ in range(5)]
    EnrollmentFactory()  # someone else's

    first, cursor = selectors.enrollment_page_for_user(user=user, size=2)
    second, cursor2 = selectors.enrollment_page_for_user(user=user, cursor=cursor, size=2)
    third, cursor3 = selectors.enrollment_page_for_user(user=user, cursor=cursor2, size=2)

    seen = [e.pk for e in first + second + third]
    assert seen == [e.pk for e in sorted(created, key=lambda e: (e.created_at, e.pk), reverse=True)]
    assert cursor3 is None


def test_tampered_cursor_reads_as_first_page():
    user = UserFactory()
    EnrollmentFactory(user=user)

    rows, _ = selectors.enrollment_page_for_user(user=user, cursor="not-base64!!")

    assert len(rows) == 1


# --- dashboard ------------------------------------------------------------------------------------


def test_dashboard_shape_and_weakest_topic_links_notes():
    user = UserFactory()
    EnrollmentFactory(user=user, status=Enrollment.Status.ACTIVE)
    EnrollmentFactory(user=user, status=Enrollment.Status.PENDING)
    note = ChapterNoteFactory(chapter="Cell: The Unit of Life", grade="11")
    _submitted_attempt(user, option="B")  # all wrong

    dashboard = selectors.dashboard_for_user(user=user)

    assert dashboard["active_enrollment_count"] == 1
    assert dashboard["pending_enrollment_count"] == 1
    assert {e["status"] for e in dashboard["enrollments"]} == {"ACTIVE", "PENDING"}
    assert [(h["score"], h["max_score"]) for h in dashboard["test_history"]] == [(-3, 12)]
    assert dashboard["weakest_topics"][0]["accuracy"] == 0.0
    assert dashboard["weakest_topics"][0]["note_slug"] == note.slug
    assert [a["kind"] for a in dashboard["recent_activity"]].count("attempt") == 1


@pytest.mark.parametrize(
    ("statuses", "active", "pending"),
    [
        ([], 0, 0),
        (["COMPLETED"], 0, 0),
        (["ACTIVE"] * 7 + ["PENDING"] * 2 + ["SUSPENDED", "CANCELLED", "COMPLETED"], 7, 2),
    ],
)
def test_dashboard_counts_every_active_and_pending_enrollment_beyond_the_five_listed(statuses, active, pending):
    user = UserFactory()
    for status in statuses:
        EnrollmentFactory(user=user, status=status)

    dashboard = selectors.dashboard_for_user(user=user)

    assert (dashboard["active_enrollment_count"], dashboard["pending_enrollment_count"]) == (active, pending)
    assert len(dashboard["enrollments"]) == min(5, active + pending + statuses.count("SUSPENDED"))


# Enrollments with their counts, attempts with their tests, the weakest chapters' notes: the dashboard
# page adds the revision line's one query for its budget of 4 (tests/courses/test_views.py PAGES).
@pytest.mark.parametrize("rows", [1, 50])
def test_dashboard_miss_costs_three_queries_and_hit_none(rows, django_assert_num_queries):
    user = UserFactory()
    ChapterNoteFactory(chapter="Cell: The Unit of Life")
    test = PracticeTestFactory(question_count=2, max_attempts=rows)
    for _ in range(rows):
        EnrollmentFactory(user=user, status=Enrollment.Status.COMPLETED)
    for _ in range(min(rows, 3)):
        _submitted_attempt(user, test=test)
    caches.dashboard_invalidate(user.pk)

    with django_assert_num_queries(3):
        selectors.dashboard_for_user(user=user)
    with django_assert_num_queries(0):
        selectors.dashboard_for_user(user=user)


def test_dashboard_invalidated_by_enrollment_and_submit(django_capture_on_commit_callbacks):
    user = UserFactory()
    assert selectors.dashboard_for_user(user=user)["pending_enrollment_count"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_create(user=user, course=CourseFactory())

    assert selectors.dashboard_for_user(user=user)["pending_enrollment_count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        _submitted_attempt(user)
    assert len(selectors.dashboard_for_user(user=user)["test_history"]) == 1


def test_student_progress_for_parent_view():
    student = UserFactory()
    _submitted_attempt(student)

    progress = selectors.student_progress(student=student)

    assert progress["student"] == {"id": student.pk, "name": student.name}
    assert progress["trend"] == [100.0]
    assert len(progress["recent_results"]) == 1


@pytest.mark.parametrize(
    ("scheduled_minutes_ago", "submitted", "revealed"),
    [(None, True, True), (None, False, False), (5, True, False), (40, True, True)],
)
def test_attempt_view_reveals_key_only_when_allowed(scheduled_minutes_ago, submitted, revealed):
    start = timezone.now() - timedelta(minutes=scheduled_minutes_ago) if scheduled_minutes_ago else None
    test = PracticeTestFactory(question_count=1, duration_minutes=30)
    attempt = services.attempt_start(test=test, user=UserFactory())
    if submitted:
        attempt = services.attempt_submit(attempt=attempt)
    test.scheduled_start = start
    test.save(update_fields=["scheduled_start"])
    attempt.test = test

    row = selectors.attempt_view(attempt=attempt, reveal=True)[0]

    assert ("correct" in row, "explanation" in row) == (revealed, revealed)
