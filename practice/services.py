"""Writes of the practice app: bookmarks and the mistake notebook (the revision queue: revision.py)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cerebrum.errors import NotFound
from courses import caches
from courses import selectors as course_selectors
from courses.models import PaperVersion, PracticeTest, Question, TestAttempt
from courses.scoring import OPTIONS, sections_in_learner_order
from practice import revision
from practice.models import Bookmark, MistakeEntry, ReviewCard


@transaction.atomic
def bookmark_add(*, user, question_id: int) -> tuple[Bookmark, bool]:
    """Bookmark a question (any active one: questions are shared); again returns the same row, False.

    The question also joins the learner's revision queue (a new FSRS card, due now) if not there yet.
    A question of a live mock or a course-only test (courses.selectors.protected_question_ids) only
    for a learner who sat that test: ids are sequential, and a bookmark shows the question's text.
    """
    if not Question.objects.filter(pk=question_id, is_active=True).exists():
        raise NotFound("No such question.")
    if question_id in course_selectors.protected_question_ids() and not _sat_a_test_with(user, question_id):
        raise NotFound("No such question.")
    bookmark, created = Bookmark.objects.get_or_create(user=user, question_id=question_id)
    if created:
        revision.cards_add(user_id=user.pk, question_ids=[question_id], source=ReviewCard.Source.BOOKMARK)
    return bookmark, created


def _sat_a_test_with(user, question_id: int) -> bool:
    return TestAttempt.objects.filter(user=user, test__paper_items__question_id=question_id).exists()


@transaction.atomic
def bookmark_remove(*, user, question_id: int) -> bool:
    """Remove the learner's bookmark; True if there was one (removing twice is harmless)."""
    deleted, _ = Bookmark.objects.filter(user=user, question_id=question_id).delete()
    return bool(deleted)


def mistakes_record(*, attempts: list[TestAttempt]) -> int:
    """Every evaluated wrong answer of just-scored attempts into the notebook and the revision queue.

    Runs inside `courses.services.attempt_submit`'s transaction (its after-submit hooks), once per
    attempt; a live mock's attempts, inside `live_results_announce`'s when its results open, a chunk at a
    time (the storm's submit skips it): two statements a call, whatever the number of attempts. The
    unique (attempt, question) makes a repeat write nothing. Free users have no notebook. "Attempt any
    N" answers past N were not evaluated and are not mistakes, and a question whose key a free test's
    result keeps secret (courses.selectors) is not one either. Returns entries written.
    """
    entries, cards, keys = [], [], {}
    for attempt in attempts:
        if not attempt.user_id:
            continue
        paper_id = (attempt.test_id, attempt.paper_version)
        if paper_id not in keys:  # the key and paper read once per paper version, not per attempt
            key = caches.answer_key_get(test_id=attempt.test_id, version=attempt.paper_version)
            paper = caches.paper_get_by_id(test_id=attempt.test_id, version=attempt.paper_version)
            # A free test's question that a live or course-only test also uses: its result shows no verdict, nor does this.
            keys[paper_id] = key, paper, course_selectors._questions_kept_secret(attempt.test, key)
        key, paper, kept_secret = keys[paper_id]
        not_evaluated = _not_evaluated(attempt, paper) | kept_secret
        not_before = course_selectors.results_open_at(attempt.test)
        for question_id, chosen in (attempt.answers or {}).items():
            if question_id in key and chosen in OPTIONS and chosen != key[question_id]["correct"]:
                if question_id in not_evaluated:
                    continue
                entries.append(
                    MistakeEntry(
                        user_id=attempt.user_id,
                        question_id=int(question_id),
                        attempt_id=attempt.pk,
                        test_id=attempt.test_id,
                        chosen_option=chosen,
                        correct_option=key[question_id]["correct"],
                    )
                )
                cards.append((attempt.user_id, int(question_id), attempt.test_id, attempt.submitted_at, not_before))
    if not entries:
        return 0
    MistakeEntry.objects.bulk_create(entries, ignore_conflicts=True)
    revision.mistake_cards_add(cards)
    return len(entries)


@transaction.atomic
def mistakes_rekey(*, question_id: int, test_ids: list[int]) -> dict[str, int]:
    """After a key change: the question's notebook entries in the tests' finished attempts follow the new key.

    Registered on `courses.rekey.after_rekey_hooks` (run inside `question_rekey`'s transaction after
    the re-score, and again in its second pass). Each attempt is judged on its paper version's frozen
    key, corrected by then, by the submit's own rules (`mistakes_record`): an entry whose answer is
    now right is deleted, an answer now wrong gets an entry (and a revision card, due as at submit),
    an entry still wrong carries the new correct letter. A "answered wrong" revision card whose
    question is no longer wrong in any of the learner's attempts leaves the queue; a bookmarked one
    stays. Idempotent. Queries: a constant number, whatever the number of attempts.
    Returns {"added", "removed", "corrected"} entry counts.
    """
    qid = str(question_id)
    tests = {test.pk: test for test in PracticeTest.objects.filter(pk__in=test_ids)}
    snapshots = {
        (row["test_id"], row["version"]): row
        for row in PaperVersion.objects.filter(test_id__in=test_ids).values("test_id", "version", "paper", "answer_key")
    }
    attempts = (
        TestAttempt.objects.filter(test_id__in=test_ids, status__in=_FINISHED, user__isnull=False, answers__has_key=qid)
        .only("id", "user_id", "test_id", "paper_version", "answers", "question_order", "submitted_at")
        .order_by("pk")
    )
    # A free test whose result keeps this question's key secret records no mistake on it (as at submit).
    secret_in = {test.pk for test in tests.values() if course_selectors._questions_kept_secret(test, {qid: None})}
    wanted = {}
    for attempt in attempts.iterator(chunk_size=2000):
        if attempt.test_id not in secret_in:
            wanted.update(_wrong_on_rekey(attempt, qid, snapshots))
    existing = {
        entry.attempt_id: entry for entry in MistakeEntry.objects.filter(question_id=question_id, test_id__in=test_ids)
    }
    stale = [entry for attempt_id, entry in existing.items() if attempt_id not in wanted]
    corrected = [
        entry
        for attempt_id, entry in existing.items()
        if attempt_id in wanted and entry.correct_option != wanted[attempt_id].correct_option
    ]
    for entry in corrected:
        entry.correct_option = wanted[entry.attempt_id].correct_option
    added = [entry for attempt_id, entry in wanted.items() if attempt_id not in existing]
    MistakeEntry.objects.filter(pk__in=[entry.pk for entry in stale]).delete()
    MistakeEntry.objects.bulk_update(corrected, ["correct_option"], batch_size=500)
    MistakeEntry.objects.bulk_create(added, ignore_conflicts=True)
    revision.mistake_cards_add(
        [
            (e.user_id, question_id, e.test_id, e.created_at, course_selectors.results_open_at(tests[e.test_id]))
            for e in added
        ]
    )
    revision.mistake_cards_drop(question_id=question_id, user_ids={entry.user_id for entry in stale})
    return {"added": len(added), "removed": len(stale), "corrected": len(corrected)}


_FINISHED = (TestAttempt.Status.SUBMITTED, TestAttempt.Status.EXPIRED)


def _wrong_on_rekey(attempt: TestAttempt, qid: str, snapshots: dict) -> dict[int, MistakeEntry]:
    """{attempt id: its entry} if the attempt's answer to `qid` is a mistake on its frozen (corrected) key."""

    snapshot = snapshots.get((attempt.test_id, attempt.paper_version)) or caches.paper_snapshot(
        attempt.test_id, attempt.paper_version
    )
    key, chosen = snapshot["answer_key"], attempt.answers.get(qid)
    if qid not in key or chosen not in OPTIONS or chosen == key[qid]["correct"]:
        return {}
    if qid in _not_evaluated(attempt, paper=snapshot["paper"]):  # past an "attempt any N" section's N
        return {}
    entry = MistakeEntry(
        user_id=attempt.user_id,
        question_id=int(qid),
        attempt_id=attempt.pk,
        test_id=attempt.test_id,
        chosen_option=chosen,
        correct_option=key[qid]["correct"],
        created_at=attempt.submitted_at or timezone.now(),
    )
    return {attempt.pk: entry}


def _not_evaluated(attempt: TestAttempt, paper: dict | None = None) -> set[str]:
    """Answers past an "attempt any N" section's first N, in the learner's order (docs/exam.md)."""

    if paper is None:
        paper = caches.paper_get_by_id(test_id=attempt.test_id, version=attempt.paper_version)
    skipped = set()
    for section in sections_in_learner_order(paper=paper, attempt=attempt):
        if not section.get("attempt_any"):
            continue
        answered = [str(q) for q in section["question_ids"] if (attempt.answers or {}).get(str(q)) in OPTIONS]
        skipped.update(answered[section["attempt_any"] :])
    return skipped
