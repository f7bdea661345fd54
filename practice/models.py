"""Bookmarks, the mistake notebook, the revision queue (FSRS cards and their reviews) and rank bands."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from courses.models import PracticeTest, Question, TestAttempt


class Bookmark(models.Model):
    """A learner keeps a question to revise; one per (learner, question), whichever test it came from."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "practice_bookmarks"
        constraints = [models.UniqueConstraint(fields=["user", "question"], name="bookmark_one_per_question")]
        indexes = [models.Index(fields=["user", "-created_at"], name="idx_bookmarks_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.question_id}"


class MistakeEntry(models.Model):
    """One wrong answer of one finished attempt (written at submit; idempotent by (attempt, question)).

    `chosen_option` is the canonical letter the learner chose (the key's lettering). A live mock's
    entries stay out of the notebook until its results open (the key is secret until then).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mistakes")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    attempt = models.ForeignKey(TestAttempt, on_delete=models.CASCADE, related_name="+")
    test = models.ForeignKey(PracticeTest, on_delete=models.CASCADE, related_name="+")
    chosen_option = models.CharField(max_length=1)
    correct_option = models.CharField(max_length=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "practice_mistakes"
        verbose_name_plural = "mistake entries"
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="mistake_one_per_attempt_question")]
        indexes = [models.Index(fields=["user", "-created_at"], name="idx_mistakes_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} ✗ {self.question_id} in {self.attempt_id}"


class ReviewCard(models.Model):
    """A question in a learner's revision queue, scheduled by the `fsrs` package.

    `card` is `fsrs.Card.to_dict()` (state, step, stability, difficulty, due, last review); `due` is
    copied out of it so the queue is an index scan.
    """

    class Source(models.TextChoices):
        BOOKMARK = "BOOKMARK", "Bookmarked"
        MISTAKE = "MISTAKE", "Answered wrong"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_cards")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    # The test whose wrong answer queued it (None for a bookmark): a live mock's stays hidden until it closes.
    test = models.ForeignKey(PracticeTest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    card = models.JSONField(default=dict)
    due = models.DateTimeField()
    reviews = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "practice_review_cards"
        constraints = [models.UniqueConstraint(fields=["user", "question"], name="review_card_one_per_question")]
        indexes = [models.Index(fields=["user", "due"], name="idx_review_cards_user_due")]

    def __str__(self) -> str:
        return f"{self.user_id} ↻ {self.question_id} due {self.due:%Y-%m-%d %H:%M}"


class ReviewLog(models.Model):
    """Append-only: one rating of one card. `key` makes a retried rating a no-op (unique per card)."""

    class Rating(models.IntegerChoices):
        AGAIN = 1, "Again"
        HARD = 2, "Hard"
        GOOD = 3, "Good"
        EASY = 4, "Easy"

    card = models.ForeignKey(ReviewCard, on_delete=models.CASCADE, related_name="logs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    rating = models.PositiveSmallIntegerField(choices=Rating.choices)
    due_before = models.DateTimeField()
    due_after = models.DateTimeField()
    reviewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "practice_review_logs"
        constraints = [models.UniqueConstraint(fields=["card", "key"], name="review_log_key_unique")]
        indexes = [models.Index(fields=["user", "-reviewed_at"], name="idx_review_logs_user_recent")]

    def __str__(self) -> str:
        return f"card {self.card_id}: {self.get_rating_display()}"


class RevisionStreak(models.Model):
    """Consecutive IST days with at least one review, kept by `revision.review_rate` (read in one query)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="revision_streak"
    )
    days = models.PositiveIntegerField(default=0)
    last_day = models.DateField(help_text="The last IST day with a review")

    class Meta:
        db_table = "practice_revision_streaks"

    def __str__(self) -> str:
        return f"{self.user_id}: {self.days} days to {self.last_day}"


class RankBand(models.Model):
    """Staff-entered past NEET (UG) figures: a percentile range and the all-India ranks it gave.

    Used only for the *estimated* rank band shown after a mock (`practice.ranking.rank_band_for`): the
    newest year whose range holds the learner's percentile.
    """

    year = models.PositiveSmallIntegerField()
    percentile_min = models.DecimalField(max_digits=10, decimal_places=7)
    percentile_max = models.DecimalField(max_digits=10, decimal_places=7)
    marks_min = models.SmallIntegerField(null=True, blank=True, help_text="NEET marks out of 720, if known")
    marks_max = models.SmallIntegerField(null=True, blank=True)
    rank_best = models.PositiveIntegerField()
    rank_worst = models.PositiveIntegerField()
    source = models.CharField(max_length=300, blank=True, default="", help_text="Where the figures come from")

    class Meta:
        db_table = "practice_rank_bands"
        ordering = ["-year", "-percentile_max"]
        constraints = [
            models.CheckConstraint(condition=Q(percentile_min__lte=models.F("percentile_max")), name="rank_band_range"),
            models.CheckConstraint(condition=Q(rank_best__lte=models.F("rank_worst")), name="rank_band_ranks"),
            models.CheckConstraint(
                condition=Q(percentile_min__gte=0) & Q(percentile_max__lte=100), name="rank_band_percentile"
            ),
        ]
        indexes = [models.Index(fields=["year", "percentile_min"], name="idx_rank_bands_lookup")]

    def __str__(self) -> str:
        return f"{self.year}: {self.percentile_min}–{self.percentile_max} → {self.rank_best}–{self.rank_worst}"
