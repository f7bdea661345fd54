"""Reads of the courses domain, and who may see what (views and APIs call these, never re-check)."""

from __future__ import annotations

import base64
import copy
import re
from datetime import datetime, timedelta
from itertools import groupby

from django.db.models import Count, Max, Q, QuerySet, Window
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import ParentLink
from accounts.selectors import user_names
from cerebrum.errors import DomainError, NotFound
from cerebrum.money import gst_split
from cerebrum.prepared import PreparedQuery, model_columns, model_from_row
from courses import caches
from courses.models import (
    AttemptAnswer,
    ChapterNote,
    Course,
    Enrollment,
    PracticeTest,
    PracticeTestQuestion,
    Question,
    TestAttempt,
)
from courses.scoring import OPTIONS as OPTION_LETTERS
from courses.scoring import sections_in_learner_order
from courses.shapes import (
    Dashboard,
    DashboardActivity,
    DashboardEnrollment,
    Leaderboard,
    NoteGrade,
    PageState,
    Progress,
    TestHistoryRow,
    TestRank,
    TopicLeaderboard,
)

FINISHED = (TestAttempt.Status.SUBMITTED, TestAttempt.Status.EXPIRED)
SOLUTIONS_DELAY = timedelta(minutes=1)  # past the submit grace, so no one can still answer


# --- Catalog --------------------------------------------------------------------------------------


def course_list(*, class_level: str | None = None, type: str | None = None, featured: bool | None = None) -> QuerySet:  # noqa: A002
    """Active courses for the catalog (cacheops caches these querysets; writes invalidate them)."""
    courses = Course.objects.filter(is_active=True)
    if class_level:
        courses = courses.filter(class_level=class_level)
    if type:
        courses = courses.filter(type=type)
    if featured is not None:
        courses = courses.filter(is_featured=featured)
    return courses.order_by("-is_featured", "start_date", "name")


def course_get(*, slug: str) -> Course:
    course = Course.objects.filter(slug=slug, is_active=True).first()
    if course is None:
        raise NotFound("No such course.")
    return course


def fees_breakdown(fees_paise: int) -> dict[str, int]:
    """Fees are GST-inclusive: the taxable value and GST in paise, from the one GST function."""
    split = gst_split(fees_paise)
    return {
        "total": fees_paise,
        "base": split["base_paise"],
        "gst": split["gst_paise"],
        "gst_percent": split["gst_rate_percent"],
    }


# --- Enrollments ----------------------------------------------------------------------------------


def enrollment_list_for_user(*, user) -> QuerySet:
    """The learner's enrollments, newest first, ready for (created_at, id) cursor pagination."""
    return Enrollment.objects.filter(user=user).select_related("course").order_by("-created_at", "-id")


def enrollment_page_for_user(*, user, cursor: str | None = None, size: int = 20) -> tuple[list, str | None]:
    """One keyset page (report 1.2): rows after `cursor`, plus the cursor of the next page or None."""
    rows = enrollment_list_for_user(user=user)
    position = _cursor_decode(cursor)
    if position:
        created_at, pk = position
        rows = rows.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk))
    page = list(rows[: size + 1])
    if len(page) <= size:
        return page, None
    last = page[size - 1]
    return page[:size], _cursor_encode(last.created_at, last.pk)


def enrollment_get_for_user(*, user, enrollment_id: int) -> Enrollment:
    """The learner's own, a linked parent's child's, or any for staff; everyone else gets NotFound."""
    rows = Enrollment.objects.select_related("course", "user").filter(pk=enrollment_id)
    enrollment = _visible_to(rows, user).first()
    if enrollment is None:
        raise NotFound("No such enrollment.")
    return enrollment


# --- Tests and attempts ---------------------------------------------------------------------------


def test_list(*, user=None) -> QuerySet:  # noqa: PT028 - "test" is the domain word here
    """Published tests; free ones first for visitors, all for signed-in learners."""
    tests = PracticeTest.objects.filter(is_published=True).select_related("course")
    return tests.order_by("-is_free", "scheduled_start", "-created_at", "-id")


def test_get(*, slug: str) -> PracticeTest:
    test = caches.test_by_slug_get_or_load(
        slug, lambda: PracticeTest.objects.select_related("course").filter(slug=slug, is_published=True).first()
    )
    if test is None:
        raise NotFound("No such test.")
    return test


# Named after the domain's practice tests, not pytest's: keep pytest from collecting them when imported.
test_list.__test__ = False
test_get.__test__ = False


def attempt_get_for_user(*, user, attempt_id: int, free_user_id: int | None = None) -> TestAttempt:
    """Own (or the session's free user's), a linked parent's child's, or staff; else NotFound.

    Read by primary key (a running attempt from Redis) and checked here: every exam request (page,
    answer, submit) passes through this. Only a parent opening a child's attempt costs a query.
    """
    attempt = caches.attempt_get_or_load(attempt_id, lambda: _attempt_with_test(attempt_id))
    if attempt is None or not _may_see_attempt(attempt, user, free_user_id):
        raise NotFound("No such attempt.")
    return attempt


# Finished attempts are not kept in Redis: the result page after every submit loads its attempt here.
# Compiled once per process (cerebrum/prepared.py): compiling the select_related query was a third
# of that page's CPU.
_ATTEMPT_WITH_TEST = PreparedQuery(
    lambda attempt_id: TestAttempt.objects.filter(pk=attempt_id).values_list(
        *model_columns(TestAttempt), *model_columns(PracticeTest, "test__")
    )
)


def _attempt_with_test(attempt_id: int) -> TestAttempt | None:
    rows = _ATTEMPT_WITH_TEST(attempt_id)
    if not rows:
        return None
    attempt = model_from_row(TestAttempt, rows[0])
    attempt.test = model_from_row(PracticeTest, rows[0], len(model_columns(TestAttempt)))
    return attempt


def attempt_get_own(*, user, attempt_id: int, free_user_id: int | None = None) -> TestAttempt:
    """The attempt only if this is its learner (the user, or the session's free user): who may answer
    or submit it. A parent or staff member may read it (`attempt_get_for_user`), never change it; to
    them, as to anyone else, it is NotFound. The one ownership rule of the pages and the API."""
    attempt = attempt_get_for_user(user=user, attempt_id=attempt_id, free_user_id=free_user_id)
    if not _is_learner(attempt, user, free_user_id):
        raise NotFound("No such attempt.")
    return attempt


def _is_learner(attempt: TestAttempt, user, free_user_id: int | None) -> bool:
    if free_user_id and attempt.free_user_id == free_user_id:
        return True
    return attempt.user_id is not None and user is not None and attempt.user_id == user.pk


def _may_see_attempt(attempt: TestAttempt, user, free_user_id: int | None) -> bool:
    if _is_learner(attempt, user, free_user_id):
        return True
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return attempt.user_id is not None and ParentLink.objects.filter(parent=user, student_id=attempt.user_id).exists()


def attempt_view(*, attempt: TestAttempt, reveal: bool = False) -> list[dict]:
    """The paper's questions in this learner's order with their answers (and, once allowed, the key).

    Options carry the letters the learner saw (their order); `chosen` and `correct` use those letters.
    The key is shown only for a finished attempt whose results are open (a live mock's window has
    closed), and never for a question that a live or course-only test also uses: the rule lives here so
    the pages and the API cannot disagree.
    """
    in_progress = attempt.status == TestAttempt.Status.IN_PROGRESS
    reveal = reveal and not in_progress and results_open_at(attempt.test) is None
    if in_progress:
        rows = _answer_rows(attempt)
        answers = {qid: row["option"] for qid, row in rows.items() if row["option"]}
        marked = {qid for qid, row in rows.items() if row["marked"]}
    else:
        rows, answers, marked = {}, attempt.answers or {}, set()
    key = caches.answer_key_get(test_id=attempt.test_id, version=attempt.paper_version) if reveal else {}
    hidden = _questions_kept_secret(attempt.test, key) if reveal else set()
    questions = []
    for question in attempt_paper(attempt):
        qid = str(question["id"])
        row = {**question, "chosen": _shown(attempt, qid, answers.get(qid, "")), "marked": qid in marked}
        if in_progress:
            row["visited"] = qid in rows
        if reveal and qid in key and qid not in hidden:
            correct = _shown(attempt, qid, key[qid]["correct"])
            row.update(
                correct=correct, correct_text=question["options"].get(correct, ""), explanation=key[qid]["explanation"]
            )
            row["explanation_hi"] = key[qid].get("explanation_hi", "")  # papers frozen before Hindi have none
        questions.append(row)
    return questions


def attempt_paper(attempt: TestAttempt) -> list[dict]:
    """The attempt's paper version, questions and options in this learner's order, numbered 1..N.

    The order is the attempt's own `question_order`, fixed at its start (docs/exam.md, "Numbering"): the
    cached paper only supplies each question's text. Attempts started before orders were stored for
    every test (empty `question_order`) follow their frozen paper version's order.
    """
    paper = caches.paper_get_by_id(test_id=attempt.test_id, version=attempt.paper_version)
    order = attempt.question_order or []
    if not order or (not attempt.option_orders and [question["id"] for question in paper["questions"]] == order):
        return paper["questions"]  # already numbered 1..N in this order (every load of an unshuffled attempt)
    by_id = {question["id"]: question for question in paper["questions"]}
    orders = attempt.option_orders or {}
    return [
        question_as_shown(by_id[question_id], number=number, letters=orders.get(str(question_id)))
        for number, question_id in enumerate(order, start=1)
    ]


def question_as_shown(question: dict, *, number: int, letters: str | None) -> dict:
    """One paper question numbered as this learner sees it, its options in their order (`letters`, the
    attempt's `option_orders` entry: "CADB" = their A is canonical C; None keeps the paper's)."""
    options, hindi = question["options"], question.get("hi")
    if letters:
        options = {shown: options[canonical] for shown, canonical in zip(OPTION_LETTERS, letters, strict=True)}
        if hindi:  # the Hindi options in the same order as the English ones
            shown_hi = {
                shown: hindi["options"].get(canonical, "")
                for shown, canonical in zip(OPTION_LETTERS, letters, strict=False)
            }
            hindi = {**hindi, "options": shown_hi}
    return {**question, "number": number, "options": options, **({"hi": hindi} if hindi else {})}


def attempt_state(*, attempt: TestAttempt) -> dict:
    """What the exam screen needs to (re)start: the contract in docs/exam.md.

    deadline (UTC, with granted extra time), server_now, the paper in this learner's order without
    answers, the sections, the stored answers (letters as the learner saw them) with their seq, the
    visited questions and last_seq (the client continues its seq above it). One query (attempt_progress).
    """
    progress = attempt_progress(attempt=attempt)
    attempt = copy.copy(attempt)
    attempt.status, attempt.expires_at = progress["status"], progress["deadline"]
    paper = caches.paper_get_by_id(test_id=attempt.test_id, version=attempt.paper_version)
    return {
        "id": attempt.pk,
        "status": progress["status"],
        "deadline": progress["deadline"],
        "server_now": progress["server_now"],
        "seconds_left": progress["seconds_left"],
        "paper": attempt_paper(attempt),
        "sections": sections_in_learner_order(paper=paper, attempt=attempt),
        "answers": progress["answers"],
        "visited": progress["visited"],
        "last_seq": progress["last_seq"],
        "medium": attempt.medium,  # "en" or "hi" (courses.hindi): the medium chosen at the start
    }


def attempt_progress(*, attempt: TestAttempt) -> dict:
    """The learner's part of the exam screen, without the paper: status, deadline (with extra time),
    server_now, seconds_left, answers ({question id: {option as the learner saw it, marked_for_review,
    seq}}), visited (question ids), last_seq. The exam page joins it to the paper shared by every learner
    (courses.exam_screen.exam_shell). One query, which also reads the row's status and deadline: the
    attempt may come from a Redis that lost a grant of extra time or a submit (restored with old data),
    and the timer must follow PostgreSQL, as the answers do.
    """
    status, expires_at, rows = _clock_and_answer_rows(attempt)
    orders = attempt.option_orders or {}
    answers = {
        qid: {
            "option": _shown_in(orders, qid, row["option"]),
            "marked_for_review": row["marked"],
            "seq": row["seq"],
        }
        for qid, row in rows.items()
        if row["option"] or row["marked"]
    }
    now = timezone.now()
    return {
        "status": status,
        "deadline": expires_at,
        "server_now": now,
        "seconds_left": max(0, int((expires_at - now).total_seconds()))
        if status == TestAttempt.Status.IN_PROGRESS
        else 0,
        "answers": answers,
        "visited": [int(qid) for qid in rows],
        "last_seq": max((row["seq"] for row in rows.values()), default=0),
    }


PALETTE_STATES = ("not_visited", "not_answered", "answered", "marked_for_review", "answered_and_marked")


def attempt_summary(*, attempt: TestAttempt, state: dict | None = None) -> dict:
    """NTA's submit summary: counts per palette state, for the whole paper and per section.

    Palette state of a question: not_visited (never opened), not_answered (opened, no answer), answered,
    marked_for_review (marked, no answer), answered_and_marked (answered and marked: it is scored).
    Pass `state` (attempt_state's) to reuse its read; otherwise one query.
    """
    state = state or attempt_state(attempt=attempt)
    visited = set(state["visited"])
    sections = []
    for section in state["sections"]:
        counts = dict.fromkeys(PALETTE_STATES, 0)
        for question_id in section["question_ids"]:
            counts[palette_state(state["answers"].get(str(question_id)), question_id in visited)] += 1
        sections.append({"name": section["name"], "total": len(section["question_ids"]), **counts})
    totals = {name: sum(section[name] for section in sections) for name in ("total", *PALETTE_STATES)}
    return {**totals, "sections": sections}


def palette_state(answer: dict | None, visited: bool) -> str:
    if answer and answer["option"]:
        return "answered_and_marked" if answer["marked_for_review"] else "answered"
    if answer and answer["marked_for_review"]:
        return "marked_for_review"
    return "not_answered" if visited else "not_visited"


def results_open_at(test: PracticeTest):
    """When a live mock's score, answers, solutions and leaderboard may be shown; None if now.

    A live (scheduled) mock's results open only after its window closes, including the longest extra
    time staff granted anyone, plus SOLUTIONS_DELAY past the submit grace: someone who submits early
    must not be able to pass the key to those still writing. Other tests' results are open at once.
    """
    if test.scheduled_start is None:
        return None
    ends_at = (
        test.scheduled_start
        + timedelta(minutes=test.duration_minutes, seconds=test.extra_seconds_max)
        + SOLUTIONS_DELAY
    )
    return ends_at if timezone.now() < ends_at else None


def attempt_for_result(attempt: TestAttempt) -> TestAttempt:
    """The attempt as its result may be shown now: score and breakdowns blank until results open."""
    if attempt.status == TestAttempt.Status.IN_PROGRESS or results_open_at(attempt.test) is None:
        return attempt
    hidden = copy.copy(attempt)
    hidden.score = None
    hidden.correct_count = hidden.wrong_count = hidden.unanswered_count = 0
    hidden.topic_breakdown, hidden.section_breakdown = {}, {}
    hidden.results_open_at = results_open_at(attempt.test)
    return hidden


def _clock_and_answer_rows(attempt: TestAttempt) -> tuple[str, object, dict[str, dict]]:
    """(status, expires_at, answer rows) of the attempt as the database has them, in one query (every exam
    page load: compiled once per process, cerebrum/prepared.py)."""
    clock, answers = (attempt.status, attempt.expires_at), {}
    for status, expires_at, question_id, option, marked, seq, spent in _CLOCK_AND_ANSWERS(attempt.pk):
        clock = (status, expires_at)
        if question_id is not None:
            answers[str(question_id)] = {"option": option, "marked": marked, "seq": seq, "time_spent_seconds": spent}
    return clock[0], clock[1], answers


_CLOCK_AND_ANSWERS = PreparedQuery(
    lambda attempt_id: TestAttempt.objects.filter(pk=attempt_id).values_list(
        "status",
        "expires_at",
        "answer_rows__question_id",
        "answer_rows__option",
        "answer_rows__marked",
        "answer_rows__seq",
        "answer_rows__time_spent_seconds",
    )
)


def _answer_rows(attempt: TestAttempt) -> dict[str, dict]:
    rows = AttemptAnswer.objects.filter(attempt_id=attempt.pk).values_list(
        "question_id", "option", "marked", "seq", "time_spent_seconds"
    )
    return {
        str(question_id): {"option": option, "marked": marked, "seq": seq, "time_spent_seconds": spent}
        for question_id, option, marked, seq, spent in rows
    }


def _shown(attempt: TestAttempt, question_id: str, canonical: str) -> str:
    """The letter this learner saw for a canonical option ("" stays "")."""
    return _shown_in(attempt.option_orders or {}, question_id, canonical)


def _shown_in(option_orders: dict, question_id: str, canonical: str) -> str:
    letters = option_orders.get(question_id)
    return OPTION_LETTERS[letters.index(canonical)] if canonical and letters else canonical


def _questions_kept_secret(test: PracticeTest, key: dict) -> set[str]:
    """Questions of a public test's key that a live or course-only test also uses: their answers stay
    hidden here, or taking the free test would hand out the other test's key."""
    if test.scheduled_start is not None or (test.course_id and not test.is_free) or not key:
        return set()
    protected = protected_question_ids()  # once: each call is a Redis round trip (was one per question)
    return {qid for qid in key if int(qid) in protected}


def protected_question_ids() -> frozenset[int]:
    """Every question a live mock or a course-only test uses (cached with the courses content version)."""
    return caches.protected_question_ids_get_or_load(
        lambda: frozenset(
            PracticeTestQuestion.objects.filter(_protected_tests_q("test__")).values_list("question_id", flat=True)
        ),
    )


def _protected_tests_q(prefix: str = "") -> Q:
    """Tests whose questions must not appear with answers on public pages: live mocks, course-only tests."""
    return Q(**{f"{prefix}scheduled_start__isnull": False}) | Q(
        **{f"{prefix}course__isnull": False, f"{prefix}is_free": False}
    )


def seconds_left(attempt: TestAttempt) -> int:
    return max(0, int((attempt.expires_at - timezone.now()).total_seconds()))


# --- Notes ----------------------------------------------------------------------------------------


def note_tree(*, grade: str | None = None) -> list[NoteGrade]:
    """Published notes as grade → chapter → notes (one query, cached by cacheops)."""
    notes = ChapterNote.objects.filter(is_published=True)
    if grade:
        notes = notes.filter(grade=grade)
    rows = notes.order_by("curriculum", "grade", "chapter_number", "chapter", "title").values(
        "curriculum", "grade", "chapter_number", "chapter", "title", "slug"
    )
    tree = []
    for (curriculum, grade_value), grade_rows in groupby(rows, key=lambda row: (row["curriculum"], row["grade"])):
        chapters = [
            {"number": number, "chapter": chapter, "slug": slugify(chapter), "notes": list(chapter_rows)}
            for (number, chapter), chapter_rows in groupby(
                grade_rows, key=lambda row: (row["chapter_number"], row["chapter"])
            )
        ]
        tree.append({"curriculum": curriculum, "grade": grade_value, "chapters": chapters})
    return tree


def note_get(*, slug: str) -> ChapterNote:
    note = ChapterNote.objects.filter(slug=slug, is_published=True).first()
    if note is None:
        raise NotFound("No such note.")
    return note


def note_practice_questions(*, note: ChapterNote, limit: int = 5) -> list[Question]:
    """Questions from the note's chapter, for practice right under it, with their answers.

    Never one that a live mock or a course-only test uses: the notes page is public, and its answers
    would leak that test's key (one query). Not cached by cacheops: it does not see paper items change;
    the page itself is cached under the courses content version, which a test's save moves on.
    """
    protected = PracticeTestQuestion.objects.filter(_protected_tests_q("test__")).values("question_id")
    return list(
        Question.objects.nocache()
        .filter(chapter=note.chapter, ncert_class=note.grade, is_active=True)
        .exclude(pk__in=protected)
        .order_by("id")[:limit]
    )


# --- Dashboard and progress (report 3.2) ----------------------------------------------------------


def dashboard_for_user(*, user, version: str | None = None) -> Dashboard:
    """The dashboard in one dict: Redis for 5 minutes, at most 3 queries to build (enrollments with their
    counts, attempts with their tests, the chapters' notes), so the page with its revision line is 4."""
    return caches.dashboard_get_or_build(user.pk, lambda: _dashboard_build(user), version=version)


def dashboard_version(*, user) -> str:
    """The version of the learner's dashboard data (changes with every change it shows; "" without Redis)."""
    return caches.dashboard_version(user.pk)


def page_state_for_user(*, user) -> tuple[str, PageState]:
    """(version, {"enrolled": {course slug: enrollment id}, "running": {test slug: attempt id}}): what the
    shared pages show only to this learner (live enrollments; attempts in progress). Two queries to build,
    none while cached (courses.caches.page_state_get_or_build)."""

    def build() -> PageState:
        enrolled = Enrollment.objects.filter(user=user, status__in=Enrollment.LIVE_STATUSES)
        running = TestAttempt.objects.filter(user=user, status=TestAttempt.Status.IN_PROGRESS)
        return {
            "enrolled": dict(enrolled.values_list("course__slug", "pk")),
            "running": dict(running.values_list("test__slug", "pk")),
        }

    return caches.page_state_get_or_build(user.pk, build)


def student_progress(*, student, version: str | None = None) -> Progress:
    """What a parent sees about a linked child: the child's dashboard data without the child's profile."""
    dashboard = dashboard_for_user(user=student, version=version)
    return {
        "student": {"id": student.pk, "name": student.name},
        "enrollments": dashboard["enrollments"],
        "active_enrollment_count": dashboard["active_enrollment_count"],
        "recent_results": dashboard["test_history"][:5],
        "trend": [row["percent"] for row in reversed(dashboard["test_history"])],
        "weakest_topics": dashboard["weakest_topics"],
    }


def _dashboard_build(user) -> Dashboard:
    # The counts ride on the newest five as window totals (computed before the LIMIT): one query, not
    # two. ACTIVE and PENDING are both live statuses, so counting over the live rows counts them all.
    live = list(
        Enrollment.objects.filter(user=user, status__in=Enrollment.LIVE_STATUSES)
        .select_related("course")
        .annotate(
            active_total=Window(Count("id", filter=Q(status=Enrollment.Status.ACTIVE))),
            pending_total=Window(Count("id", filter=Q(status=Enrollment.Status.PENDING))),
        )
        .order_by("-created_at", "-id")[:5]
    )
    counts = {"active": live[0].active_total, "pending": live[0].pending_total} if live else {"active": 0, "pending": 0}
    enrollments = [_enrollment_row(e) for e in live]
    attempts = list(TestAttempt.objects.filter(user=user).select_related("test").order_by("-started_at", "-id")[:10])
    # A live mock's score stays out of the history and the topic analysis until its results open.
    shown = [attempt_for_result(a) for a in attempts]
    history = [_attempt_row(a) for a in shown if a.status in FINISHED]
    return {
        "user": {"id": user.pk, "name": user.name, "email": user.email, "profile": user.profile},
        "active_enrollment_count": counts["active"],
        "pending_enrollment_count": counts["pending"],
        "enrollments": enrollments,
        "recent_activity": _activities(enrollments, attempts),
        "test_history": history,
        "weakest_topics": _weakest_topics(shown),
        "built_at": timezone.now().isoformat(),
    }


def _enrollment_row(enrollment: Enrollment) -> DashboardEnrollment:
    course = enrollment.course
    return {
        "id": enrollment.pk,
        "status": enrollment.status,
        "status_display": enrollment.get_status_display(),
        "created_at": enrollment.created_at,
        "course": {"id": course.pk, "name": course.name, "slug": course.slug, "type": course.get_type_display()},
    }


def _attempt_row(attempt: TestAttempt) -> TestHistoryRow:
    total = attempt.correct_count + attempt.wrong_count + attempt.unanswered_count
    maximum = total * attempt.test.marks_correct
    return {
        "id": attempt.pk,
        "test": attempt.test.title,
        "test_slug": attempt.test.slug,
        "status": attempt.status,
        "score": attempt.score,
        "max_score": maximum,
        "percent": round(100 * max(attempt.score or 0, 0) / maximum, 1) if maximum else 0.0,
        "submitted_at": attempt.submitted_at,
        "results_open_at": getattr(attempt, "results_open_at", None),
    }


# The recent-activity lines, English in the data (the dashboard dict is cached once and serves the API);
# the page shows them in the interface language (courses_tags.activity_text, locale/hi).
ACTIVITY_TEXTS = {
    "enrollment": ("Enrolled in %(name)s",),
    "attempt": ("Started %(name)s", "Finished %(name)s"),
}


def _activities(enrollments: list[DashboardEnrollment], attempts: list[TestAttempt]) -> list[DashboardActivity]:
    enrolled, (started, finished) = ACTIVITY_TEXTS["enrollment"][0], ACTIVITY_TEXTS["attempt"]
    items = [
        {"kind": "enrollment", "at": e["created_at"], "text": enrolled % {"name": e["course"]["name"]}, "id": e["id"]}
        for e in enrollments
    ]
    for attempt in attempts:
        text = started if attempt.status == TestAttempt.Status.IN_PROGRESS else finished
        at = attempt.submitted_at or attempt.started_at
        items.append({"kind": "attempt", "at": at, "text": text % {"name": attempt.test.title}, "id": attempt.pk})
    return sorted(items, key=lambda item: item["at"], reverse=True)[:10]


def _weakest_topics(attempts: list[TestAttempt], limit: int = 3) -> list[dict]:
    totals: dict[str, dict] = {}
    for attempt in attempts:
        for topic, row in (attempt.topic_breakdown or {}).items():
            entry = totals.setdefault(
                topic, {"topic": topic, "chapter": row.get("chapter", ""), "total": 0, "correct": 0}
            )
            entry["total"] += row.get("total", 0)
            entry["correct"] += row.get("correct", 0)
    for entry in totals.values():
        entry["accuracy"] = round(100 * entry["correct"] / entry["total"], 1) if entry["total"] else 0.0
        entry["topic_slug"] = slugify(entry["topic"])
    weakest = sorted(totals.values(), key=lambda entry: (entry["accuracy"], entry["topic"]))[:limit]
    notes = (
        dict(
            ChapterNote.objects.filter(chapter__in={entry["chapter"] for entry in weakest}, is_published=True)
            .order_by("chapter", "chapter_number", "id")
            .values_list("chapter", "slug")
        )
        if weakest
        else {}
    )
    for entry in weakest:
        entry["note_slug"] = notes.get(entry["chapter"], "")
    return weakest


# --- Leaderboards ---------------------------------------------------------------------------------


def leaderboard_for_test(*, test: PracticeTest, user=None) -> Leaderboard:
    """Top 10 with names, and the user's rank and percentile; best score per learner, signed-in only."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    opens_at = results_open_at(test)
    if opens_at is not None:
        # A live mock's board opens with its results (and its submits were not added to Redis before).
        return {"top": [], "total": 0, "me": None, "results_open_at": opens_at}
    board = caches.board_read(
        key=caches.test_board_key(test.pk), user_id=user_id, rebuild=lambda: (_test_scores(test.pk), None)
    )
    if board is None:
        board = _board_from_scores(_test_scores(test.pk), user_id)
    return _board_with_names(board)


def rank_version(*, test: PracticeTest) -> str:
    """What "my rank" on the test depends on: its results version and whether its results are open.

    A live mock's board opens at a time, not with a write, so the open/closed state is part of it.
    "" without Redis (nothing to compare).
    """
    version = caches.test_results_version(test.pk)
    return f"{version}.{'closed' if results_open_at(test) else 'open'}" if version else ""


def rank_for_test(*, test: PracticeTest, user) -> TestRank:
    """The signed-in learner's place on the test's board (best score per learner): rank, score and
    percentile, or nulls when they have no finished attempt; a live mock's stay null until its results open."""
    empty: TestRank = {
        "test_slug": test.slug,
        "rank": None,
        "score": None,
        "percentile": None,
        "position": None,
        "total": 0,
    }
    opens_at = results_open_at(test)
    if opens_at is not None:
        return {**empty, "results_open_at": opens_at}
    board = caches.board_read(
        key=caches.test_board_key(test.pk), user_id=user.pk, rebuild=lambda: (_test_scores(test.pk), None), top=0
    )
    if board is None:
        board = _board_from_scores(_test_scores(test.pk), user.pk)
    mine = board["me"]
    if mine:
        mine = {**mine, "percentile": _percentile(mine["rank"], board["total"])}
    return {**empty, **(mine or {}), "total": board["total"], "results_open_at": None}


def leaderboard_for_topic(*, topic: str, user=None, week: str | None = None) -> TopicLeaderboard:
    """This ISO week's board for a topic (slug or name): the sum of the topic's marks over submissions."""
    topic_slug = slugify(topic)
    week = _week_checked(week) if week else caches.iso_week(timezone.localdate())
    user_id = user.pk if user is not None and user.is_authenticated else None
    key = caches.topic_board_key(topic_slug, week)
    board = caches.board_read(key=key, user_id=user_id, rebuild=lambda: _topic_scores(topic_slug, week))
    if board is None:
        board = _board_from_scores(_topic_scores(topic_slug, week)[0], user_id)
    return {**_board_with_names(board), "topic_slug": topic_slug, "week": week}


def _week_checked(week: str) -> str:
    """ "2026-W48"; anything else (from a URL or the API) is a field error, not a 500."""
    try:
        if not re.fullmatch(r"\d{4}-W\d{2}", week):
            raise ValueError(week)
        datetime.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    except ValueError:
        raise DomainError("Unknown week.", fields={"week": ["Use an ISO week like 2026-W48."]}) from None
    return week


def _test_scores(test_id: int) -> dict[int, int]:
    rows = (
        TestAttempt.objects.filter(test_id=test_id, status__in=FINISHED, user__isnull=False, score__isnull=False)
        .values("user_id")
        .annotate(best=Max("score"))
        .values_list("user_id", "best")
    )
    return dict(rows)


def _topic_scores(topic_slug: str, week: str) -> tuple[dict[int, int], dict[int, datetime]]:
    """({learner id: the topic's marks summed over the week's finished attempts}, {id: submit time} of those
    attempts)."""
    start = datetime.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    start = timezone.make_aware(start)
    end = start + timedelta(days=7)
    rows = TestAttempt.objects.filter(
        status__in=FINISHED, user__isnull=False, submitted_at__gte=start, submitted_at__lt=end
    ).values_list("pk", "user_id", "topic_breakdown", "test_id", "submitted_at")
    hidden = _live_tests_with_hidden_results()
    scores: dict[int, int] = {}
    counted: dict[int, datetime] = {}
    for attempt_id, user_id, breakdown, test_id, submitted_at in rows.iterator(chunk_size=2000):
        if test_id in hidden:
            continue  # a live mock's topic marks count once its results open
        for topic, row in (breakdown or {}).items():
            if slugify(topic) == topic_slug:
                scores[user_id] = scores.get(user_id, 0) + row.get("score", 0)
                counted[attempt_id] = submitted_at
    return scores, counted


def _live_tests_with_hidden_results() -> set[int]:
    recent = PracticeTest.objects.filter(scheduled_start__gt=timezone.now() - timedelta(days=2)).only(
        "id", "scheduled_start", "duration_minutes", "extra_seconds_max"
    )
    return {test.pk for test in recent if results_open_at(test) is not None}


def _board_from_scores(scores: dict[int, int], user_id: int | None) -> dict:
    """caches.board_read's answer computed from PostgreSQL's scores (Redis unavailable): same order, same ranks,
    same positions."""
    ordered, mine = caches.board_order(scores), None
    if user_id in scores:
        score = scores[user_id]
        position = 1 + next(index for index, (member, _) in enumerate(ordered) if member == user_id)
        mine = {"rank": 1 + sum(1 for other in scores.values() if other > score), "score": score, "position": position}
    return {"top": ordered[: caches.LEADERBOARD_TOP], "total": len(scores), "me": mine}


def _board_with_names(board: dict) -> Leaderboard:
    """The top rows with names and ranks: equal scores share a rank ("1, 2, 2, 4"; the top is a prefix of
    the board in score order, so each rank is 1 + the rows above it with a higher score)."""
    names = user_names(user_ids=[member for member, _ in board["top"]])
    top, rank = [], 0
    for position, (member, score) in enumerate(board["top"], start=1):
        rank = rank if top and top[-1]["score"] == score else position
        top.append({"rank": rank, "user_id": member, "name": names.get(member, "Learner"), "score": score})
    mine = board["me"]
    if mine:
        mine = {**mine, "percentile": _percentile(mine["rank"], board["total"])}
    return {"top": top, "total": board["total"], "me": mine}


def _percentile(rank: int, total: int) -> float:
    """Share of ranked learners scoring at most this rank's score (top of the board = 100; ties share it)."""
    return round(100 * (total - rank + 1) / total, 1)


# --- helpers --------------------------------------------------------------------------------------


def _visible_to(rows: QuerySet, user) -> QuerySet:
    if user is None or not user.is_authenticated:
        return rows.none()
    if user.is_staff:
        return rows
    children = ParentLink.objects.filter(parent=user).values("student_id")
    return rows.filter(Q(user=user) | Q(user_id__in=children))


def _cursor_encode(created_at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode()


def _cursor_decode(cursor: str | None) -> tuple[datetime, int] | None:
    """A tampered cursor reads as "first page" rather than an error."""
    if not cursor:
        return None
    try:
        created, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created), int(pk)
    except (ValueError, UnicodeDecodeError):
        return None
