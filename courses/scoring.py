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
    section_breakdown: dict[str, dict] = field(default_factory=dict)


def score_answers(
    *,
    answers: dict[str, str],
    answer_key: dict[str, dict],
    marking: Marking,
    sections: list[dict] | None = None,
) -> Score:
    """Score `answers` (question id → option) against `answer_key` (question id → {correct, topic, chapter}).

    Answers to questions outside the key are ignored: the paper, not the client, decides what counts.
    `sections` ([{"name", "question_ids" in the learner's order, "attempt_any"}]) applies NTA's
    "attempt any N of M" (NEET 2021-2024 Section B: "only the first N attempted questions will be
    evaluated"): past the first N answered questions of a section, answers are not evaluated and
    count as unanswered (0 marks), reported as `not_evaluated`.
    """
    result = Score()
    marks = {"correct": marking.correct, "wrong": marking.wrong, "unanswered": marking.unanswered}
    counts = dict.fromkeys(marks, 0)
    # One pass, no Python call per question (a submit scores all 180, answered or not): the outcome,
    # then its marks added to the section's and the topic's rows.
    for section in sections or [{"name": "", "question_ids": list(answer_key), "attempt_any": None}]:
        totals = _section_totals(result, section)
        attempt_any = section.get("attempt_any")
        answered = 0
        for question_id in section["question_ids"]:
            key = answer_key.get(str(question_id))
            if key is None:
                continue
            chosen = answers.get(str(question_id)) or ""
            if chosen in OPTIONS:
                answered += 1
                if attempt_any and answered > attempt_any:
                    chosen, totals["not_evaluated"] = "", totals["not_evaluated"] + 1
            outcome = "unanswered" if chosen not in OPTIONS else "correct" if chosen == key["correct"] else "wrong"
            counts[outcome] += 1
            topic = result.topic_breakdown.get(key["topic"]) or _topic_totals(result.topic_breakdown, key)
            for row in (totals, topic):
                row["total"] += 1
                row[outcome] += 1
                row["score"] += marks[outcome]
    result.score = sum(marks[outcome] * count for outcome, count in counts.items())
    result.correct_count, result.wrong_count = counts["correct"], counts["wrong"]
    result.unanswered_count = counts["unanswered"]
    if not sections:
        result.section_breakdown = {}
    return result


def max_score(*, question_count: int, marking: Marking, sections: list[dict] | None = None) -> int:
    """The best possible score: every counted question right (an "any N of M" section counts N)."""
    if sections:
        question_count = sum(
            min(section["attempt_any"] or len(section["question_ids"]), len(section["question_ids"]))
            for section in sections
        )
    return question_count * marking.correct


def sections_in_learner_order(*, paper: dict, attempt) -> list[dict]:
    """The paper's sections with each one's question ids in the order this learner saw them
    (`attempt.question_order`, a list of question ids; the paper's order when it is empty)."""
    order = attempt.question_order
    if not order:
        return paper["sections"]
    # Filtering the learner's order per section (questions it lacks keep the paper's order, last): a
    # sort keyed by a lambda called Python once per question, a tenth of a submit's scoring.
    shown = set(order)
    sections = []
    for section in paper["sections"]:
        members = set(section["question_ids"])
        ids = [qid for qid in order if qid in members] + [qid for qid in section["question_ids"] if qid not in shown]
        sections.append({**section, "question_ids": ids})
    return sections


def _section_totals(result: Score, section: dict) -> dict:
    return result.section_breakdown.setdefault(
        section["name"],
        {"total": 0, "correct": 0, "wrong": 0, "unanswered": 0, "not_evaluated": 0, "score": 0},
    )


def _topic_totals(breakdown: dict[str, dict], key: dict) -> dict:
    return breakdown.setdefault(
        key["topic"],
        {"chapter": key.get("chapter", ""), "total": 0, "correct": 0, "wrong": 0, "unanswered": 0, "score": 0},
    )
