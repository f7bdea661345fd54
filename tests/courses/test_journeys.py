"""Periodic journeys: reminders an hour before a scheduled test, the parents' digest, inactivity nudges."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from communications.models import CommunicationLog
from courses.journeys import inactivity_nudges_enqueue, parent_digests_enqueue, scheduled_test_reminders_enqueue
from courses.models import Enrollment, TestAttempt
from tests.factories import EnrollmentFactory, ParentLinkFactory, PracticeTestFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 11:30 IST, outside quiet hours


@pytest.fixture(autouse=True)
def frozen_now():
    with mock.patch.object(timezone, "now", return_value=NOW):
        yield


def logs(template: str) -> list[tuple]:
    return sorted(
        CommunicationLog.objects.filter(template=template).values_list("user_id", "channel").order_by("user_id")
    )


def test_reminder_goes_to_active_learners_of_a_test_starting_within_the_hour():
    soon = PracticeTestFactory(question_count=0, is_free=False, scheduled_start=NOW + timedelta(minutes=50))
    later = PracticeTestFactory(question_count=0, is_free=False, scheduled_start=NOW + timedelta(hours=3))
    soon.course = EnrollmentFactory(status=Enrollment.Status.ACTIVE).course
    soon.save(update_fields=["course"])
    active = soon.course.enrollments.get().user
    EnrollmentFactory(course=soon.course, status=Enrollment.Status.PENDING)
    later.course = EnrollmentFactory(status=Enrollment.Status.ACTIVE).course
    later.save(update_fields=["course"])

    scheduled_test_reminders_enqueue()
    scheduled_test_reminders_enqueue()

    assert logs("test_reminder") == [(active.pk, "EMAIL"), (active.pk, "WHATSAPP")]
    row = CommunicationLog.objects.filter(template="test_reminder").first()
    assert row.idempotency_key.startswith(f"test_reminder:{soon.pk}:{active.pk}:")
    assert row.params == {"name": active.name, "test": soon.title, "starts_at": "12:20 PM, 26 Nov"}


def test_open_test_reminds_students_of_its_grade():
    test = PracticeTestFactory(question_count=0, grade="11", scheduled_start=NOW + timedelta(minutes=30))
    grade_11 = UserFactory(profile={"grade": "11"})
    UserFactory(profile={"grade": "12"})

    scheduled_test_reminders_enqueue()

    assert {user for user, _ in logs("test_reminder")} == {grade_11.pk}
    assert test.pk


def test_inactivity_nudge_once_a_week_for_learners_idle_seven_days():
    idle = UserFactory(last_active_at=NOW - timedelta(days=8))
    UserFactory(last_active_at=NOW - timedelta(days=3))
    UserFactory(last_active_at=None)
    UserFactory(last_active_at=NOW - timedelta(days=30), is_active=False)

    first = inactivity_nudges_enqueue()
    second = inactivity_nudges_enqueue()

    assert (first, second) == (2, 0)
    assert logs("inactivity_nudge") == [(idle.pk, "EMAIL"), (idle.pk, "WHATSAPP")]


def test_parent_digest_summarises_each_child_once_a_week():
    link = ParentLinkFactory()
    sibling = ParentLinkFactory(parent=link.parent).student
    test = PracticeTestFactory(question_count=0)
    for score in (120, 160):
        TestAttempt.objects.create(
            user=link.student,
            test=test,
            attempt_number=score,
            status=TestAttempt.Status.SUBMITTED,
            score=score,
            expires_at=NOW,
            submitted_at=NOW - timedelta(days=1),
        )

    parent_digests_enqueue()
    parent_digests_enqueue()

    assert logs("parent_digest") == [(link.parent.pk, "EMAIL"), (link.parent.pk, "WHATSAPP")]
    summary = CommunicationLog.objects.filter(template="parent_digest").first().params["summary"]
    assert f"{link.student.name} took 2 test(s), average score 140" in summary
    assert f"{sibling.name} took no tests this week" in summary


@pytest.mark.parametrize("learners", [1, 50])
def test_journey_query_count_does_not_grow_with_learners(django_assert_max_num_queries, learners):
    for _ in range(learners):
        UserFactory(last_active_at=NOW - timedelta(days=9))

    # learners, opt-outs, existing keys, and the insert with its savepoints
    with django_assert_max_num_queries(8):
        assert inactivity_nudges_enqueue() == 2 * learners


def test_journeys_respect_opt_outs():
    from communications.services import channel_preference_set

    idle = UserFactory(last_active_at=NOW - timedelta(days=8))
    channel_preference_set(user=idle, channel="WHATSAPP", opted_in=False)

    inactivity_nudges_enqueue()

    assert logs("inactivity_nudge") == [(idle.pk, "EMAIL")]


def test_open_test_reminder_held_past_the_start_by_quiet_hours_is_not_sent():
    # 06:15 IST: an open test's reminder is marketing and would wait for 09:00, after the 07:00 IST start
    early = datetime(2026, 11, 26, 0, 45, tzinfo=UTC)
    test = PracticeTestFactory(question_count=0, grade="12", scheduled_start=early + timedelta(minutes=45))
    UserFactory(profile={"grade": "12"})

    with mock.patch.object(timezone, "now", return_value=early):
        scheduled_test_reminders_enqueue()

    assert logs("test_reminder") == []
    assert test.pk
