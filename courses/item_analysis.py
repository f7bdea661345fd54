"""Item analysis of tests (classical test theory; Moodle's quiz statistics as the anchor).

Per question of a test: facility (share of takers who chose the key), discrimination (Kelley's
upper-lower index over the top and bottom 27 % of takers), how often each option was chosen (and left
blank), and the mean seconds spent on it; per test: KR-20 reliability. Formulas and their sources:
docs/item-analysis.md.

Who counts: each learner's FIRST finished (submitted or expired) attempt of the test, as Moodle's
statistics do by default ("the data for subsequent attempts probably does not satisfy the assumptions
that underlie item analysis", Moodle docs, Quiz statistics calculations). Item scores are dichotomous:
1 for the key, 0 for a wrong option or a blank (Moodle's "treat omitted items as 0"); a learner's total
is their number right. NTA's negative marks rank learners but play no part here.

Cost: a constant number of queries per test, whatever the number of takers or questions
(tests/courses/test_item_analysis.py counts them).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from courses import selectors
from courses.models import (
    AttemptAnswer,
    PracticeTest,
    PracticeTestQuestion,
    QuestionStatistics,
    TestAttempt,
    TestStatistics,
)
from courses.rekey import statement_timeout_extend
from courses.scoring import OPTIONS

logger = logging.getLogger(__name__)

FINISHED = (TestAttempt.Status.SUBMITTED, TestAttempt.Status.EXPIRED)
# Kelley (1939): the upper and lower 27 % of takers give the most sensitive two-group comparison.
GROUP_SHARE = 0.27
# The nightly run looks at tests with attempts finished since a little over a day ago.
NIGHTLY_LOOKBACK = timedelta(hours=25)


# --- The statistics as pure functions -------------------------------------------------------------


@dataclass
class ItemResult:
    question_id: int
    correct_option: str
    takers: int = 0
    facility: float | None = None
    discrimination: float | None = None
    option_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class TestResult:
    takers: int
    question_count: int
    mean_correct: float | None
    sd_correct: float | None
    kr20: float | None
    items: list[ItemResult]


def analyse(*, key: dict[int, str], responses: list[dict[str, str]]) -> TestResult:
    """Statistics of `responses`: one {str(question id): chosen option} per taker (a blank is "" or missing),
    as `TestAttempt.answers` stores them.

    `key` maps each question id of the paper (in paper order) to its correct option. See the module
    docstring and docs/item-analysis.md for the formulas. Linear in takers x questions.
    """
    question_ids = list(key)
    names, keys = [str(qid) for qid in question_ids], [key[qid] for qid in question_ids]
    chosen = [[response.get(name) or "" for name in names] for response in responses]
    scored = [[1 if option == correct else 0 for option, correct in zip(row, keys, strict=True)] for row in chosen]
    totals = [sum(row) for row in scored]
    takers, k = len(responses), len(question_ids)
    upper, lower = upper_lower_groups(totals)
    chosen_by_question = list(zip(*chosen, strict=True)) or [()] * k
    right_by_question = list(zip(*scored, strict=True)) or [()] * k
    items = []
    for index, qid in enumerate(question_ids):
        tally = Counter(chosen_by_question[index])
        counts = {option: tally.get(option, 0) for option in OPTIONS}
        counts[""] = takers - sum(counts.values())  # blanks, and anything that is not an option
        right = right_by_question[index]
        item = ItemResult(question_id=qid, correct_option=keys[index], takers=takers, option_counts=counts)
        if takers:
            item.facility = sum(right) / takers
        if upper:
            item.discrimination = (sum(right[t] for t in upper) - sum(right[t] for t in lower)) / len(upper)
        items.append(item)
    mean, variance = _mean_variance(totals)
    return TestResult(
        takers=takers,
        question_count=k,
        mean_correct=mean,
        sd_correct=math.sqrt(variance) if variance is not None else None,
        kr20=kr20(facilities=[item.facility for item in items], variance=variance),
        items=items,
    )


def upper_lower_groups(totals: list[int]) -> tuple[list[int], list[int]]:
    """(upper, lower): indexes of the top and bottom 27 % of takers by total, each of n = round(0.27 N).

    n is rounded half up and at least 1; with fewer than 2 takers there are no groups. Ties at a group's
    edge are broken by order of `totals` (the first finished attempt first), so the result is stable.
    """
    if len(totals) < 2:
        return [], []
    size = max(1, math.floor(GROUP_SHARE * len(totals) + 0.5))
    ranked = sorted(range(len(totals)), key=lambda index: (totals[index], index))
    return ranked[-size:], ranked[:size]


def kr20(*, facilities: list[float | None], variance: float | None) -> float | None:
    """Kuder-Richardson formula 20: k/(k-1) * (1 - sum(p*q) / variance of the totals).

    p is each item's facility, q = 1 - p, the variance is the population variance (divided by N) of the
    takers' number right. None when undefined: fewer than 2 items, no takers, or zero variance.
    """
    k = len(facilities)
    if k < 2 or variance is None or variance == 0 or any(p is None for p in facilities):
        return None
    sum_pq = sum(p * (1 - p) for p in facilities)
    return (k / (k - 1)) * (1 - sum_pq / variance)


def _mean_variance(totals: list[int]) -> tuple[float | None, float | None]:
    if not totals:
        return None, None
    mean = sum(totals) / len(totals)
    return mean, sum((total - mean) ** 2 for total in totals) / len(totals)


# --- Computing and storing ------------------------------------------------------------------------


@transaction.atomic
def item_analysis_compute(*, test_id: int) -> TestStatistics:
    """Compute and store the test's statistics and its questions' (replacing earlier ones).

    Six queries whatever the size (and SET LOCAL of a longer statement timeout): the paper with its keys, the takers' answers, the time per question,
    and three writes (stale rows out, question rows upserted, the test row upserted).
    """
    statement_timeout_extend()
    paper = list(
        PracticeTestQuestion.objects.filter(test_id=test_id)
        .order_by("position")
        .values_list("question_id", "position", "question__correct_option")
    )
    takers = first_finished_attempts(test_id=test_id)
    responses = [answers or {} for answers in takers.values_list("answers", flat=True)]
    result = analyse(key={qid: correct for qid, _, correct in paper}, responses=responses)
    seconds = _average_seconds(takers)
    now = timezone.now()
    position = {qid: pos for qid, pos, _ in paper}
    QuestionStatistics.objects.filter(test_id=test_id).exclude(question_id__in=list(position)).delete()
    QuestionStatistics.objects.bulk_create(
        [
            QuestionStatistics(
                test_id=test_id,
                question_id=item.question_id,
                position=position[item.question_id],
                correct_option=item.correct_option,
                takers=item.takers,
                facility=item.facility,
                discrimination=item.discrimination,
                option_counts=item.option_counts,
                average_seconds=seconds.get(item.question_id),
                computed_at=now,
            )
            for item in result.items
        ],
        update_conflicts=True,
        unique_fields=["test", "question"],
        update_fields=[
            "position",
            "correct_option",
            "takers",
            "facility",
            "discrimination",
            "option_counts",
            "average_seconds",
            "computed_at",
        ],
    )
    statistics = TestStatistics(
        test_id=test_id,
        takers=result.takers,
        question_count=result.question_count,
        mean_correct=result.mean_correct,
        sd_correct=result.sd_correct,
        kr20=result.kr20,
        computed_at=now,
    )
    TestStatistics.objects.bulk_create(
        [statistics],
        update_conflicts=True,
        unique_fields=["test"],
        update_fields=["takers", "question_count", "mean_correct", "sd_correct", "kr20", "computed_at"],
    )
    logger.info("item analysis of test %s: %s takers, KR-20 %s", test_id, result.takers, result.kr20)
    return statistics


def first_finished_attempts(*, test_id: int):
    """Each learner's first finished attempt of the test (a queryset, oldest first)."""
    # One NOT EXISTS per kind of learner, so each probes its unique (learner, test, attempt_number) index.
    earlier = TestAttempt.objects.filter(
        test_id=OuterRef("test_id"), status__in=FINISHED, attempt_number__lt=OuterRef("attempt_number")
    )
    by_user = earlier.filter(user_id=OuterRef("user_id"))
    by_free_user = earlier.filter(free_user_id=OuterRef("free_user_id"))
    finished = TestAttempt.objects.filter(test_id=test_id, status__in=FINISHED)
    return finished.filter(~Exists(by_user), ~Exists(by_free_user)).order_by("pk")


def _average_seconds(takers) -> dict[int, float]:
    """question id → mean seconds over the takers who spent time on it (the exam screen sends it)."""
    rows = (
        AttemptAnswer.objects.filter(attempt_id__in=takers.values("pk"), time_spent_seconds__gt=0)
        .values("question_id")
        .annotate(seconds=Sum("time_spent_seconds"), seen=Count("id"))
        .values_list("question_id", "seconds", "seen")
    )
    return {question_id: total / seen for question_id, total, seen in rows}


def closed_mocks_analyse() -> int:
    """Analyse live mocks whose window closed (results announced) since their statistics were computed."""
    due = PracticeTest.objects.filter(results_announced_at__isnull=False).filter(
        Q(statistics__isnull=True) | Q(statistics__computed_at__lt=F("results_announced_at"))
    )
    return _analyse_each(due.values_list("pk", flat=True))


def recent_tests_analyse(*, lookback: timedelta = NIGHTLY_LOOKBACK) -> int:
    """Nightly: every test with attempts finished in the lookback, or finished attempts and no statistics.

    Live mocks still in their window are left for tests_analyse_closed_mocks.
    """
    since = timezone.now() - lookback
    finished = TestAttempt.objects.filter(test_id=OuterRef("pk"), status__in=FINISHED)
    due = PracticeTest.objects.filter(
        Exists(finished.filter(submitted_at__gte=since)) | (Exists(finished) & Q(statistics__isnull=True))
    ).only("id", "scheduled_start", "duration_minutes", "extra_seconds_max")
    return _analyse_each(test.pk for test in due if selectors.results_open_at(test) is None)


def _analyse_each(test_ids) -> int:
    count = 0
    for test_id in list(test_ids):
        item_analysis_compute(test_id=test_id)
        count += 1
    return count
