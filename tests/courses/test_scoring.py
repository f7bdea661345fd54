"""NTA marking edge cases on the pure scoring function."""

from __future__ import annotations

import pytest

from courses.scoring import Marking, max_score, score_answers

KEY = {
    "1": {"correct": "A", "topic": "Cell membrane", "chapter": "Cell"},
    "2": {"correct": "B", "topic": "Cell membrane", "chapter": "Cell"},
    "3": {"correct": "C", "topic": "Nucleus", "chapter": "Cell"},
    "4": {"correct": "D", "topic": "Nucleus", "chapter": "Cell"},
}
NTA = Marking(correct=4, wrong=-1, unanswered=0)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param({}, (0, 0, 0, 4), id="all-blank"),
        pytest.param({"1": "B", "2": "A", "3": "A", "4": "A"}, (-4, 0, 4, 0), id="all-wrong"),
        pytest.param({"1": "A", "2": "B", "3": "C", "4": "D"}, (16, 4, 0, 0), id="all-right"),
        pytest.param({"1": "A", "2": "C", "4": ""}, (3, 1, 1, 2), id="mixed-with-cleared"),
        pytest.param({"1": "a", "2": "E", "3": "C"}, (4, 1, 0, 3), id="invalid-options-are-unanswered"),
        pytest.param({"1": "A", "99": "A"}, (4, 1, 0, 3), id="question-outside-paper-ignored"),
    ],
)
def test_nta_marking(answers, expected):
    # When
    result = score_answers(answers=answers, answer_key=KEY, marking=NTA)

    # Then
    assert (result.score, result.correct_count, result.wrong_count, result.unanswered_count) == expected


def test_changed_answer_counts_only_the_final_choice():
    # Given a learner who first picked B then changed to A (the dict holds the last write)
    answers = {"1": "B"}
    answers["1"] = "A"

    # When
    result = score_answers(answers=answers, answer_key=KEY, marking=NTA)

    # Then
    assert result.score == 4
    assert result.correct_count == 1


def test_topic_breakdown_sums_per_topic():
    result = score_answers(answers={"1": "A", "2": "A", "3": "C"}, answer_key=KEY, marking=NTA)

    assert result.topic_breakdown == {
        "Cell membrane": {"chapter": "Cell", "total": 2, "correct": 1, "wrong": 1, "unanswered": 0, "score": 3},
        "Nucleus": {"chapter": "Cell", "total": 2, "correct": 1, "wrong": 0, "unanswered": 1, "score": 4},
    }


def test_custom_marking_scheme():
    result = score_answers(answers={"1": "A", "2": "A"}, answer_key=KEY, marking=Marking(3, -2, -1))

    assert result.score == 3 - 2 - 1 - 1
    assert max_score(question_count=4, marking=Marking(3, -2, -1)) == 12
