"""Demo and benchmark data: `manage.py seed_demo --size small|large`. Running it again creates nothing new.

small: NCERT Biology notes and a few hundred questions, courses, tests, demo logins (works on SQLite).
large: adds 10,000 students, 5,000 questions, 100 tests, 50,000 enrollments, 1,000,000 analytics events,
attempts and payments (PostgreSQL only; events go in through COPY).

The content (chapters, notes, questions, courses, tests, demo people) is data in courses/demo/*.yaml.
Every table is seeded from deterministic rows keyed by a natural key (slug, email, receipt number, event
id...): existing keys are read first and only the missing rows are bulk-inserted.
"""

from __future__ import annotations

import random
import time

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ParentLink, User
from analytics.models import Campaign
from courses import caches
from courses.item_analysis import recent_tests_analyse
from courses.management import demo_seed as seed
from courses.models import (
    ChapterNote,
    Course,
    Enrollment,
    PracticeTest,
    PracticeTestQuestion,
    Question,
    TestAttempt,
    TestSection,
)
from courses.services import question_papers_bump
from demo import activity
from payments.models import Payment, PaymentEvent
from reports.rollups import rollups_rebuild

SIZES = {
    "small": {"students": 24, "questions": 0, "bench_tests": 0, "courses_per_student": 2, "events": 2_000},
    "large": {
        "students": 10_000,
        "questions": 5_000,
        "bench_tests": 100,
        "courses_per_student": 5,
        "events": 1_000_000,
    },
}
BATCH = 2_000


class Command(BaseCommand):
    help = "Create demo data (--size small, for make run) or benchmark data (--size large, PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(SIZES), default="small")

    def handle(self, *args, size: str, **options):
        if size == "large" and connection.vendor != "postgresql":
            raise CommandError("--size large needs PostgreSQL (DATABASE_URL); it loads events with COPY.")
        plan = SIZES[size]
        started = time.monotonic()
        self.rng = random.Random(2027)
        self.now = timezone.now()
        self.created: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        if connection.vendor == "postgresql":
            # A bulk load, not a request: DB_STATEMENT_TIMEOUT_MS bounds requests, and on a busy box a
            # 2,000-row batch through the audit triggers can pass its 5 s. Session-level on purpose:
            # seed_demo runs against the primary directly, never through PgBouncer (docs/scaling.md).
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 0")
        try:
            self._timed("content", self._seed_content, plan)
            self._timed("people", self._seed_people, plan)
            self._timed("activity", self._seed_activity, plan)
            self._timed("events", self._seed_events, plan)
            self._timed("analyze", lambda plan: seed.after_bulk_load(), plan)
            self._timed("rollups", self._seed_rollups, plan)
            self._timed("item analysis", self._seed_item_analysis, plan)
            if options["verbosity"] > 1:
                self.stdout.write(
                    "  " + ", ".join(f"{label} {seconds:.1f}s" for label, seconds in self.timings.items())
                )
        finally:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET statement_timeout = {settings.DB_STATEMENT_TIMEOUT_MS}")
        self._report(size, time.monotonic() - started)

    # --- content ---------------------------------------------------------------------------------

    def _seed_content(self, plan: dict) -> None:
        with transaction.atomic():
            notes, questions = seed.note_rows(), seed.question_rows(plan["questions"])
            self._insert("notes", ChapterNote, notes, key=("slug",))
            self._insert("questions", Question, questions, key=seed.QUESTION_KEY)
            self._fix_topics(notes, questions)
            self._insert("courses", Course, seed.course_rows(large=plan["bench_tests"] > 0), key=("slug",))
            courses = {course.slug: course for course in Course.objects.filter(slug__in=seed.course_slugs())}
            tests = seed.test_rows(courses=courses, now=self.now, bench_tests=plan["bench_tests"])
            self._insert("tests", PracticeTest, tests, key=("slug",))
            self._reschedule_past_exams(tests)
            self._seed_papers(plan)

    def _fix_topics(self, notes: list[ChapterNote], questions: list[Question]) -> None:
        """A database seeded before topics followed content (issue 16) gets each demo question's topic from
        chapters.yaml and the notes' topic sections; tests using a re-tagged question get a new paper
        version, so the cached answer keys (which carry topics) are rebuilt. Counted only when it happens."""
        stale_questions, stale_notes = seed.stale_topics(questions), seed.stale_notes(notes)
        Question.objects.bulk_update(stale_questions, ["topic"], batch_size=BATCH)
        ChapterNote.objects.bulk_update(stale_notes, ["body"], batch_size=BATCH)
        if stale_questions:
            question_papers_bump(question_ids=[question.pk for question in stale_questions])
            self.created["questions re-tagged"] = len(stale_questions)
        if stale_notes:
            self.created["notes rewritten"] = len(stale_notes)
        if stale_questions or stale_notes:  # bulk_update sends no save signals: querysets and pages go stale here
            caches.content_changed(Question, ChapterNote)

    def _reschedule_past_exams(self, tests: list[PracticeTest]) -> None:
        """On a re-run, a live mock whose time has passed moves to the new slot, so there is always one ahead."""
        upcoming = {test.slug: test.scheduled_start for test in tests if test.scheduled_start}
        for test in PracticeTest.objects.filter(slug__in=upcoming, scheduled_start__lt=self.now):
            test.scheduled_start = upcoming[test.slug]
            test.save(update_fields=["scheduled_start", "updated_at"])  # save(), so cacheops invalidates

    def _seed_papers(self, plan: dict) -> None:
        tests = list(PracticeTest.objects.filter(slug__in=seed.test_slugs(plan["bench_tests"])))
        filled = set(PracticeTestQuestion.objects.filter(test__in=tests).values_list("test_id", flat=True).distinct())
        empty = [test for test in tests if test.pk not in filled]
        TestSection.objects.bulk_create(seed.section_rows(empty), ignore_conflicts=True)
        sections = {
            (test_id, position): pk
            for pk, test_id, position in TestSection.objects.filter(test__in=empty).values_list(
                "id", "test_id", "position"
            )
        }
        pool = seed.QuestionPool(Question.objects.values("id", "chapter", "text").order_by("id"))
        items = [
            PracticeTestQuestion(
                test_id=test.pk, question_id=question_id, position=position, section_id=sections.get((test.pk, part))
            )
            for test in empty
            for position, (part, question_id) in enumerate(self._paper(pool, test.slug), start=1)
        ]
        PracticeTestQuestion.objects.bulk_create(items, batch_size=BATCH, ignore_conflicts=True)
        self.created["paper items"] = len(items)

    @staticmethod
    def _paper(pool: seed.QuestionPool, slug: str) -> list[tuple[int | None, int]]:
        """[(section position or None, question id)] in paper order."""
        if "sections" in pool.specs[slug]:
            return pool.sectioned_paper_for(slug)
        return [(None, question_id) for question_id in pool.paper_for(slug)]

    # --- people ----------------------------------------------------------------------------------

    def _seed_people(self, plan: dict) -> None:
        # One Argon2 hash for everyone: hashing 10,000 passwords would take minutes on its own.
        password_hash = make_password(activity.DEMO_PASSWORD)
        with transaction.atomic():
            rows = [*activity.demo_user_rows(password_hash), *activity.student_rows(plan["students"], password_hash)]
            self._insert("users", User, rows, key=("email",))
            demo = activity.demo_users()
            link = ParentLink(parent=demo["parent"], student=demo["student"], relation=ParentLink.Relation.MOTHER)
            self._insert("parent links", ParentLink, [link], key=("parent_id", "student_id"))

    # --- enrollments, attempts, payments, events ---------------------------------------------------

    def _seed_activity(self, plan: dict) -> None:
        students = list(activity.learner_queryset().values_list("id", flat=True))
        demo_student = activity.demo_users()["student"]
        courses = list(Course.objects.filter(slug__in=seed.course_slugs()).order_by("id"))
        with transaction.atomic():
            rows = activity.enrollment_rows(
                rng=self.rng, demo_student=demo_student, students=students, courses=courses, plan=plan, now=self.now
            )
            self._insert("enrollments", Enrollment, rows, key=("user_id", "course_id"))
            self._insert(
                "attempts",
                TestAttempt,
                self._attempt_rows(demo_student, students, plan),
                key=("user_id", "test_id", "attempt_number"),
            )
            self._insert("payments", Payment, activity.payment_rows(now=self.now), key=("receipt_number",))
            self._insert("payment events", PaymentEvent, activity.payment_event_rows(), key=("provider_event_id",))

    def _seed_events(self, plan: dict) -> None:
        students = list(activity.learner_queryset().values_list("id", flat=True))
        self.created["analytics events"] = activity.load_events(
            rng=self.rng, count=plan["events"], students=students, now=self.now
        )

    def _seed_rollups(self, plan: dict) -> None:
        """Campaign costs, then the daily rollups over the seeded events' 90 days: the staff dashboards
        open complete (issue 19 item 2). Recomputed on every run; idempotent."""
        self._insert("campaigns", Campaign, activity.campaign_rows(), key=("utm_source", "utm_campaign"))
        self.created["rollup rows"] = rollups_rebuild(days=activity.ROLLUP_DAYS)

    def _seed_item_analysis(self, plan: dict) -> None:
        """Item analysis of every test with finished attempts, as the nightly task does (issue 19 item 1)."""
        self.created["tests analysed"] = recent_tests_analyse()

    def _attempt_rows(self, demo_student: User, students: list[int], plan: dict) -> list[TestAttempt]:
        tests = list(PracticeTest.objects.filter(slug__in=seed.test_slugs(plan["bench_tests"])).order_by("id"))
        keys = activity.answer_keys([test.pk for test in tests])
        return activity.attempt_rows(
            rng=self.rng, tests=tests, keys=keys, demo_student=demo_student, students=students, now=self.now
        )

    # --- helpers ---------------------------------------------------------------------------------

    def _timed(self, label: str, phase, plan: dict) -> None:
        started = time.monotonic()
        phase(plan)
        self.timings[label] = time.monotonic() - started

    def _insert(self, label: str, model, rows: list, *, key: tuple[str, ...]) -> None:
        """Bulk-insert the rows whose natural key is not in the table yet; counts what was created."""
        existing = set(model.objects.values_list(*key))
        missing = [row for row in rows if tuple(getattr(row, field) for field in key) not in existing]
        model.objects.bulk_create(missing, batch_size=BATCH)
        self.created[label] = self.created.get(label, 0) + len(missing)

    def _report(self, size: str, seconds: float) -> None:
        created = ", ".join(f"{count:,} {label}" for label, count in self.created.items())
        self.stdout.write(self.style.SUCCESS(f"seed_demo --size {size}: created {created} in {seconds:.1f}s"))
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.stdout.write(f"Database: {database}. Demo logins (password '{activity.DEMO_PASSWORD}'):")
        for role, email in activity.DEMO_LOGINS:
            self.stdout.write(f"  {role:<8} {email}")
        self.stdout.write(f"Open {settings.SITE_URL}/ (learners) and {settings.SITE_URL}/admin/ (staff).")
