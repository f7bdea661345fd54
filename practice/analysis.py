"""Post-test analysis of one finished attempt: where the marks and the time went, and how it compares.

Reads: the attempt's own answer times (one query), the paper and answer key (Redis), the test's
aggregates over every taker (cached per results version, three queries to build; the submit and
re-score services change the version: courses.caches.test_results_*), and one rank-band row.
Who counts as a taker: each learner's first finished attempt (NTA: one sitting); a later attempt of
the same learner is compared with the others in place of their first. Seconds are whole seconds.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Sum

from cerebrum.errors import Conflict
from courses import caches, selectors
from courses.models import AttemptAnswer, TestAttempt
from courses.scoring import OPTIONS, sections_in_learner_order
from practice import ranking
from practice.models import RankBand
from practice.shapes import Analysis, TestResults

LONGEST = 5
CONTRAST_LIMIT = 10
MOST = 0.5  # "most learners": at least half of the takers


def attempt_analysis(*, attempt: TestAttempt) -> Analysis:
    """The whole analysis as plain data (the page and the API render the same dict)."""
    if attempt.status == TestAttempt.Status.IN_PROGRESS:
        raise Conflict("Submit the attempt to see its analysis.", code="attempt_running")
    opens_at = selectors.results_open_at(attempt.test)
    if opens_at is not None:
        raise Conflict(
            f"The analysis opens when the live mock closes, at {opens_at.isoformat()}.", code="results_pending"
        )
    test = attempt.test
    key = caches.answer_key_get(test_id=test.pk, version=attempt.paper_version)
    paper = caches.paper_get_by_id(test_id=test.pk, version=attempt.paper_version)
    sections = sections_in_learner_order(paper=paper, attempt=attempt)
    seconds = dict(AttemptAnswer.objects.filter(attempt_id=attempt.pk).values_list("question_id", "time_spent_seconds"))
    aggregates = test_aggregates(test_id=test.pk)
    questions = _question_rows(attempt, key, sections, seconds, aggregates)
    mine = taker_row(attempt)
    others = [row for row in aggregates["rows"] if row["learner"] != mine["learner"]]
    return {
        "attempt_id": attempt.pk,
        "test": {"id": test.pk, "title": test.title, "slug": test.slug},
        "summary": _summary(attempt, questions, test.marks_wrong),
        "by_section": _totals_by(questions, "section", test.marks_wrong),
        "by_chapter": _totals_by(questions, "chapter", test.marks_wrong),
        "by_topic": _totals_by(questions, "topic", test.marks_wrong),
        "questions": questions,
        "longest": sorted(questions, key=lambda q: (-q["your_seconds"], q["number"]))[:LONGEST],
        "wrong_most_got_right": _contrast(questions, "wrong", most_right=True),
        "right_most_got_wrong": _contrast(questions, "correct", most_right=False),
        "comparison": _comparison(mine, questions, sections, aggregates, test.marks_wrong),
        "standing": standing(mine, others),
    }


def taker_row(attempt: TestAttempt) -> dict:
    """One taker as the ranking sees them: score, right, wrong, per subject and per section."""
    sections = attempt.section_breakdown or {}
    return {
        "attempt_id": attempt.pk,
        "learner": f"u{attempt.user_id}" if attempt.user_id else f"f{attempt.free_user_id}",
        "score": attempt.score or 0,
        "correct": attempt.correct_count,
        "wrong": attempt.wrong_count,
        "subjects": ranking.subject_totals(
            score=attempt.score or 0,
            correct=attempt.correct_count,
            wrong=attempt.wrong_count,
            section_breakdown=sections,
        ),
        "sections": {
            name: {"score": row.get("score", 0), "correct": row.get("correct", 0), "wrong": row.get("wrong", 0)}
            for name, row in sections.items()
        },
    }


def standing(mine: dict, others: list[dict]) -> dict:
    """Rank (NTA tie-break), percentile (7 decimals), takers and the estimated NEET rank band."""
    scores = [row["score"] for row in others] + [mine["score"]]
    value = ranking.percentile(mine["score"], scores)
    return {
        "rank": ranking.rank_of(mine, others),
        "takers": len(scores),
        "percentile": str(value),
        "tie_break": list(ranking.tie_break_order()),
        "predicted_neet_rank": rank_band_for(value),
    }


def rank_band_for(percentile) -> dict | None:
    """The estimated all-India rank band for a percentile from the newest year's staff table; None if none."""
    band = (
        RankBand.objects.filter(percentile_min__lte=percentile, percentile_max__gte=percentile)
        .order_by("-year", "-percentile_min")
        .first()
    )
    if band is None:
        return None
    return {
        "is_estimate": True,
        "year": band.year,
        "rank_best": band.rank_best,
        "rank_worst": band.rank_worst,
        "marks_min": band.marks_min,
        "marks_max": band.marks_max,
        "source": band.source,
    }


def test_aggregates(*, test_id: int) -> TestResults:
    """Every taker's row, option counts and total seconds per question, and the topper's seconds."""
    return caches.test_results_get_or_build(test_id, lambda: _aggregates_build(test_id), shape=TestResults)


def _aggregates_build(test_id: int) -> TestResults:
    attempts = (
        TestAttempt.objects.filter(test_id=test_id, status__in=selectors.FINISHED, score__isnull=False)
        .only("id", "user_id", "free_user_id", "score", "correct_count", "wrong_count", "section_breakdown")
        .order_by("started_at", "id")
    )
    rows: dict[str, dict] = {}
    for attempt in attempts:
        row = taker_row(attempt)
        rows.setdefault(row["learner"], row)
    population = list(rows.values())
    per_question: dict[str, dict] = defaultdict(lambda: {"options": {}, "seconds": 0})
    counts = (
        AttemptAnswer.objects.filter(attempt_id__in=[row["attempt_id"] for row in population])
        .values("question_id", "option")
        .annotate(n=Count("id"), seconds=Sum("time_spent_seconds"))
        .order_by()
    )
    for count in counts:
        entry = per_question[str(count["question_id"])]
        entry["options"][count["option"]] = count["n"]
        entry["seconds"] += count["seconds"] or 0
    topper = min(population, key=ranking.rank_key, default=None)
    topper_seconds = {}
    if topper is not None:
        topper_seconds = {
            str(qid): spent
            for qid, spent in AttemptAnswer.objects.filter(attempt_id=topper["attempt_id"]).values_list(
                "question_id", "time_spent_seconds"
            )
        }
    return {
        "rows": population,
        "questions": dict(per_question),
        "topper": {"row": topper, "seconds": topper_seconds},
    }


def _question_rows(attempt, key: dict, sections: list[dict], seconds: dict, aggregates: dict) -> list[dict]:
    takers = len(aggregates["rows"]) or 1
    rows, number = [], 0
    for section in sections:
        answered = 0
        for question_id in section["question_ids"]:
            entry = key.get(str(question_id))
            if entry is None:
                continue
            number += 1
            chosen = (attempt.answers or {}).get(str(question_id)) or ""
            outcome = "unanswered"
            if chosen in OPTIONS:
                answered += 1
                evaluated = not section.get("attempt_any") or answered <= section["attempt_any"]
                outcome = ("correct" if chosen == entry["correct"] else "wrong") if evaluated else "not_evaluated"
            stats = aggregates["questions"].get(str(question_id), {"options": {}, "seconds": 0})
            rows.append(
                {
                    "number": number,
                    "question_id": question_id,
                    "section": section["name"],
                    "chapter": entry.get("chapter", ""),
                    "topic": entry.get("topic", ""),
                    "outcome": outcome,
                    "your_seconds": seconds.get(question_id, 0),
                    "average_seconds": round(stats["seconds"] / takers, 1),
                    "share_correct": round(stats["options"].get(entry["correct"], 0) / takers, 4),
                }
            )
    return rows


def _totals(rows: list[dict], marks_wrong: int) -> dict:
    correct = sum(1 for row in rows if row["outcome"] == "correct")
    wrong = sum(1 for row in rows if row["outcome"] == "wrong")
    attempted = correct + wrong
    return {
        "questions": len(rows),
        "correct": correct,
        "wrong": wrong,
        "unanswered": len(rows) - attempted,
        "accuracy_percent": round(100 * correct / attempted, 2) if attempted else None,
        "negative_marks": wrong * abs(marks_wrong),
        "seconds": sum(row["your_seconds"] for row in rows),
    }


def _summary(attempt: TestAttempt, questions: list[dict], marks_wrong: int) -> dict:
    return {"score": attempt.score, **_totals(questions, marks_wrong)}


def _totals_by(questions: list[dict], field: str, marks_wrong: int) -> list[dict]:
    groups: dict[str, list] = {}
    for row in questions:
        groups.setdefault(row[field], []).append(row)
    return [{"name": name, **_totals(rows, marks_wrong)} for name, rows in groups.items()]


def _contrast(questions: list[dict], outcome: str, *, most_right: bool) -> list[dict]:
    if most_right:
        picked = [q for q in questions if q["outcome"] == outcome and q["share_correct"] >= MOST]
        return sorted(picked, key=lambda q: (-q["share_correct"], q["number"]))[:CONTRAST_LIMIT]
    picked = [q for q in questions if q["outcome"] == outcome and q["share_correct"] < MOST]
    return sorted(picked, key=lambda q: (q["share_correct"], q["number"]))[:CONTRAST_LIMIT]


def _comparison(mine: dict, questions: list[dict], sections: list[dict], aggregates: dict, marks_wrong: int) -> dict:
    """You, the topper and the average taker: score, accuracy, attempted, seconds, per section too."""
    own_seconds = {row["question_id"]: row["your_seconds"] for row in questions}
    topper = aggregates["topper"]["row"] or mine
    topper_seconds = {int(qid): spent for qid, spent in aggregates["topper"]["seconds"].items()}
    if aggregates["topper"]["row"] is None:
        topper_seconds = own_seconds
    takers = aggregates["rows"] or [mine]
    totals = {int(qid): stats["seconds"] for qid, stats in aggregates["questions"].items()}
    return {
        "you": _person(mine, sections, own_seconds),
        "topper": _person(topper, sections, topper_seconds),
        "average": _average(takers, sections, totals),
    }


def _person(row: dict, sections: list[dict], seconds: dict[int, int]) -> dict:
    return {
        **_figures(row["score"], row["correct"], row["wrong"], sum(seconds.values())),
        "sections": [
            {
                "name": section["name"],
                **_figures(
                    row["sections"].get(section["name"], {}).get("score", 0),
                    row["sections"].get(section["name"], {}).get("correct", 0),
                    row["sections"].get(section["name"], {}).get("wrong", 0),
                    sum(seconds.get(qid, 0) for qid in section["question_ids"]),
                ),
            }
            for section in sections
        ],
    }


def _average(rows: list[dict], sections: list[dict], totals: dict[int, int]) -> dict:
    count = len(rows)

    def mean(values) -> float:
        return round(sum(values) / count, 2)

    def section_mean(name: str, field: str) -> float:
        return mean(row["sections"].get(name, {}).get(field, 0) for row in rows)

    result = _figures(
        mean(r["score"] for r in rows), mean(r["correct"] for r in rows), mean(r["wrong"] for r in rows), 0
    )
    result["seconds"] = round(sum(totals.values()) / count, 1)
    result["sections"] = []
    for section in sections:
        name = section["name"]
        figures = _figures(section_mean(name, "score"), section_mean(name, "correct"), section_mean(name, "wrong"), 0)
        figures["seconds"] = round(sum(totals.get(qid, 0) for qid in section["question_ids"]) / count, 1)
        result["sections"].append({"name": name, **figures})
    return result


def _figures(score, correct, wrong, seconds) -> dict:
    attempted = correct + wrong
    return {
        "score": score,
        "attempted": attempted,
        "accuracy_percent": round(100 * correct / attempted, 2) if attempted else None,
        "seconds": seconds,
    }
