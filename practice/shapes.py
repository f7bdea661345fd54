"""The shape of the post-test analysis (`analysis.attempt_analysis`, read by the page and the API),
declared once; the API's serializers derive from it (`cerebrum.shapes.serializer_for`). Help texts here
are the API schema's descriptions."""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired, TypedDict


class Totals(TypedDict):
    name: NotRequired[Annotated[str, "Section, chapter or topic."]]
    questions: int
    correct: int
    wrong: int
    unanswered: Annotated[int, "Not answered, or past an 'attempt any N' section's N."]
    accuracy_percent: Annotated[float | None, "Right / attempted x 100; null if none."]
    negative_marks: Annotated[int, "Marks lost to wrong answers (positive number)."]
    seconds: Annotated[int, "Seconds this learner spent."]


class Summary(Totals):
    score: int


class QuestionRow(TypedDict):
    number: Annotated[int, "Position in this learner's order."]
    question_id: int
    section: str
    chapter: str
    topic: str
    outcome: Literal["correct", "wrong", "unanswered", "not_evaluated"]
    your_seconds: int
    average_seconds: Annotated[float, "Total seconds of every taker / number of takers."]
    share_correct: Annotated[float, "Share of takers who chose the key, 0..1."]


class Figures(TypedDict):
    score: float
    attempted: float
    accuracy_percent: float | None
    seconds: float


class SectionFigures(Figures):
    name: str


class Person(Figures):
    sections: list[SectionFigures]


class Comparison(TypedDict):
    you: Person
    topper: Person
    average: Person


class RankBand(TypedDict):
    is_estimate: bool
    year: int
    rank_best: int
    rank_worst: int
    marks_min: int | None
    marks_max: int | None
    source: str


class Standing(TypedDict):
    rank: Annotated[int, "Among takers (each learner's first finished attempt), NTA tie-break."]
    takers: int
    percentile: Annotated[str, "NTA percentile, 7 decimals, as a string."]
    tie_break: list[str]
    predicted_neet_rank: Annotated[RankBand | None, "An estimate from past years' figures."]


class TestRef(TypedDict):
    id: int
    title: str
    slug: str


class Analysis(TypedDict):
    attempt_id: int
    test: TestRef
    summary: Summary
    by_section: list[Totals]
    by_chapter: list[Totals]
    by_topic: list[Totals]
    questions: list[QuestionRow]
    longest: list[QuestionRow]
    wrong_most_got_right: list[QuestionRow]
    right_most_got_wrong: list[QuestionRow]
    comparison: Comparison
    standing: Standing


class Topic(TypedDict):
    """One of `revision.weakest_topics`: the learner's lowest-accuracy topics."""

    topic: str
    chapter: str
    accuracy_percent: float
    total: int  # questions seen (not published)
    correct: int  # (not published)


class Marks(TypedDict):
    score: int
    correct: int
    wrong: int


class Taker(Marks):
    """One taker as the ranking sees them (`analysis.taker_row`)."""

    attempt_id: int
    learner: str  # "u<user id>" or "f<free user id>"
    subjects: dict[str, Marks]  # biology, chemistry, physics
    sections: dict[str, Marks]  # by section name


class QuestionTakers(TypedDict):
    options: dict[str, int]  # option letter → takers who chose it
    seconds: int  # every taker's seconds on it


class Topper(TypedDict):
    row: Taker | None
    seconds: dict[str, int]  # question id → the topper's seconds


class TestResults(TypedDict):
    """`analysis.test_aggregates`: a test's every taker, cached per results version (courses.caches)."""

    rows: list[Taker]
    questions: dict[str, QuestionTakers]  # by question id
    topper: Topper


class RevisionSummary(TypedDict):
    """`revision.revision_summary`: the dashboard's revision line (practice.caches, 5 minutes)."""

    due_today: int  # cards due by the end of today (IST)
    streak_days: int
