from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Grade
from cerebrum.models import UTMFields
from courses.hindi import hindi_needs_review


class NcertClass(models.TextChoices):
    CLASS_11 = "11", "Class 11"
    CLASS_12 = "12", "Class 12"


class Course(models.Model):
    class Type(models.TextChoices):
        CLASSROOM = "CLASSROOM", "Classroom"
        ONLINE = "ONLINE", "Online live"
        HYBRID = "HYBRID", "Hybrid"
        TEST_SERIES = "TEST_SERIES", "Test series"
        CRASH = "CRASH", "Crash course"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    type = models.CharField(max_length=12, choices=Type.choices, default=Type.ONLINE)
    class_level = models.CharField(max_length=10, choices=Grade.choices)
    fees_paise = models.PositiveIntegerField(help_text="Total fees in paise, GST inclusive")
    is_active = models.BooleanField(default=True)
    is_featured = models.BooleanField(default=False)
    description = models.TextField(blank=True, default="")
    syllabus = models.TextField(blank=True, default="", help_text="One item per line")
    start_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "courses"
        indexes = [models.Index(fields=["is_active", "class_level", "type"], name="idx_courses_catalog")]
        constraints = [models.CheckConstraint(condition=Q(fees_paise__gte=0), name="courses_fees_not_negative")]

    def __str__(self) -> str:
        return self.name


class Enrollment(UTMFields):
    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending payment"
        ACTIVE = "ACTIVE", "Active"
        SUSPENDED = "SUSPENDED", "Suspended"
        COMPLETED = "COMPLETED", "Completed"
        CANCELLED = "CANCELLED", "Cancelled"

    LIVE_STATUSES = (Status.PENDING, Status.ACTIVE, Status.SUSPENDED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    enrollment_date = models.DateTimeField(default=timezone.now)
    # The learner's first and last attributed visits (any device) when the enrollment was made:
    # {"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "at"}; {} when none.
    first_touch = models.JSONField(default=dict, blank=True)
    last_touch = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "enrollments"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=Q(status__in=["PENDING", "ACTIVE", "SUSPENDED"]),
                name="enrollments_one_live_per_user_course",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status"], name="idx_enrollments_user_status"),
            models.Index(fields=["course", "status"], name="idx_enrollments_course_status"),
            models.Index(fields=["status", "-enrollment_date"], name="idx_enrollments_status_date"),
            models.Index(fields=["user", "course", "status", "-enrollment_date"], name="idx_enrollments_comprehensive"),
            models.Index(fields=["user", "-created_at", "-id"], name="idx_enrollments_user_cursor"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.course_id} ({self.status})"


class Question(models.Model):
    class Difficulty(models.TextChoices):
        EASY = "EASY", "Easy"
        MEDIUM = "MEDIUM", "Medium"
        HARD = "HARD", "Hard"

    class Option(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"
        D = "D", "D"

    ncert_class = models.CharField(max_length=2, choices=NcertClass.choices)
    chapter = models.CharField(max_length=150)
    topic = models.CharField(max_length=150)
    difficulty = models.CharField(max_length=6, choices=Difficulty.choices, default=Difficulty.MEDIUM)
    is_active = models.BooleanField(default=True)
    text = models.TextField()
    option_a = models.CharField(max_length=500)
    option_b = models.CharField(max_length=500)
    option_c = models.CharField(max_length=500)
    option_d = models.CharField(max_length=500)
    correct_option = models.CharField(max_length=1, choices=Option.choices)
    explanation = models.TextField(blank=True, default="")
    # Hindi medium (courses/hindi.py, docs/hindi.md): blank where English prevails.
    text_hi = models.TextField("text (Hindi)", blank=True, default="")
    option_a_hi = models.CharField("option A (Hindi)", max_length=500, blank=True, default="")
    option_b_hi = models.CharField("option B (Hindi)", max_length=500, blank=True, default="")
    option_c_hi = models.CharField("option C (Hindi)", max_length=500, blank=True, default="")
    option_d_hi = models.CharField("option D (Hindi)", max_length=500, blank=True, default="")
    explanation_hi = models.TextField("explanation (Hindi)", blank=True, default="")
    # Set from the Hindi fields on every save and import (courses.hindi.hindi_needs_review).
    hindi_needs_review = models.BooleanField("Hindi needs review", default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    HINDI_FIELDS = ("text_hi", "option_a_hi", "option_b_hi", "option_c_hi", "option_d_hi", "explanation_hi")

    class Meta:
        db_table = "questions"
        indexes = [
            models.Index(fields=["topic", "difficulty", "is_active"], name="idx_questions_topic_difficulty"),
            models.Index(fields=["ncert_class", "chapter"], name="idx_questions_class_chapter"),
        ]

    def __str__(self) -> str:
        return f"[{self.topic}] {self.text[:60]}"

    def save(self, *args, **kwargs):
        self.hindi_review_refresh()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) & set(self.HINDI_FIELDS):
            kwargs["update_fields"] = {*update_fields, "hindi_needs_review"}
        super().save(*args, **kwargs)

    @property
    def options(self) -> dict[str, str]:
        return {"A": self.option_a, "B": self.option_b, "C": self.option_c, "D": self.option_d}

    def hindi_review_refresh(self) -> None:
        """Recompute hindi_needs_review from the Hindi fields (courses.hindi's rule)."""
        self.hindi_needs_review = hindi_needs_review(*(getattr(self, name) for name in self.HINDI_FIELDS))


class PracticeTest(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    grade = models.CharField(max_length=10, choices=Grade.choices, blank=True, default="")
    questions = models.ManyToManyField(Question, through="PracticeTestQuestion", related_name="tests")
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    marks_correct = models.SmallIntegerField(default=4)
    marks_wrong = models.SmallIntegerField(default=-1)
    marks_unanswered = models.SmallIntegerField(default=0)
    is_free = models.BooleanField(default=False, help_text="Free tests are open to everyone, including free users")
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.SET_NULL, related_name="tests")
    scheduled_start = models.DateTimeField(null=True, blank=True, help_text="Exam mode: everyone starts at this time")
    max_attempts = models.PositiveSmallIntegerField(
        default=3, help_text="Ignored for a scheduled (live) mock: there every learner has one attempt"
    )
    shuffle = models.BooleanField(
        default=False,
        help_text="Each learner gets the questions (within a section) and the options in their own order",
    )
    # Seconds a live mock's window runs past start + duration: the longest extra time staff granted one
    # learner, or the deadline of attempts started before an edit shortened the test (results wait for them).
    extra_seconds_max = models.PositiveIntegerField(default=0, editable=False)
    # Set when a live mock's results were sent to its learners (services.live_results_announce).
    results_announced_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_published = models.BooleanField(default=True)
    # Bumped by the services whenever the paper changes; the cached paper's key carries it.
    paper_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "practice_tests"
        indexes = [models.Index(fields=["is_published", "is_free", "-created_at"], name="idx_practice_tests_listing")]
        constraints = [
            models.CheckConstraint(condition=Q(marks_correct__gt=0), name="tests_marks_correct_positive"),
            models.CheckConstraint(condition=Q(marks_wrong__lte=0), name="tests_marks_wrong_not_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_live(self) -> bool:
        """A scheduled mock: everyone writes in the same window, one attempt each, results after it."""
        return self.scheduled_start is not None

    @property
    def attempts_allowed(self) -> int:
        """Attempts one learner may make: a live mock's one, else max_attempts."""
        return 1 if self.is_live else self.max_attempts


class TestSection(models.Model):
    """A part of a paper (NEET: Physics, Chemistry, Botany, Zoology), in the paper's order.

    `attempt_any` is NTA's "attempt any N of M": only the first N answered questions of the section
    (in the learner's order) are scored; M is the number of the section's questions.
    """

    test = models.ForeignKey(PracticeTest, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField()
    attempt_any = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Blank: every question counts. N: only the first N answered count."
    )

    class Meta:
        db_table = "test_sections"
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["test", "position"], name="test_section_position_unique"),
            models.CheckConstraint(condition=Q(attempt_any__gt=0), name="test_section_attempt_any_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class PracticeTestQuestion(models.Model):
    test = models.ForeignKey(PracticeTest, on_delete=models.CASCADE, related_name="paper_items")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="paper_items")
    position = models.PositiveSmallIntegerField()
    section = models.ForeignKey(
        TestSection, null=True, blank=True, on_delete=models.SET_NULL, related_name="paper_items"
    )

    class Meta:
        db_table = "practice_test_questions"
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["test", "position"], name="test_question_position_unique"),
            models.UniqueConstraint(fields=["test", "question"], name="test_question_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.test_id}#{self.position}: {self.question_id}"


class TestAttempt(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        SUBMITTED = "SUBMITTED", "Submitted"
        EXPIRED = "EXPIRED", "Expired"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="attempts"
    )
    free_user = models.ForeignKey(
        "accounts.FreeUser", null=True, blank=True, on_delete=models.CASCADE, related_name="attempts"
    )
    test = models.ForeignKey(PracticeTest, on_delete=models.CASCADE, related_name="attempts")
    attempt_number = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True, help_text="question id → chosen option")
    score = models.IntegerField(null=True, blank=True)
    correct_count = models.PositiveSmallIntegerField(default=0)
    wrong_count = models.PositiveSmallIntegerField(default=0)
    unanswered_count = models.PositiveSmallIntegerField(default=0)
    topic_breakdown = models.JSONField(default=dict, blank=True)
    section_breakdown = models.JSONField(default=dict, blank=True)
    paper_version = models.PositiveIntegerField(default=1)
    # Staff-granted extra time, already part of expires_at (AttemptTimeGrant logs each grant).
    extra_seconds = models.PositiveIntegerField(default=0)
    # This learner's order, fixed at the start: question ids (the paper's order unless the test shuffles;
    # empty only on attempts started before issue 15, which follow their frozen paper version), and per
    # question the canonical option letters in the order shown as A, B, C, D ({"17": "CADB"}; shuffled only).
    question_order = models.JSONField(default=list, blank=True)
    option_orders = models.JSONField(default=dict, blank=True)
    # The medium the learner chose at the start ("en" or "hi", courses.hindi.MEDIUMS); the exam page
    # opens every question in it, and the learner may view any one question in the other.
    medium = models.CharField(max_length=2, choices=[("en", "English"), ("hi", "Hindi")], default="en")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "test_attempts"
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(free_user__isnull=True))
                | (Q(user__isnull=True) & Q(free_user__isnull=False)),
                name="attempts_one_learner",
            ),
            models.UniqueConstraint(fields=["user", "test", "attempt_number"], name="attempts_user_number_unique"),
            models.UniqueConstraint(
                fields=["free_user", "test", "attempt_number"], name="attempts_free_user_number_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["free_user", "status", "-started_at"], name="idx_test_attempts_user_status"),
            models.Index(fields=["user", "status", "-started_at"], name="idx_test_attempts_learner"),
            models.Index(fields=["test", "status", "-score"], name="idx_test_attempts_ranking"),
            models.Index(fields=["status", "expires_at"], name="idx_test_attempts_expiry"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.pk} of {self.test_id} ({self.status})"


class AttemptAnswer(models.Model):
    """The store of record for answers during an attempt: one row per (attempt, question), newest wins.

    Written only by `services.attempt_answers_save` (an INSERT ... ON CONFLICT DO UPDATE that keeps the
    highest client `seq`); a row with no option and no mark records a visit. `option` is the canonical
    letter (the answer key's), whatever order the learner saw the options in.
    """

    attempt = models.ForeignKey(TestAttempt, on_delete=models.CASCADE, related_name="answer_rows")
    # No database constraint: a foreign key check would take a share lock on the question's row for
    # every answer, and at a live mock's T0 thousands of learners answer the same 45 questions. The
    # service checks the id against the attempt's paper; the paper item keeps the question (PROTECT).
    question = models.ForeignKey(Question, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    option = models.CharField(max_length=1, blank=True, default="")
    marked = models.BooleanField(default=False)
    seq = models.PositiveIntegerField()
    time_spent_seconds = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "attempt_answers"
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="attempt_answer_one_per_question"),
            models.CheckConstraint(condition=Q(option__in=["", "A", "B", "C", "D"]), name="attempt_answer_option"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}/{self.question_id}: {self.option or '-'} (seq {self.seq})"


class AttemptTimeGrant(models.Model):
    """Append-only log of extra time staff gave one learner's attempt (and why)."""

    attempt = models.ForeignKey(TestAttempt, on_delete=models.CASCADE, related_name="time_grants")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    seconds = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "attempt_time_grants"
        constraints = [models.CheckConstraint(condition=Q(seconds__gt=0), name="time_grant_positive")]

    def __str__(self) -> str:
        return f"+{self.seconds}s for attempt {self.attempt_id}"


class PaperVersion(models.Model):
    """A test's paper and answer key as they were at one `paper_version`, frozen at its first use.

    Running attempts keep the version they started with, even after the questions are edited and the
    cache is emptied: the cache is rebuilt from this row, never from the (changed) questions.
    """

    test = models.ForeignKey(PracticeTest, on_delete=models.CASCADE, related_name="paper_versions")
    version = models.PositiveIntegerField()
    paper = models.JSONField()
    answer_key = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "paper_versions"
        constraints = [models.UniqueConstraint(fields=["test", "version"], name="paper_version_unique")]

    def __str__(self) -> str:
        return f"{self.test_id} v{self.version}"


class ChapterNote(models.Model):
    class Curriculum(models.TextChoices):
        NCERT = "NCERT", "NCERT"

    curriculum = models.CharField(max_length=10, choices=Curriculum.choices, default=Curriculum.NCERT)
    grade = models.CharField(max_length=2, choices=NcertClass.choices)
    chapter_number = models.PositiveSmallIntegerField(default=1)
    chapter = models.CharField(max_length=150)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField(help_text="Markdown")
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "chapter_notes"
        indexes = [
            models.Index(fields=["curriculum", "grade", "is_published"], name="idx_chapter_notes_curriculum_grade")
        ]

    def __str__(self) -> str:
        return f"{self.grade} · {self.chapter} · {self.title}"


# --- Item analysis (issue 19 item 1; courses/item_analysis.py, docs/item-analysis.md) ---------------


class TestStatistics(models.Model):
    """A test's reliability and score spread, over each learner's first finished attempt.

    Written only by `courses.item_analysis.item_analysis_compute` (after a live mock closes, nightly,
    after a key change). `kr20` is None when it is undefined (fewer than 2 takers or 2 questions, or
    every taker got the same number right).
    """

    test = models.OneToOneField(PracticeTest, on_delete=models.CASCADE, related_name="statistics")
    takers = models.PositiveIntegerField(default=0)
    question_count = models.PositiveIntegerField(default=0)
    mean_correct = models.FloatField(null=True, blank=True, help_text="Mean number of questions right")
    sd_correct = models.FloatField(null=True, blank=True, help_text="Standard deviation of the number right")
    kr20 = models.FloatField(null=True, blank=True, help_text="Kuder-Richardson 20 reliability")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "test_statistics"
        verbose_name_plural = "test statistics"

    def __str__(self) -> str:
        return f"Statistics of test {self.test_id}"


class QuestionStatistics(models.Model):
    """One question's behaviour in one test: facility, discrimination, options chosen, time spent.

    `facility` is the share of takers who chose the key (0..1); `discrimination` is Kelley's upper-lower
    index (share right in the top 27 % by number right minus the share right in the bottom 27 %, -1..1);
    `option_counts` maps "A".."D" and "" (left blank) to how many takers chose it.
    """

    test = models.ForeignKey(PracticeTest, on_delete=models.CASCADE, related_name="question_statistics")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="statistics")
    position = models.PositiveSmallIntegerField(default=0)
    correct_option = models.CharField(max_length=1, help_text="The key the statistics were computed with")
    takers = models.PositiveIntegerField(default=0)
    facility = models.FloatField(null=True, blank=True)
    discrimination = models.FloatField(null=True, blank=True)
    option_counts = models.JSONField(default=dict, blank=True)
    average_seconds = models.FloatField(null=True, blank=True, help_text="Mean seconds spent by takers who saw it")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "question_statistics"
        verbose_name_plural = "question statistics"
        constraints = [models.UniqueConstraint(fields=["test", "question"], name="question_statistics_unique")]
        indexes = [
            models.Index(fields=["facility"], name="idx_question_stats_facility"),
            models.Index(fields=["discrimination"], name="idx_question_stats_discrim"),
        ]

    def __str__(self) -> str:
        return f"Q{self.question_id} in test {self.test_id}"


class QuestionKeyChange(models.Model):
    """Append-only log of a question's answer key being changed and the attempts re-scored for it."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="key_changes")
    old_option = models.CharField(max_length=1)
    new_option = models.CharField(max_length=1)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=300, blank=True, default="")
    test_ids = models.JSONField(default=list, blank=True, help_text="Tests whose attempts were re-scored")
    attempts_rescored = models.PositiveIntegerField(default=0)
    scores_changed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "question_key_changes"
        indexes = [models.Index(fields=["question", "-created_at"], name="idx_question_key_changes")]

    def __str__(self) -> str:
        return f"Q{self.question_id}: {self.old_option} → {self.new_option}"
