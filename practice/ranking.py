"""Rank and percentile as NTA computes them for NEET (UG); pure functions over per-learner rows.

Source: NEET (UG) 2025 Information Bulletin (NTA), "Procedure for resolving tie": the NTA score is the
percentile, 100 x (candidates with a raw score equal to or less than the candidate) / (candidates who
appeared), to 7 decimal places; candidates with equal marks are ordered by
  1. higher marks in Biology (Botany and Zoology), then 2. Chemistry, then 3. Physics;
  4. the lower ratio of attempted-incorrect to attempted-correct answers in all subjects, then
  5. in Biology, 6. in Chemistry, 7. in Physics.
The bulletin's last step (a transparent draw overseen by an independent committee) is not automated:
learners still equal after step 7 share the rank ("1, 2, 2, 4"). The order is configurable by the
PRACTICE_TIE_BREAK setting (a list of the names in TIE_BREAKERS); docs/practice.md.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

SUBJECT_OF_SECTION = {"botany": "biology", "zoology": "biology", "biology": "biology"}
SUBJECTS = ("biology", "chemistry", "physics")

# name → (row → value); a *smaller* value ranks higher, so "more marks" is stored negated.
TIE_BREAKERS = {
    "biology_marks": lambda row: -row["subjects"]["biology"]["score"],
    "chemistry_marks": lambda row: -row["subjects"]["chemistry"]["score"],
    "physics_marks": lambda row: -row["subjects"]["physics"]["score"],
    "wrong_right_ratio": lambda row: _ratio(row["wrong"], row["correct"]),
    "biology_wrong_right_ratio": lambda row: _subject_ratio(row, "biology"),
    "chemistry_wrong_right_ratio": lambda row: _subject_ratio(row, "chemistry"),
    "physics_wrong_right_ratio": lambda row: _subject_ratio(row, "physics"),
}
NTA_TIE_BREAK = (
    "biology_marks",
    "chemistry_marks",
    "physics_marks",
    "wrong_right_ratio",
    "biology_wrong_right_ratio",
    "chemistry_wrong_right_ratio",
    "physics_wrong_right_ratio",
)
PERCENTILE_PLACES = Decimal("0.0000001")


def tie_break_order() -> tuple[str, ...]:
    """The configured order (settings.PRACTICE_TIE_BREAK), NTA's by default; unknown names are refused."""
    order = tuple(getattr(settings, "PRACTICE_TIE_BREAK", NTA_TIE_BREAK))
    unknown = set(order) - set(TIE_BREAKERS)
    if unknown:
        raise ValueError(f"Unknown tie-break rule(s): {', '.join(sorted(unknown))}")
    return order


def subject_totals(*, score: int, correct: int, wrong: int, section_breakdown: dict) -> dict[str, dict]:
    """Marks, right and wrong per NEET subject from an attempt's sections (Botany + Zoology = Biology).

    A test with no subject-named section is a Biology paper (Cerebrum's bank is NCERT Biology): all of
    it counts as Biology.
    """
    totals = {subject: {"score": 0, "correct": 0, "wrong": 0} for subject in SUBJECTS}
    named = False
    for name, row in (section_breakdown or {}).items():
        subject = SUBJECT_OF_SECTION.get(name.strip().lower(), name.strip().lower())
        if subject in totals:
            named = True
            for field in ("score", "correct", "wrong"):
                totals[subject][field] += row.get(field, 0)
    if not named:
        totals["biology"] = {"score": score, "correct": correct, "wrong": wrong}
    return totals


def rank_key(row: dict, order: tuple[str, ...] | None = None) -> tuple:
    """Sort key of one learner's row ({"score", "correct", "wrong", "subjects"}): smaller ranks higher."""
    return (-row["score"], *(TIE_BREAKERS[name](row) for name in order or tie_break_order()))


def rank_of(row: dict, others: list[dict], order: tuple[str, ...] | None = None) -> int:
    """1 + how many of `others` rank strictly ahead of `row` (equal keys share a rank)."""
    order = order or tie_break_order()
    mine = rank_key(row, order)
    return 1 + sum(1 for other in others if rank_key(other, order) < mine)


def ranks(rows: list[dict], order: tuple[str, ...] | None = None) -> list[int]:
    """The rank of each row, in the given order of rows (competition ranking: 1, 2, 2, 4)."""
    order = order or tie_break_order()
    keys = [rank_key(row, order) for row in rows]
    ordered = sorted(keys)
    first = {}
    for position, key in enumerate(ordered, start=1):
        first.setdefault(key, position)
    return [first[key] for key in keys]


def percentile(score: int, scores: list[int]) -> Decimal:
    """NTA percentile: 100 x (scores <= `score`) / len(scores), rounded half up to 7 decimals.

    `scores` holds every taker's raw score, the learner's own included.
    """
    if not scores:
        return Decimal("0.0000000")
    at_or_below = sum(1 for other in scores if other <= score)
    return (Decimal(100) * at_or_below / Decimal(len(scores))).quantize(PERCENTILE_PLACES, rounding=ROUND_HALF_UP)


def _ratio(wrong: int, correct: int) -> float:
    """Attempted-incorrect over attempted-correct: 0 with no wrong answer, infinite with wrong and no right."""
    if wrong == 0:
        return 0.0
    return wrong / correct if correct else math.inf


def _subject_ratio(row: dict, subject: str) -> float:
    totals = row["subjects"][subject]
    return _ratio(totals["wrong"], totals["correct"])
