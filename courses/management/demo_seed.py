"""The rows seed_demo inserts, built deterministically so that a second run finds them all present."""

from __future__ import annotations

import bisect
import itertools
import random
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from cacheops import invalidate_model
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from analytics.models import AnalyticsEvent, Campaign
from courses.management.demo_content import CATALOGUE, CHAPTERS, PEOPLE, Chapter, Fact
from courses.management.demo_hindi import hindi_fields
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
from courses.scoring import OPTIONS, Marking, score_answers
from payments.models import Payment, PaymentEvent

DEMO_PASSWORD = "cerebrum-demo"
DEMO_LOGINS = tuple((user["role_label"], user["email"]) for user in PEOPLE["demo_users"])
LEARNER_DOMAIN = "learners.cerebrum.test"
QUESTION_KEY = ("text", "option_a", "option_b", "option_c", "option_d")
# Seeded analytics events get ids in one contiguous UUID range, so "which exist already" is one range scan.
EVENT_ID_BASE = uuid.UUID("5eed5eed-0000-4000-8000-000000000000").int
EVENT_COPY_CHUNK = 100_000

# --- notes and questions ----------------------------------------------------------------------------


def note_rows() -> list[ChapterNote]:
    return [
        ChapterNote(
            grade=chapter.grade,
            chapter_number=chapter.number,
            chapter=chapter.name,
            title=f"{chapter.name}: NCERT notes",
            slug=f"ncert-class-{chapter.grade}-ch{chapter.number:02d}-{slugify(chapter.name)}",
            body=_note_body(chapter),
            is_published=True,
        )
        for chapter in CHAPTERS
    ]


def _note_body(chapter: Chapter) -> str:
    """The summary, then one "## <topic>" section per NCERT section: its prose and its key facts."""
    sections = []
    for topic in chapter.topics:
        facts = "".join(f"\n- **{fact.term}** {fact.fact}." for fact in chapter.facts if fact.topic == topic.name)
        sections.append(f"## {topic.name}\n\n{topic.notes}\n" + (f"\nKey facts for NEET:\n{facts}\n" if facts else ""))
    paragraphs = "\n\n".join(chapter.summary)
    return (
        f"# {chapter.name}\n\n*NCERT Biology, Class {chapter.grade}, Chapter {chapter.number}*\n\n"
        f"{paragraphs}\n\n" + "\n".join(sections)
    )


# The notes' format before each topic had its own section (issue 16): "## Topics" list, "## Key facts".
_OLD_NOTE_HEADING = "\n## Key facts for NEET\n"


def stale_notes(rows: list[ChapterNote]) -> list[ChapterNote]:
    """Seeded notes still in the old format, with the body from `rows` set (not saved)."""
    bodies = {row.slug: row.body for row in rows}
    stale = list(ChapterNote.objects.filter(slug__in=bodies, body__contains=_OLD_NOTE_HEADING).only("id", "slug"))
    for note in stale:
        note.body = bodies[note.slug]
    return stale


def stale_topics(rows: list[Question]) -> list[Question]:
    """Questions with a demo question's text and options but another topic, with its topic set (not saved).

    The demo data owns its questions' topics: a re-run puts back the topic chapters.yaml gives."""
    wanted = {tuple(getattr(row, field) for field in QUESTION_KEY): row.topic for row in rows}
    stale = []
    for question in Question.objects.only("id", "topic", *QUESTION_KEY).order_by("id"):
        topic = wanted.get(tuple(getattr(question, field) for field in QUESTION_KEY))
        if topic is not None and topic != question.topic:
            question.topic = topic
            stale.append(question)
    return stale


def question_rows(minimum: int) -> list[Question]:
    """The few hundred base questions, then option-set variants until there are `minimum` (for benchmarks)."""
    rows, texts = [], set()
    for question in _question_variants():
        key = tuple(getattr(question, field) for field in QUESTION_KEY)
        if key in texts:
            continue
        texts.add(key)
        rows.append(question)
        if len(rows) >= minimum and question.variant_rank > 0:
            break
    return rows


def _question_variants() -> Iterator[Question]:
    """Rank 0 is one question of each form per fact; higher ranks swap distractors and the answer's position."""
    for rank in itertools.count():
        produced = False
        for chapter in CHAPTERS:
            for index, fact in enumerate(chapter.facts):
                others = [other for other in chapter.facts if other.term != fact.term]
                combos = list(itertools.combinations(others, 3))
                combo, rotation = divmod(rank, 4)
                if combo >= len(combos):
                    continue
                produced = True
                distractors = list(combos[(combo + index) % len(combos)])
                position = (index + rotation) % 4
                yield _term_question(chapter, index, fact, distractors, position, rank)
                yield _statement_question(chapter, index, fact, distractors, (position + 1) % 4, rank)
        if not produced:
            return


def _term_question(chapter: Chapter, index: int, fact: Fact, distractors: list[Fact], position, rank) -> Question:
    terms = _place([other.term for other in distractors], fact.term, position)
    explanation = f"{fact.term} {fact.fact}. " + "; ".join(f"{o.term} {o.fact}" for o in distractors) + "."
    difficulty = Question.Difficulty.EASY if index % 3 == 0 else Question.Difficulty.MEDIUM
    text = f"Which of the following {fact.fact}?"
    question = _question(chapter, fact, text, terms, position, explanation, difficulty, rank)
    return _with_hindi(question, chapter, "term", fact.term, terms)


def _statement_question(chapter: Chapter, index: int, fact: Fact, distractors: list[Fact], position, rank):
    options = _place([_sentence(other.fact) for other in distractors], _sentence(fact.fact), position)
    others = ", ".join(other.term for other in distractors)
    explanation = f"{fact.term} {fact.fact}. The other statements describe {others}."
    difficulty = Question.Difficulty.HARD if index % 2 else Question.Difficulty.MEDIUM
    text = f"Which of the following statements is correct about {fact.term}?"
    question = _question(chapter, fact, text, options, position, explanation, difficulty, rank)
    terms = _place([other.term for other in distractors], fact.term, position)
    return _with_hindi(question, chapter, "statement", fact.term, terms)


def _with_hindi(question: Question, chapter, form: str, term: str, options_terms: list[str]) -> Question:
    """The Hindi version where courses/management/demo_hindi.py has the chapter's terms (English otherwise)."""
    for field, value in hindi_fields(chapter=chapter.name, form=form, term=term, options_terms=options_terms).items():
        setattr(question, field, value)
    question.hindi_review_refresh()  # the seed bulk-inserts: Question.save() does not run
    return question


def _question(chapter, fact, text, options, position, explanation, difficulty, rank) -> Question:
    """Every variant of a fact's question, bench ones included, has the fact's topic from chapters.yaml."""
    question = Question(
        ncert_class=chapter.grade,
        chapter=chapter.name,
        topic=fact.topic,
        difficulty=difficulty,
        text=text,
        option_a=options[0],
        option_b=options[1],
        option_c=options[2],
        option_d=options[3],
        correct_option=OPTIONS[position],
        explanation=explanation,
    )
    question.variant_rank = rank
    return question


def _place(distractors: list[str], answer: str, position: int) -> list[str]:
    options = list(distractors)
    options.insert(position, answer)
    return options


def _sentence(predicate: str) -> str:
    return f"It {predicate}."


# --- courses and tests ------------------------------------------------------------------------------

BASE_COURSES: list[dict] = CATALOGUE["courses"]
BENCH_COURSES = 10


def course_slugs() -> list[str]:
    return [row["slug"] for row in BASE_COURSES] + [f"bench-batch-{n:02d}" for n in range(1, BENCH_COURSES + 1)]


def course_rows(*, large: bool) -> list[Course]:
    today = timezone.localdate()
    rows = [
        Course(
            slug=row["slug"],
            name=row["name"],
            type=Course.Type[row["type"]],
            class_level=row["class_level"],
            fees_paise=row["fees_paise"],
            is_featured=row.get("featured", False),
            description=f"{row['name']}: complete NCERT Biology for NEET with live classes, notes and weekly tests.",
            syllabus="\n".join(c.name for c in CHAPTERS if row["class_level"] in ("DROPPER", c.grade)),
            start_date=today + timedelta(days=row["starts_in_days"]),
        )
        for row in BASE_COURSES
    ]
    if large:
        rows += [
            Course(
                slug=f"bench-batch-{number:02d}",
                name=f"NEET Biology Batch {number:02d}",
                type=Course.Type.ONLINE,
                class_level=("11", "12", "DROPPER")[number % 3],
                fees_paise=(29_999 + 5_000 * number) * 100,
                start_date=today + timedelta(days=number),
            )
            for number in range(1, BENCH_COURSES + 1)
        ]
    return rows


# NCERT Biology chapters as NEET coaching splits them into Botany and Zoology (chapters.yaml's `subject`).
SUBJECT_CHAPTERS = {subject: [c.name for c in CHAPTERS if c.subject == subject] for subject in ("Botany", "Zoology")}


def test_specs(bench_tests: int) -> list[dict]:
    """What each test is: its fields and where its questions come from (a chapter list, a sample or sections).

    catalogue.yaml's tests, with sections resolved to (name, chapter names, count), after one free chapter
    test per `free_chapter_tests` entry and before `bench_tests` generated mocks (seed_demo --size large).
    """
    by_number = {(chapter.grade, chapter.number): chapter for chapter in CHAPTERS}
    specs = [
        {
            "slug": f"chapter-test-{grade}-{number:02d}-{slugify(by_number[grade, number].name)}",
            "title": f"Chapter test: {by_number[grade, number].name}",
            "grade": grade,
            "duration_minutes": 15,
            "is_free": True,
            "chapters": [by_number[grade, number].name],
        }
        for grade, number in CATALOGUE["free_chapter_tests"]
    ]
    for test in CATALOGUE["tests"]:
        spec = dict(test)
        if "sections" in spec:
            spec["sections"] = [(s["name"], SUBJECT_CHAPTERS[s["subject"]], s["count"]) for s in test["sections"]]
        specs.append(spec)
    return specs + [_bench_spec(number) for number in range(1, bench_tests + 1)]


def _bench_spec(number: int) -> dict:
    return {
        "slug": f"bench-mock-{number:03d}",
        "title": f"NEET Biology Practice Mock {number:03d}",
        "duration_minutes": 60,
        "is_free": number % 2 == 0,
        "course": None if number % 2 == 0 else f"bench-batch-{(number % BENCH_COURSES) + 1:02d}",
        "sample": 50 + (number * 37) % 41,  # 50 to 90 questions
        # A mock covers a unit of six consecutive chapters, as coaching mocks do (and keeps results compact).
        "unit": [CHAPTERS[(number * 5 + offset) % len(CHAPTERS)].name for offset in range(6)],
    }


def section_rows(tests: Iterable[PracticeTest]) -> list[TestSection]:
    specs = {spec["slug"]: spec for spec in test_specs(0)}
    return [
        TestSection(test_id=test.pk, name=name, position=position)
        for test in tests
        for position, (name, _, _) in enumerate(specs.get(test.slug, {}).get("sections", []), start=1)
    ]


def test_slugs(bench_tests: int) -> list[str]:
    return [spec["slug"] for spec in test_specs(bench_tests)]


def test_rows(*, courses: dict[str, Course], now, bench_tests: int) -> list[PracticeTest]:
    # Exam mode opens at the next full quarter hour after one hour from now.
    start = (now + timedelta(hours=1, minutes=15)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 15)
    return [
        PracticeTest(
            slug=spec["slug"],
            title=spec["title"],
            description=f"{spec['title']}. NTA marking: +4 for a correct answer, -1 for a wrong one.",
            grade=spec.get("grade", ""),
            duration_minutes=spec["duration_minutes"],
            is_free=spec.get("is_free", False),
            course=courses.get(spec.get("course") or ""),
            scheduled_start=start if spec.get("scheduled") else None,
            shuffle=spec.get("shuffle", False),
        )
        for spec in test_specs(bench_tests)
    ]


class QuestionPool:
    """Picks each test's questions from what is in the table, the same way on every run."""

    def __init__(self, rows: Iterable[dict]):
        self.distinct_ids, self.by_chapter, self.variants_by_chapter = [], {}, {}
        seen = set()
        for row in rows:
            self.variants_by_chapter.setdefault(row["chapter"], []).append(row["id"])
            if row["text"] in seen:
                continue
            seen.add(row["text"])
            self.distinct_ids.append(row["id"])
            self.by_chapter.setdefault(row["chapter"], []).append(row["id"])
        self.specs = {spec["slug"]: spec for spec in test_specs(10_000)}

    def sectioned_paper_for(self, slug: str) -> list[tuple[int, int]]:
        """[(section position, question id)] for a test with sections: distinct questions, none twice."""
        used: set[int] = set()
        paper = []
        rng = random.Random(slug)
        for position, (_, chapters, count) in enumerate(self.specs[slug]["sections"], start=1):
            source = [qid for chapter in chapters for qid in self.by_chapter.get(chapter, []) if qid not in used]
            picked = rng.sample(source, min(count, len(source)))
            used.update(picked)
            paper += [(position, qid) for qid in picked]
        return paper

    def paper_for(self, slug: str) -> list[int]:
        spec = self.specs[slug]
        if "sections" in spec:
            return [qid for _, qid in self.sectioned_paper_for(slug)]
        if "chapters" in spec:
            return [qid for chapter in spec["chapters"] for qid in self.by_chapter.get(chapter, [])]
        if "unit" in spec:
            source = [qid for chapter in spec["unit"] for qid in self.variants_by_chapter.get(chapter, [])]
        else:
            source = self.distinct_ids
        return random.Random(slug).sample(source, min(spec["sample"], len(source)))


# --- people -----------------------------------------------------------------------------------------

FIRST_NAMES: list[str] = PEOPLE["first_names"]
LAST_NAMES: list[str] = PEOPLE["last_names"]
CITIES: list[str] = PEOPLE["cities"]


def demo_user_rows(password_hash: str) -> list[User]:
    """The three demo logins of people.yaml; staff is a superuser."""
    common = {"password": password_hash, "email_verified": True, "phone_verified": True}
    rows = []
    for user in PEOPLE["demo_users"]:
        staff = user.get("staff", False)
        extra = {"profile": user["profile"]} if "profile" in user else {}
        rows.append(
            User(
                email=user["email"],
                phone=user["phone"],
                name=user["name"],
                role=User.Role[user["role"]],
                is_staff=staff,
                is_superuser=staff,
                **extra,
                **common,
            )
        )
    return rows


def student_rows(count: int, password_hash: str) -> list[User]:
    return [
        User(
            email=f"learner{number:05d}@{LEARNER_DOMAIN}",
            phone=f"+9190{number:08d}",
            name=f"{FIRST_NAMES[number % len(FIRST_NAMES)]} {LAST_NAMES[(number // 7) % len(LAST_NAMES)]}",
            role=User.Role.STUDENT,
            password=password_hash,
            email_verified=number % 4 != 0,
            profile={
                "grade": ("11", "12", "DROPPER")[number % 3],
                "target_year": 2027 + number % 2,
                "city": CITIES[number % 10],
            },
        )
        for number in range(1, count + 1)
    ]


def demo_users() -> dict[str, User]:
    users = {user.email: user for user in User.objects.filter(email__in=[email for _, email in DEMO_LOGINS])}
    return {role: users[email] for role, email in DEMO_LOGINS}


def learner_queryset():
    return User.objects.filter(role=User.Role.STUDENT, email__endswith=f"@{LEARNER_DOMAIN}").order_by("id")


# --- activity ---------------------------------------------------------------------------------------

DEMO_STUDENT_COURSES = tuple(PEOPLE["demo_student_courses"])


def enrollment_rows(*, rng, demo_student, students, courses, plan, now) -> list[Enrollment]:
    by_slug = {course.slug: course for course in courses}
    rows = [
        Enrollment(user=demo_student, course=by_slug[slug], status=Enrollment.Status.ACTIVE, utm_source="google")
        for slug in DEMO_STUDENT_COURSES
    ]
    statuses = [Enrollment.Status.ACTIVE] * 7 + [Enrollment.Status.PENDING] * 2 + [Enrollment.Status.COMPLETED]
    per_student = min(plan["courses_per_student"], len(courses))
    for index, student_id in enumerate(students):
        for step in range(per_student):
            course = courses[(index + step * 3) % len(courses)]
            enrolled = now - timedelta(days=rng.randint(0, 300), minutes=rng.randint(0, 1440))
            source, medium, campaign = rng.choice((_NO_CAMPAIGN, *CAMPAIGNS))  # the dashboards' campaigns
            rows.append(
                Enrollment(
                    user_id=student_id,
                    course=course,
                    status=rng.choice(statuses),
                    enrollment_date=enrolled,
                    created_at=enrolled,
                    utm_source=source or "",
                    utm_medium=medium or "",
                    utm_campaign=campaign or "",
                )
            )
    return rows


def answer_keys(test_ids: list[int]) -> dict[int, dict[str, dict]]:
    keys: dict[int, dict[str, dict]] = {test_id: {} for test_id in test_ids}
    items = PracticeTestQuestion.objects.filter(test_id__in=test_ids).values_list(
        "test_id", "question_id", "question__correct_option", "question__topic", "question__chapter"
    )
    for test_id, question_id, correct, topic, chapter in items:
        keys[test_id][str(question_id)] = {"correct": correct, "topic": topic, "chapter": chapter}
    return keys


def attempt_rows(*, rng, tests, keys, demo_student, students, now) -> list[TestAttempt]:
    """Submitted attempts: the demo student's on the free and course tests, two per learner on free tests."""
    open_tests = [test for test in tests if test.scheduled_start is None]
    free = [test for test in open_tests if test.is_free]
    demo_course_ids = set(Course.objects.filter(slug__in=DEMO_STUDENT_COURSES).values_list("id", flat=True))
    demo_tests = free[:4] + [test for test in open_tests if test.course_id in demo_course_ids]
    rows = [
        _attempt(rng, test, keys[test.pk], demo_student.pk, 0.72, now, days_ago=i + 1)
        for i, test in enumerate(demo_tests)
    ]
    for index, student_id in enumerate(students):
        skill = 0.35 + (index % 11) * 0.05
        for step in range(2):
            test = free[(index + step * 5) % len(free)]
            rows.append(_attempt(rng, test, keys[test.pk], student_id, skill, now, days_ago=rng.randint(1, 60)))
    return rows


def _attempt(rng, test, key, user_id, skill, now, *, days_ago: int) -> TestAttempt:
    answers = {}
    for question_id, item in key.items():
        roll = rng.random()
        if roll < skill:
            answers[question_id] = item["correct"]
        elif roll < skill + 0.2:
            answers[question_id] = rng.choice([option for option in OPTIONS if option != item["correct"]])
    marking = Marking(correct=test.marks_correct, wrong=test.marks_wrong, unanswered=test.marks_unanswered)
    score = score_answers(answers=answers, answer_key=key, marking=marking)
    started = now - timedelta(days=days_ago, hours=rng.randint(1, 10))
    return TestAttempt(
        user_id=user_id,
        test=test,
        attempt_number=1,
        status=TestAttempt.Status.SUBMITTED,
        started_at=started,
        created_at=started,
        expires_at=started + timedelta(minutes=test.duration_minutes),
        submitted_at=started + timedelta(minutes=max(1, test.duration_minutes - rng.randint(0, 10))),
        answers=answers,
        paper_version=test.paper_version,
        score=score.score,
        correct_count=score.correct_count,
        wrong_count=score.wrong_count,
        unanswered_count=score.unanswered_count,
        topic_breakdown=score.topic_breakdown,
    )


def payment_rows(*, now, limit: int = 10_000) -> list[Payment]:
    """A captured sandbox payment for the first `limit` active paid enrollments."""
    paid = (
        Enrollment.objects.filter(status=Enrollment.Status.ACTIVE, course__fees_paise__gt=0)
        .values_list("id", "user_id", "course__fees_paise", "enrollment_date")
        .order_by("id")[:limit]
    )
    return [
        Payment(
            user_id=user_id,
            enrollment_id=enrollment_id,
            amount_paise=fees,
            status=Payment.Status.CAPTURED,
            gateway=Payment.Gateway.SANDBOX,
            receipt_number=f"CBSEED-{enrollment_id:08d}",
            captured_at=enrolled,
        )
        for enrollment_id, user_id, fees, enrolled in paid
    ]


def payment_event_rows() -> list[PaymentEvent]:
    """The append-only record of each seeded capture, as the payment services write for real ones."""
    seeded = Payment.objects.filter(receipt_number__startswith="CBSEED-").values_list("id", "receipt_number")
    return [
        PaymentEvent(
            payment_id=payment_id,
            provider_event_id=f"seed:{receipt}",
            event_type="payment.captured",
            source=PaymentEvent.Source.SYSTEM,
            to_status=Payment.Status.CAPTURED,
            payload={"seed": True},
        )
        for payment_id, receipt in seeded
    ]


# --- analytics events -------------------------------------------------------------------------------

# What each demo campaign cost (₹), so the campaigns dashboard shows cost per enrollment and ROI.
CAMPAIGN_COSTS_RUPEES = {row["source"]: row["cost_rupees"] for row in PEOPLE["campaigns"]}
ROLLUP_DAYS = 92  # the seeded events span 90 days: the dashboards open complete


def campaign_rows() -> list[Campaign]:
    return [
        Campaign(
            utm_source=source,
            utm_campaign=campaign,
            name=campaign.replace("-", " ").title(),
            cost_paise=CAMPAIGN_COSTS_RUPEES[source] * 100,
        )
        for source, _, campaign in CAMPAIGNS
    ]


EVENT_TYPES = tuple(tuple(row) for row in PEOPLE["event_types"])  # (event type, event name, weight)
CAMPAIGNS = tuple((row["source"], row["medium"], row["campaign"]) for row in PEOPLE["campaigns"])
PATHS = tuple(PEOPLE["paths"])
COLUMNS = (
    "event_id",
    "user_id",
    "anonymous_id",
    "event_type",
    "event_name",
    "properties",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "path",
    "created_at",
)


def load_events(*, rng, count: int, students: list[int], now) -> int:
    """Insert the seeded events that are missing (COPY on PostgreSQL); returns how many were inserted."""
    present = _present_event_numbers(count)
    missing = [number for number in range(count) if number not in present]
    if not missing:
        return 0
    rows = (_event_values(rng, number, students, int(now.timestamp())) for number in missing)
    if connection.vendor == "postgresql":
        _copy_events(rows)
    else:
        AnalyticsEvent.objects.bulk_create((_event_model(row) for row in rows), batch_size=2_000)
    return len(missing)


def _present_event_numbers(count: int) -> set[int]:
    seeded = AnalyticsEvent.objects.filter(
        event_id__gte=uuid.UUID(int=EVENT_ID_BASE), event_id__lt=uuid.UUID(int=EVENT_ID_BASE + count)
    )
    if not seeded.exists():
        return set()
    return {event_id.int - EVENT_ID_BASE for event_id in seeded.values_list("event_id", flat=True).iterator()}


_EVENT_WEIGHTS = list(itertools.accumulate(weight for _, _, weight in EVENT_TYPES))
_NO_CAMPAIGN = (None, None, None)


def _event_values(rng, number: int, students: list[int], now_epoch: int) -> tuple:
    """(number, user id, anonymous id, type, name, source, medium, campaign, path, created epoch seconds)."""
    event_type, name, _ = EVENT_TYPES[bisect.bisect(_EVENT_WEIGHTS, rng.random() * _EVENT_WEIGHTS[-1])]
    user_id = students[number % len(students)] if students and rng.random() < 0.7 else None
    campaign = CAMPAIGNS[number % len(CAMPAIGNS)] if rng.random() < 0.4 else _NO_CAMPAIGN
    anonymous_id = "" if user_id else f"anon-{number % 50_000:05d}"
    created = now_epoch - int(rng.random() * 90 * 86_400)
    return (number, user_id, anonymous_id, event_type, name, *campaign, PATHS[number % len(PATHS)], created)


def _event_model(values: tuple) -> AnalyticsEvent:
    number, user_id, anonymous_id, event_type, name, source, medium, campaign, path, created = values
    return AnalyticsEvent(
        event_id=uuid.UUID(int=EVENT_ID_BASE + number),
        user_id=user_id,
        anonymous_id=anonymous_id,
        event_type=event_type,
        event_name=name,
        properties={"seed": True, "n": number % 1000},
        utm_source=source,
        utm_medium=medium,
        utm_campaign=campaign,
        path=path,
        created_at=datetime.fromtimestamp(created, tz=UTC),
    )


def _copy_events(rows: Iterator[tuple]) -> None:
    """COPY in chunks of EVENT_COPY_CHUNK rows, each in its own transaction (a crash keeps what is done)."""
    statement = f"COPY analytics_events ({', '.join(COLUMNS)}) FROM STDIN"
    while chunk := list(itertools.islice(rows, EVENT_COPY_CHUNK)):
        text = "".join(_copy_line(values) for values in chunk)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 0")
            with cursor.cursor.copy(statement) as copy:
                copy.write(text)


def _copy_line(values: tuple) -> str:
    """One COPY text-format line; seeded values never contain tabs, newlines or backslashes."""
    number, user_id, anonymous_id, event_type, name, source, medium, campaign, path, created = values
    user = "\\N" if user_id is None else user_id
    utm = "\\N\t\\N\t\\N" if source is None else f"{source}\t{medium}\t{campaign}"
    # PostgreSQL reads 32 hex digits as a uuid, which skips building UUID objects for a million rows.
    return (
        f"{EVENT_ID_BASE + number:032x}\t{user}\t{anonymous_id}\t{event_type}\t{name}\t"
        f'{{"seed":true,"n":{number % 1000}}}\t{utm}\t{path}\t{_timestamp(created)}\n'
    )


def _timestamp(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S+00")


# --- after the load ---------------------------------------------------------------------------------


def after_bulk_load() -> None:
    """Fresh planner statistics (the admin's estimated counts read them) and no stale cached querysets."""
    if connection.vendor == "postgresql":
        tables = ["users", "questions", "practice_tests", "practice_test_questions", "enrollments", "test_attempts"]
        tables += ["payments", "analytics_events", "chapter_notes", "courses"]
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
            cursor.execute(f"SET statement_timeout = {settings.DB_STATEMENT_TIMEOUT_MS}")
    if settings.CACHEOPS_ENABLED:
        for model in (Course, Question, PracticeTest, ChapterNote):
            invalidate_model(model)
