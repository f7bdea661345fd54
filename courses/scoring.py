"""NTA marking as a pure function: no database, no cache, so it is easy to test on every edge case."""

from __future__ import annotations

from dataclasses import dataclass, field

OPTIONS = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Marking:
    correct: int = 4
    wrong: int = -1
    unanswered: int = 0


@dataclass
class Score:
    score: int = 0
    correct_count: int = 0
    wrong_count: int = 0
    unanswered_count: int = 0
    topic_breakdown: dict[str, dict] = field(default_factory=dict)


def score_answers(*, answers: dict[str, str], answer_key: dict[str, dict], marking: Marking) -> Score:
    """Score `answers` (question id → option) against `answer_key` (question id → {correct, topic, chapter}).

    Answers to questions outside the key are ignored: the paper, not the client, decides what counts.
    """
    result = Score()
    for question_id, key in answer_key.items():
        chosen = answers.get(str(question_id)) or ""
        outcome = _outcome(chosen, key["correct"])
        marks = getattr(marking, outcome)
        result.score += marks
        setattr(result, f"{outcome}_count", getattr(result, f"{outcome}_count") + 1)
        _add_to_topic(result.topic_breakdown, key, outcome, marks)
    return result


def max_score(*, question_count: int, marking: Marking) -> int:
    return question_count * marking.correct


def _outcome(chosen: str, correct: str) -> str:
    if chosen not in OPTIONS:
        return "unanswered"
    return "correct" if chosen == correct else "wrong"


def _add_to_topic(breakdown: dict[str, dict], key: dict, outcome: str, marks: int) -> None:
    topic = breakdown.setdefault(
        key["topic"],
        {"chapter": key.get("chapter", ""), "total": 0, "correct": 0, "wrong": 0, "unanswered": 0, "score": 0},
    )
    topic["total"] += 1
    topic[outcome] += 1
    topic["score"] += marks
