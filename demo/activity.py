"""The people and activity rows seed_demo inserts (users, enrollments, attempts, payments, analytics
events), built deterministically from courses/demo/people.yaml so that a second run finds them present."""

from __future__ import annotations

import bisect
import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q

from accounts.models import User
from analytics.models import AnalyticsEvent, Campaign
from courses.management.demo_content import PEOPLE
from courses.models import Course, Enrollment, PracticeTestQuestion, TestAttempt
from courses.scoring import OPTIONS, Marking, score_answers
from payments.models import Payment, PaymentEvent

DEMO_PASSWORD = "cerebrum-demo"
DEMO_LOGINS = tuple((user["role_label"], user["email"]) for user in PEOPLE["demo_users"])
LEARNER_DOMAIN = "learners.cerebrum.test"
# Seeded analytics events get ids in one contiguous UUID range, so "which exist already" is one range scan.
EVENT_ID_BASE = uuid.UUID("5eed5eed-0000-4000-8000-000000000000").int
EVENT_COPY_CHUNK = 100_000

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
    """A captured sandbox payment for the first `limit` active paid enrollments of seeded people that have
    no payment yet.

    Only the seeded people's: a learner who signed up on the demo site and paid in the sandbox (or was
    enrolled by staff) keeps exactly the payments they made when `make run` seeds again.
    """
    seeded_people = Q(user__role=User.Role.STUDENT, user__email__endswith=f"@{LEARNER_DOMAIN}") | Q(
        user__email__in=[email for _, email in DEMO_LOGINS]
    )
    paid = (
        Enrollment.objects.filter(seeded_people, status=Enrollment.Status.ACTIVE, course__fees_paise__gt=0)
        .exclude(Exists(Payment.objects.filter(enrollment=OuterRef("pk"))))
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
