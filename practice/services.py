"""Writes of the practice app: bookmarks and the mistake notebook (the revision queue: revision.py)."""

from __future__ import annotations

from django.db import transaction

from cerebrum.errors import NotFound
from courses import selectors as course_selectors
from courses.models import Question, TestAttempt
from courses.scoring import OPTIONS
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


def mistakes_record(*, attempt: TestAttempt) -> int:
    """Every evaluated wrong answer of a just-scored attempt into the notebook and the revision queue.

    Runs inside `courses.services.attempt_submit`'s transaction (its after-submit hooks), once per
    attempt; the unique (attempt, question) makes a repeat write nothing. Free users have no notebook.
    "Attempt any N" answers past N were not evaluated and are not mistakes, and a question whose key a
    free test's result keeps secret (courses.selectors) is not one either. Returns entries written.
    """
    if not attempt.user_id:
        return 0
    from courses import caches  # the answer key as the attempt was scored

    key = caches.answer_key_get(test_id=attempt.test_id, version=attempt.paper_version)
    # A free test's question that a live or course-only test also uses: its result shows no verdict, nor does this.
    not_evaluated = _not_evaluated(attempt) | course_selectors._questions_kept_secret(attempt.test, key)
    entries = [
        MistakeEntry(
            user_id=attempt.user_id,
            question_id=int(question_id),
            attempt_id=attempt.pk,
            test_id=attempt.test_id,
            chosen_option=chosen,
            correct_option=key[question_id]["correct"],
        )
        for question_id, chosen in (attempt.answers or {}).items()
        if question_id in key
        and chosen in OPTIONS
        and chosen != key[question_id]["correct"]
        and question_id not in not_evaluated
    ]
    MistakeEntry.objects.bulk_create(entries, ignore_conflicts=True)
    revision.cards_add(
        user_id=attempt.user_id,
        question_ids=[entry.question_id for entry in entries],
        source=ReviewCard.Source.MISTAKE,
        test_id=attempt.test_id,
        wrong_at=attempt.submitted_at,
        not_before=course_selectors.results_open_at(attempt.test),
    )
    return len(entries)


def _not_evaluated(attempt: TestAttempt) -> set[str]:
    """Answers past an "attempt any N" section's first N, in the learner's order (docs/exam.md)."""
    from courses import caches
    from courses.services import sections_in_learner_order

    paper = caches.paper_get_by_id(test_id=attempt.test_id, version=attempt.paper_version)
    skipped = set()
    for section in sections_in_learner_order(paper=paper, attempt=attempt):
        if not section.get("attempt_any"):
            continue
        answered = [str(q) for q in section["question_ids"] if (attempt.answers or {}).get(str(q)) in OPTIONS]
        skipped.update(answered[section["attempt_any"] :])
    return skipped
