"""The revision queue: bookmarked and wrongly answered questions, scheduled by the `fsrs` package.

FSRS (Free Spaced Repetition Scheduler, open-spaced-repetition/py-fsrs, pinned in requirements.txt)
owns every interval: a card is `fsrs.Card` serialised in `ReviewCard.card`. A wrong answer enters the
queue as a review rated Again at submit (due within minutes, then in FSRS's relearning steps); a
bookmark enters as a new card, due now. Rating is idempotent: a card that is not due, or a `key`
already used for the card, changes nothing. Times are UTC; "today" and the streak use IST days.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import fsrs
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from cerebrum.errors import NotFound
from courses import selectors as course_selectors
from courses.models import Question, TestAttempt
from practice import caches
from practice.models import Bookmark, MistakeEntry, ReviewCard, ReviewLog, RevisionStreak
from practice.shapes import Topic

SCHEDULER = fsrs.Scheduler(enable_fuzzing=False)  # reproducible intervals; FSRS-6 default parameters
DAILY_SET_SIZE = 20
DAILY_REVIEWS_MAX = 10
WEAKEST_TOPICS = 3


def cards_add(
    *, user_id: int, question_ids: list[int], source: str, test_id=None, wrong_at=None, not_before=None
) -> int:
    """Put questions in the learner's queue; one already there keeps its schedule. Returns cards added.

    `not_before`: a live mock's wrong answers are not due before its results open (the key is secret).
    """
    if not question_ids:
        return 0
    now = wrong_at or timezone.now()
    cards = [_new_card(user_id, question_id, source, test_id, now, not_before) for question_id in question_ids]
    caches.revision_summary_forget(user_id)
    return len(ReviewCard.objects.bulk_create(cards, ignore_conflicts=True))


def mistake_cards_add(mistakes: list[tuple]) -> None:
    """`cards_add` for many learners at once: (user_id, question_id, test_id, wrong_at, not_before) each."""
    cards = [
        _new_card(user_id, question_id, ReviewCard.Source.MISTAKE, test_id, wrong_at, not_before)
        for user_id, question_id, test_id, wrong_at, not_before in mistakes
    ]
    ReviewCard.objects.bulk_create(cards, ignore_conflicts=True)
    for user_id in {card.user_id for card in cards}:
        caches.revision_summary_forget(user_id)


def mistake_cards_drop(*, question_id: int, user_ids: set[int]) -> int:
    """The learners' "answered wrong" cards of the question, if no notebook entry of theirs holds it any more
    (a key change made their answer right); a bookmarked question's card stays. Returns cards dropped."""
    if not user_ids:
        return 0
    still_wrong = MistakeEntry.objects.filter(question_id=question_id, user_id__in=user_ids).values("user_id")
    # A bookmark of a question already queued as a mistake kept that card (one per question): it stays.
    bookmarked = Bookmark.objects.filter(question_id=question_id, user_id__in=user_ids).values("user_id")
    deleted, _ = (
        ReviewCard.objects.filter(question_id=question_id, user_id__in=user_ids, source=ReviewCard.Source.MISTAKE)
        .exclude(user_id__in=still_wrong)
        .exclude(user_id__in=bookmarked)
        .delete()
    )
    for user_id in user_ids:
        caches.revision_summary_forget(user_id)
    return deleted


def _new_card(user_id: int, question_id: int, source: str, test_id, now, not_before) -> ReviewCard:
    card = fsrs.Card()
    if source == ReviewCard.Source.MISTAKE:  # a wrong answer is a first review rated Again: due soon
        card, _ = SCHEDULER.review_card(card, fsrs.Rating.Again, review_datetime=now)
    return ReviewCard(
        user_id=user_id,
        question_id=question_id,
        source=source,
        test_id=test_id,
        card=card.to_dict(),
        due=max(card.due, not_before) if not_before else card.due,
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def review_rate(*, user, card_id: int, rating: int, key: str = "") -> tuple[ReviewCard, bool]:
    """Record the learner's rating (1 Again, 2 Hard, 3 Good, 4 Easy) of a due card; (card, applied).

    Not due yet, or `key` already used for this card (default: the due time being rated, so a
    double tap rates once): nothing changes and `applied` is False. Another learner's card: NotFound.
    """
    card = ReviewCard.objects.select_for_update().filter(pk=card_id, user=user).first()
    if card is None:
        raise NotFound("No such review card.")
    now = timezone.now()
    key = key or f"due:{card.due.isoformat()}"
    if card.due > now or ReviewLog.objects.filter(card=card, key=key).exists():
        return card, False
    scheduled, _ = SCHEDULER.review_card(fsrs.Card.from_dict(card.card), fsrs.Rating(rating), review_datetime=now)
    ReviewLog.objects.create(
        card=card, user=user, key=key, rating=rating, due_before=card.due, due_after=scheduled.due, reviewed_at=now
    )
    card.card, card.due, card.reviews, card.updated_at = scheduled.to_dict(), scheduled.due, card.reviews + 1, now
    card.save(update_fields=["card", "due", "reviews", "updated_at"])
    _streak_extend(user, timezone.localdate(now))
    caches.revision_summary_forget(user.pk)
    return card, True


def revision_summary(*, user) -> dict:
    """{"due_today", "streak_days"} for the dashboard: one query, then Redis for 5 min (practice.caches)."""
    return caches.revision_summary_get_or_build(user.pk, lambda: _summary_build(user))


def _summary_build(user) -> dict:
    end = timezone.localtime().replace(hour=23, minute=59, second=59, microsecond=999999)
    due = ReviewCard.objects.filter(user=OuterRef("pk"), due__lte=end).order_by().values("user")
    streak = RevisionStreak.objects.filter(user=OuterRef("pk"))
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            due_today=Coalesce(Subquery(due.annotate(n=Count("id")).values("n")), 0),
            streak_days=Subquery(streak.values("days")),
            streak_last=Subquery(streak.values("last_day")),
        )
        .values("due_today", "streak_days", "streak_last")
        .first()
    )
    return {"due_today": row["due_today"], "streak_days": _streak_now(row["streak_days"], row["streak_last"])}


def _streak_now(days: int | None, last_day, today=None) -> int:
    """A streak counts while its last review was today or yesterday (IST); else it is broken: 0."""
    today = today or timezone.localdate()
    if not days or last_day is None or last_day < today - timedelta(days=1):
        return 0
    return days


def _streak_extend(user, today) -> None:
    streak, created = RevisionStreak.objects.select_for_update().get_or_create(
        user=user, defaults={"days": 1, "last_day": today}
    )
    if created or streak.last_day >= today:
        return
    streak.days = streak.days + 1 if streak.last_day == today - timedelta(days=1) else 1
    streak.last_day = today
    streak.save(update_fields=["days", "last_day"])


def due_cards(*, user, now: datetime | None = None, limit: int | None = None):
    """The learner's cards due by `now` (soonest first), a live mock's only once its results are open."""
    now = now or timezone.now()
    hidden = course_selectors._live_tests_with_hidden_results()
    cards = (
        ReviewCard.objects.filter(user=user, due__lte=now)
        .exclude(test_id__in=hidden)
        .select_related("question")
        .order_by("due", "id")
    )
    return cards[:limit] if limit else cards


def weakest_topics(*, user, limit: int | None = None) -> list[Topic]:
    """The learner's lowest-accuracy topics over their last 20 finished attempts (results open only)."""
    hidden = course_selectors._live_tests_with_hidden_results()
    attempts = (
        TestAttempt.objects.filter(user=user, status__in=course_selectors.FINISHED)
        .exclude(test_id__in=hidden)
        .only("topic_breakdown")
        .order_by("-started_at")[:20]
    )
    totals: dict[str, dict] = {}
    for attempt in attempts:
        for topic, row in (attempt.topic_breakdown or {}).items():
            entry = totals.setdefault(
                topic, {"topic": topic, "chapter": row.get("chapter", ""), "total": 0, "correct": 0}
            )
            entry["total"] += row.get("total", 0)
            entry["correct"] += row.get("correct", 0)
    for entry in totals.values():
        entry["accuracy_percent"] = round(100 * entry["correct"] / entry["total"], 1) if entry["total"] else 0.0
    return sorted(totals.values(), key=lambda e: (e["accuracy_percent"], e["topic"]))[: limit or WEAKEST_TOPICS]


def daily_set(*, user, size: int = DAILY_SET_SIZE) -> dict:
    """Today's practice: up to DAILY_REVIEWS_MAX due reviews, filled with fresh questions of the weakest topics.

    Fresh: active, not in the learner's queue, never one a live mock or course-only test uses (their
    keys stay secret: courses.selectors.protected_question_ids).
    """
    reviews = list(due_cards(user=user, limit=min(DAILY_REVIEWS_MAX, size)))
    topics = weakest_topics(user=user)
    fresh = []
    if topics and len(reviews) < size:
        queued = ReviewCard.objects.filter(user=user).values("question_id")
        fresh = list(
            Question.objects.nocache()
            .filter(Q(topic__in=[t["topic"] for t in topics]), is_active=True)
            .exclude(pk__in=queued)
            .exclude(pk__in=course_selectors.protected_question_ids())
            .order_by("topic", "id")[: size - len(reviews)]
        )
    return {"reviews": reviews, "fresh": fresh, "weakest_topics": topics}
