"""Reads of the practice app, and who may see them: a learner sees only their own notebook and queue;
an attempt's analysis follows the attempt's own rule (owner, linked parent read-only, staff)."""

from __future__ import annotations

from django.db.models import QuerySet

from courses import selectors as course_selectors
from courses.models import TestAttempt
from practice import analysis
from practice.models import Bookmark, MistakeEntry
from practice.shapes import Analysis


def analysis_for_user(*, user, attempt_id: int) -> Analysis:
    """The analysis of an attempt the user may see (else NotFound, as for a missing one)."""
    attempt = course_selectors.attempt_get_for_user(user=user, attempt_id=attempt_id)
    return analysis.attempt_analysis(attempt=attempt)


def attempt_for_analysis(*, user, attempt_id: int) -> TestAttempt:
    return course_selectors.attempt_get_for_user(user=user, attempt_id=attempt_id)


def bookmark_list(*, user, chapter: str = "", topic: str = "") -> QuerySet:
    """The learner's bookmarks, newest first, optionally of one chapter and/or topic."""
    rows = Bookmark.objects.filter(user=user).select_related("question")
    return _by_chapter_topic(rows, chapter, topic).order_by("-created_at", "-id")


def mistake_list(*, user, chapter: str = "", topic: str = "") -> QuerySet:
    """The learner's wrong answers, newest first; a live mock's only after its results open."""
    rows = (
        MistakeEntry.objects.filter(user=user)
        .exclude(test_id__in=course_selectors._live_tests_with_hidden_results())
        .select_related("question", "test")
    )
    return _by_chapter_topic(rows, chapter, topic).order_by("-created_at", "-id")


def _by_chapter_topic(rows: QuerySet, chapter: str, topic: str) -> QuerySet:
    if chapter:
        rows = rows.filter(question__chapter=chapter)
    if topic:
        rows = rows.filter(question__topic=topic)
    return rows
