"""Periodic journeys: test reminders, the parents' weekly digest, the 7-day inactivity nudge.

Each run is safe to repeat: every message has an idempotency key naming its journey, person and
period, and keys already in the outbox are skipped. Rows are written in chunks of CHUNK learners with a
fixed number of queries per chunk.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Avg, Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import ParentLink
from communications.models import Category
from communications.services import IST, message_enqueue_many, quiet_hours_release
from courses.models import Enrollment, PracticeTest, TestAttempt

User = get_user_model()
REMINDER_LEAD = timedelta(hours=1)
INACTIVE_AFTER = timedelta(days=7)
CHUNK = 500


def scheduled_test_reminders_enqueue(*, now: datetime | None = None) -> int:
    """Remind eligible learners of every published test starting within the next hour."""
    now = now or timezone.now()
    tests = PracticeTest.objects.filter(
        is_published=True, scheduled_start__gt=now, scheduled_start__lte=now + REMINDER_LEAD
    )
    count = 0
    for test in tests:
        starts_at = test.scheduled_start.astimezone(IST).strftime("%I:%M %p, %d %b")
        context = {"test": test.title, "starts_at": starts_at}
        # A course's test is a notice its learners asked for by enrolling (transactional, never held);
        # an open test is announced to every student of the grade: marketing, held by quiet hours,
        # and pointless once the hold outlasts the start.
        category = Category.TRANSACTIONAL if test.course_id else Category.MARKETING
        if category == Category.MARKETING and quiet_hours_release(now) >= test.scheduled_start:
            continue
        key = f"test_reminder:{test.pk}:{{user}}"
        count += _enqueue_each(_test_learners(test), "test_reminder", context, key, category=category)
    return count


def parent_digests_enqueue(*, now: datetime | None = None) -> int:
    """One digest per parent per ISO week summarising each linked child's last seven days, with a link to
    the parent's landing page (the child's progress, or a picker when several are linked)."""
    now = now or timezone.now()
    week = _iso_week(now)
    url = settings.SITE_URL + reverse("accounts:parent_children")
    links = ParentLink.objects.filter(parent__is_active=True).select_related("parent", "student")
    children_of = defaultdict(list)
    for link in links:
        children_of[link.parent].append(link.student)
    stats = _attempt_stats({child.pk for children in children_of.values() for child in children}, now - INACTIVE_AFTER)
    recipients = [
        (
            parent,
            {"summary": "; ".join(_child_summary(c, stats.get(c.pk)) for c in children), "url": url},
            f"parent_digest:{week}:{parent.pk}",
        )
        for parent, children in children_of.items()
    ]
    return sum(message_enqueue_many(template="parent_digest", recipients=chunk) for chunk in _chunks(recipients, CHUNK))


def inactivity_nudges_enqueue(*, now: datetime | None = None) -> int:
    """Nudge active students whose last activity is older than seven days, once per ISO week."""
    now = now or timezone.now()
    learners = User.objects.filter(
        role=User.Role.STUDENT, is_active=True, last_active_at__lt=now - INACTIVE_AFTER
    ).order_by("pk")
    return _enqueue_each(learners, "inactivity_nudge", {}, f"inactivity_nudge:{_iso_week(now)}:{{user}}")


def _test_learners(test: PracticeTest):
    """A course's test goes to its active learners; an open test to active students of its grade."""
    if test.course_id:
        return User.objects.filter(
            enrollments__course_id=test.course_id, enrollments__status=Enrollment.Status.ACTIVE, is_active=True
        ).distinct()
    learners = User.objects.filter(role=User.Role.STUDENT, is_active=True)
    return learners.filter(profile__grade=test.grade) if test.grade else learners


def _enqueue_each(users, template: str, context: dict, key_pattern: str, category: str | None = None) -> int:
    count = 0
    for chunk in _chunks(users.order_by("pk").iterator(chunk_size=CHUNK), CHUNK):
        recipients = [(user, context, key_pattern.format(user=user.pk)) for user in chunk]
        count += message_enqueue_many(template=template, recipients=recipients, category=category)
    return count


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _attempt_stats(student_ids: set[int], since: datetime) -> dict[int, dict]:
    rows = (
        TestAttempt.objects.filter(
            user_id__in=student_ids, status=TestAttempt.Status.SUBMITTED, submitted_at__gte=since
        )
        .values("user_id")
        .annotate(tests=Count("pk"), average=Avg("score"))
    )
    return {row["user_id"]: row for row in rows}


def _child_summary(child, stats: dict | None) -> str:
    if not stats:
        return f"{child.name} took no tests this week"
    return f"{child.name} took {stats['tests']} test(s), average score {round(stats['average'] or 0)}"


def _iso_week(moment: datetime) -> str:
    year, week, _ = moment.astimezone(IST).isocalendar()
    return f"{year}-W{week:02d}"
