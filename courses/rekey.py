"""Fixing a question's answer key: every finished attempt of every test using it is re-scored, logged.

Item analysis (courses/item_analysis.py) shows staff a question whose key is likely wrong (negative
discrimination, a wrong option chosen more than the key). `question_rekey` is the one way to change a
key once the question is in use: the admin's question form calls it when the key field changes.
"""

from __future__ import annotations

import contextlib
import json
import logging

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from cerebrum.audit_context import acting
from cerebrum.bindings import Binding
from cerebrum.errors import DomainError
from cerebrum.task_publish import task_publish
from courses import caches
from courses.models import (
    PaperVersion,
    PracticeTest,
    PracticeTestQuestion,
    Question,
    QuestionKeyChange,
    TestAttempt,
)
from courses.scoring import OPTIONS, Marking, score_answers, sections_in_learner_order

logger = logging.getLogger(__name__)

FINISHED = (TestAttempt.Status.SUBMITTED, TestAttempt.Status.EXPIRED)
SCORE_FIELDS = ("score", "correct_count", "wrong_count", "unanswered_count", "topic_breakdown", "section_breakdown")
RESCORE_BATCH = 200
# Re-scoring thousands of attempts (each UPDATE also fires the audit trigger) and analysing a big mock
# take longer per statement than a request may (DB_STATEMENT_TIMEOUT_MS); they run in tasks.
LONG_STATEMENT_TIMEOUT_MS = 120_000
# A submit that read the old key from a process's in-memory copy (≤ 30 s) is caught by a second pass.
SECOND_PASS_SECONDS = caches.PAPER_L1_SECONDS + 30
# Callables (question_id, test_ids) run inside question_rekey's transaction after the re-score, and again
# in its second pass, registered by higher apps in their AppConfig.ready() (practice: the mistake
# notebook follows the new key); courses imports none of them. Each must be idempotent.
after_rekey_hooks: list = []
# Tasks of courses/tasks.py, which imports this module (bound in CoursesConfig.ready).
rekey_second_pass_task = Binding("courses.rekey_second_pass")
item_analysis_compute_task = Binding("courses.item_analysis_compute")


@transaction.atomic
def question_rekey(*, question: Question, correct_option: str, changed_by=None, reason: str = "") -> QuestionKeyChange:
    """Change the key to `correct_option` and re-score every finished attempt of the tests that use it.

    The key is corrected in the question and in every frozen paper version that holds it (a wrong key
    was wrong for everyone who wrote it); scores, counts and breakdowns follow in the same transaction;
    after commit the cached keys, the tests' and topics' leaderboards and the learners' dashboards are
    dropped (rebuilt from PostgreSQL), the tests' item analysis is recomputed, and a second re-score
    pass runs after SECOND_PASS_SECONDS. A QuestionKeyChange row records who, what, why and how many.
    The after-rekey hooks run after the re-score. The audit rows it writes (the question, every re-scored
    attempt) name `changed_by` as the acting user (docs/audit.md), here and in the second pass.
    """
    with _acting(getattr(changed_by, "pk", None), action="question_rekey"):
        return _rekey(question=question, correct_option=correct_option, changed_by=changed_by, reason=reason)


@transaction.atomic
def rekey_second_pass(*, question_id: int, test_ids: list[int], changed_by_id: int | None = None) -> int:
    """The re-score and the after-rekey hooks once more, SECOND_PASS_SECONDS after a key change: a submit
    may have been scored on the old key read from a process's in-memory copy. Returns scores changed."""
    with _acting(changed_by_id, action="question_rekey_second_pass"):
        _, changed = attempts_rescore(test_ids=test_ids)
        _hooks_run(question_id=question_id, test_ids=test_ids)
    return changed


def _acting(user_id: int | None, **metadata):
    # Without a user, a request's own context (the admin's middleware) is left as it is.
    return acting(user_id=user_id, **metadata) if user_id else contextlib.nullcontext()


def _hooks_run(*, question_id: int, test_ids: list[int]) -> None:
    for hook in after_rekey_hooks:
        hook(question_id=question_id, test_ids=test_ids)


def _rekey(*, question: Question, correct_option: str, changed_by, reason: str) -> QuestionKeyChange:
    new_option = (correct_option or "").strip().upper()
    if new_option not in OPTIONS:
        raise DomainError("Choose A, B, C or D.", fields={"correct_option": ["Choose A, B, C or D."]})
    locked = Question.objects.select_for_update().get(pk=question.pk)
    old_option = locked.correct_option
    if new_option == old_option:
        raise DomainError(
            f"The key is already {old_option}.", code="key_unchanged", fields={"correct_option": ["Unchanged."]}
        )
    locked.correct_option = new_option
    locked.save(update_fields=["correct_option", "updated_at"])  # save(): cacheops drops cached question reads
    question.correct_option = new_option
    test_ids = sorted(set(PracticeTestQuestion.objects.filter(question_id=locked.pk).values_list("test_id", flat=True)))
    _frozen_keys_correct(question_id=locked.pk, correct_option=new_option, test_ids=test_ids)
    rescored, changed = attempts_rescore(test_ids=test_ids)
    _hooks_run(question_id=locked.pk, test_ids=test_ids)
    change = QuestionKeyChange.objects.create(
        question=locked,
        old_option=old_option,
        new_option=new_option,
        changed_by=changed_by,
        reason=reason.strip()[:300],
        test_ids=test_ids,
        attempts_rescored=rescored,
        scores_changed=changed,
    )
    logger.info(
        "question %s re-keyed %s -> %s by %s: %s attempts in tests %s re-scored, %s changed",
        locked.pk,
        old_option,
        new_option,
        getattr(changed_by, "pk", None),
        rescored,
        test_ids,
        changed,
    )
    changed_by_id = getattr(changed_by, "pk", None)
    transaction.on_commit(lambda: _after_rekey(locked.pk, test_ids, changed_by_id))
    return change


@transaction.atomic
def attempts_rescore(*, test_ids: list[int]) -> tuple[int, int]:
    """Re-score every finished attempt of the tests on its paper version's (corrected) frozen key.

    Returns (attempts re-scored, attempts whose score or counts changed). Idempotent. Rows are locked
    in primary-key order; only changed rows are written (bulk, RESCORE_BATCH at a time). After commit
    the changed learners' dashboards and the affected boards are dropped. Queries: a constant number
    per RESCORE_BATCH attempts.
    """
    statement_timeout_extend()
    tests = {test.pk: test for test in PracticeTest.objects.filter(pk__in=test_ids)}
    snapshots = {
        (row["test_id"], row["version"]): row
        for row in PaperVersion.objects.filter(test_id__in=test_ids).values("test_id", "version", "paper", "answer_key")
    }
    attempts = (
        TestAttempt.objects.select_for_update(of=("self",))
        .filter(test_id__in=test_ids, status__in=FINISHED)
        .only("id", "test_id", "user_id", "paper_version", "answers", "question_order", "submitted_at", *SCORE_FIELDS)
        .order_by("pk")
    )
    rescored, changed, boards, users = 0, [], {caches.test_board_key(test_id) for test_id in test_ids}, set()
    for attempt in attempts:
        snapshot = snapshots.get((attempt.test_id, attempt.paper_version)) or caches.paper_snapshot(
            attempt.test_id, attempt.paper_version
        )
        before = [getattr(attempt, name) for name in SCORE_FIELDS]
        _score(attempt, tests[attempt.test_id], snapshot)
        rescored += 1
        if [getattr(attempt, name) for name in SCORE_FIELDS] != before:
            changed.append(attempt)
            boards.update(_topic_boards(attempt, before[4]))
            users.add(attempt.user_id)
    _scores_write(changed)
    changed_ids = [attempt.pk for attempt in changed]
    transaction.on_commit(lambda: _after_rescore(changed_ids, sorted(boards), users))
    transaction.on_commit(lambda: caches.test_results_bump(list(test_ids)))  # post-test analysis aggregates
    return rescored, len(changed)


def statement_timeout_extend() -> None:
    """Raise PostgreSQL's statement timeout to LONG_STATEMENT_TIMEOUT_MS for the current transaction."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {LONG_STATEMENT_TIMEOUT_MS}")


# Django's bulk_update writes CASE WHEN id = ... per field, quadratic in the batch: 1,000 attempts with
# their JSON breakdowns ran past the 5 s statement timeout. On PostgreSQL one UPDATE ... FROM VALUES
# per batch is linear.
_SCORES_UPDATE = """
UPDATE test_attempts AS t SET score = v.score, correct_count = v.correct_count, wrong_count = v.wrong_count,
    unanswered_count = v.unanswered_count, topic_breakdown = v.topic_breakdown, section_breakdown = v.section_breakdown
FROM (VALUES {values}) AS v (id, score, correct_count, wrong_count, unanswered_count, topic_breakdown, section_breakdown)
WHERE t.id = v.id
"""
_SCORES_ROW = "(%s::bigint, %s::int, %s::int, %s::int, %s::int, %s::jsonb, %s::jsonb)"


def _scores_write(attempts: list[TestAttempt]) -> None:
    """Write SCORE_FIELDS of the attempts: one statement per RESCORE_BATCH on PostgreSQL."""
    if connection.vendor != "postgresql":
        TestAttempt.objects.bulk_update(attempts, SCORE_FIELDS, batch_size=100)
        return
    for start in range(0, len(attempts), RESCORE_BATCH):
        batch = attempts[start : start + RESCORE_BATCH]
        params = [
            value
            for attempt in batch
            for value in (
                attempt.pk,
                attempt.score,
                attempt.correct_count,
                attempt.wrong_count,
                attempt.unanswered_count,
                json.dumps(attempt.topic_breakdown),
                json.dumps(attempt.section_breakdown),
            )
        ]
        with connection.cursor() as cursor:
            cursor.execute(_SCORES_UPDATE.format(values=", ".join([_SCORES_ROW] * len(batch))), params)


def _frozen_keys_correct(*, question_id: int, correct_option: str, test_ids: list[int]) -> None:
    """Correct the key in every frozen paper version of the tests that holds the question."""
    versions = list(PaperVersion.objects.select_for_update().filter(test_id__in=test_ids).order_by("pk"))
    fixed = []
    for version in versions:
        entry = version.answer_key.get(str(question_id))
        if entry is not None and entry.get("correct") != correct_option:
            entry["correct"] = correct_option
            fixed.append(version)
    PaperVersion.objects.bulk_update(fixed, ["answer_key"], batch_size=200)
    pairs = [(version.test_id, version.version) for version in fixed]
    transaction.on_commit(lambda: caches.answer_keys_forget(pairs))


def _score(attempt: TestAttempt, test: PracticeTest, snapshot: dict) -> None:
    marking = Marking(correct=test.marks_correct, wrong=test.marks_wrong, unanswered=test.marks_unanswered)
    sections = sections_in_learner_order(paper=snapshot["paper"], attempt=attempt)
    result = score_answers(
        answers=attempt.answers or {}, answer_key=snapshot["answer_key"], marking=marking, sections=sections
    )
    for name in SCORE_FIELDS:
        setattr(attempt, name, getattr(result, name))


def _topic_boards(attempt: TestAttempt, old_breakdown: dict) -> set[str]:
    if not attempt.submitted_at:
        return set()
    week = caches.iso_week(timezone.localdate(attempt.submitted_at))
    topics = set(old_breakdown or {}) | set(attempt.topic_breakdown or {})
    return {caches.topic_board_key(slugify(topic), week) for topic in topics}


def _after_rescore(attempt_ids: list[int], boards: list[str], user_ids: set) -> None:
    caches.attempts_forget(attempt_ids)
    caches.boards_drop(boards)
    for user_id in user_ids:
        caches.dashboard_invalidate(user_id)


def _after_rekey(question_id: int, test_ids: list[int], changed_by_id: int | None) -> None:
    # Broker down: both run here now (the second pass without its wait, so a submit racing the
    # re-key may keep the old key until the key is saved again).
    task_publish(
        rekey_second_pass_task,
        question_id=question_id,
        test_ids=test_ids,
        changed_by_id=changed_by_id,
        countdown=SECOND_PASS_SECONDS,
        if_unreachable="run_here",
    )
    for test_id in test_ids:
        task_publish(item_analysis_compute_task, test_id, if_unreachable="run_here")
