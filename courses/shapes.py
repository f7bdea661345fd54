"""The shapes of the dicts courses' selectors build, declared once: the pages read them, and the API's
output serializers are derived from them (`cerebrum.shapes.serializer_for`), so a key is named here only."""

from __future__ import annotations

from datetime import datetime
from typing import NotRequired, TypedDict


class DashboardCourse(TypedDict):
    id: int
    name: str
    slug: str
    type: str  # the type's label ("Online live")


class DashboardEnrollment(TypedDict):
    id: int
    status: str
    status_display: str
    created_at: datetime
    course: DashboardCourse


class DashboardActivity(TypedDict):
    kind: str  # "enrollment" or "attempt"
    at: datetime
    text: str
    id: int  # the enrollment's or the attempt's


class TestHistoryRow(TypedDict):
    """A finished attempt on the dashboard and in a parent's view (`selectors._attempt_row`)."""

    id: int
    test: str  # the test's title
    test_slug: str
    status: str
    score: int | None
    max_score: int  # marks for every question right
    percent: float  # score ÷ max_score × 100, a negative score counted as 0
    submitted_at: datetime | None
    results_open_at: datetime | None  # a live mock's results open then; null otherwise


class DashboardUser(TypedDict):
    id: int
    name: str
    email: str | None
    profile: dict


class Dashboard(TypedDict):
    """`selectors.dashboard_for_user`: Redis, 5 minutes."""

    user: DashboardUser
    active_enrollment_count: int
    pending_enrollment_count: int
    enrollments: list[DashboardEnrollment]
    recent_activity: list[DashboardActivity]
    test_history: list[TestHistoryRow]
    weakest_topics: list[dict]
    built_at: str  # ISO 8601, when the cached copy was built


class PageState(TypedDict):
    """What the shared pages cannot say about a learner (GET /api/v1/me/page-state)."""

    enrolled: dict[str, int]  # course slug → the live enrollment's id
    running: dict[str, int]  # test slug → the id of the attempt in progress


class NoteRow(TypedDict):
    title: str
    slug: str


class NoteChapter(TypedDict):
    number: int
    chapter: str
    slug: str
    notes: list[NoteRow]


class NoteGrade(TypedDict):
    """One grade of `selectors.note_tree`."""

    curriculum: str
    grade: str
    chapters: list[NoteChapter]


class LeaderRow(TypedDict):
    rank: int
    user_id: int
    name: str
    score: int


class MyRank(TypedDict):
    rank: int  # 1 + learners scoring more: equal scores share it (1, 2, 2, 4)
    score: int
    percentile: float  # share of ranked learners at or below me (top of the board = 100)
    position: int  # my row's place in the board's listed order (1-based): which of the tied rows is mine


class Leaderboard(TypedDict):
    """`selectors.leaderboard_for_test`."""

    top: list[LeaderRow]
    total: int
    me: MyRank | None


class TestRank(TypedDict):
    """`selectors.rank_for_test`: the signed-in learner's place on a test's board ("my rank")."""

    test_slug: str
    rank: int | None  # null: no finished attempt on the board (or a live mock's results not open yet)
    score: int | None
    percentile: float | None  # share of ranked learners at or below me (top of the board = 100)
    position: int | None  # my row's place in the board's listed order (1-based): which of the tied rows is mine
    total: int  # learners on the board
    results_open_at: datetime | None  # a live mock's board opens then; null otherwise


class TopicLeaderboard(Leaderboard):
    """`selectors.leaderboard_for_topic`: this ISO week's board of a topic."""

    topic_slug: str
    week: str  # "2026-W48"


class ProgressStudent(TypedDict):
    id: int
    name: str


class Progress(TypedDict):
    """`selectors.student_progress`: what a linked parent sees of a child (rows as on the dashboard)."""

    student: ProgressStudent
    enrollments: list[DashboardEnrollment]
    active_enrollment_count: int
    recent_results: list[TestHistoryRow]
    trend: list[float]  # percent of each recent result, oldest first
    weakest_topics: list[dict]


class PaperHindi(TypedDict):
    text: str
    options: dict[str, str]  # "A".."D" → option text, "" where English prevails


class PaperQuestion(TypedDict):
    id: int
    number: int  # in the paper's order, from 1
    text: str
    options: dict[str, str]  # "A".."D" → option text
    topic: str
    chapter: str
    section: str  # "" without sections
    hi: NotRequired[PaperHindi]  # only on questions with a Hindi translation (courses.hindi)


class PaperSection(TypedDict):
    name: str
    question_ids: list[int]  # in the paper's order
    attempt_any: int | None  # "attempt any N of these"; null: every question counts


class Paper(TypedDict):
    """`caches.paper_get`: a test version's questions without answers, one blob for every learner (Redis 6 h + L1)."""

    test_id: int
    version: int
    questions: list[PaperQuestion]
    sections: list[PaperSection]


class AnswerKeyEntry(TypedDict):
    correct: str  # the option letter
    explanation: str
    explanation_hi: str
    topic: str
    chapter: str


# `caches.answer_key_get`: question id (as a string: JSON keys) → its key; read by scoring and result pages.
AnswerKey = dict[str, AnswerKeyEntry]
