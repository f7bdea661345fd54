"""The funnel follows one cohort (issue 19 item 2): of the people who took a free test in the range, how
many signed up, enrolled and paid. Never above 100 % (the issue saw "Sign-ups 26 (371.4 %)" of 7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.models import TestAttempt
from payments.models import Payment
from reports.selectors import funnel_cohort
from tests.factories import (
    EnrollmentFactory,
    FreeUserFactory,
    PaymentFactory,
    PracticeTestFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _free_attempt(test, *, user=None, free_user=None, days_ago=1, number=1):
    started = timezone.now() - timedelta(days=days_ago)
    return TestAttempt.objects.create(
        test=test,
        user=user,
        free_user=free_user,
        attempt_number=number,
        started_at=started,
        expires_at=started + timedelta(minutes=30),
    )


def test_each_step_is_part_of_the_free_test_takers_of_the_range():
    free_test = PracticeTestFactory(is_free=True)
    paid_test = PracticeTestFactory(is_free=False)
    learners = UserFactory.create_batch(3)
    for learner in learners:
        _free_attempt(free_test, user=learner)
    _free_attempt(free_test, user=learners[0], days_ago=2, number=2)  # counted once
    leads = FreeUserFactory.create_batch(4)
    for lead in leads:
        _free_attempt(free_test, free_user=lead)
    FreeUserFactory(phone=leads[0].phone)  # the same person on another browser: one phone, one person
    later = UserFactory(phone=leads[1].phone)  # this lead signed up afterwards
    EnrollmentFactory(user=learners[0])
    PaymentFactory(enrollment=EnrollmentFactory(user=later), status=Payment.Status.CAPTURED)
    # Outside the cohort: 20 sign-ups with no free test, an old free test, a paid (non-free) test.
    for user in UserFactory.create_batch(20):
        EnrollmentFactory(user=user)
    _free_attempt(free_test, user=UserFactory(), days_ago=45)
    _free_attempt(paid_test, user=UserFactory())

    today = timezone.localdate()
    funnel = funnel_cohort(start=today - timedelta(days=29), end=today)

    assert funnel == [("Took a free test", 7), ("Signed up", 4), ("Enrolled in a course", 2), ("Paid", 1)]


@pytest.mark.parametrize("extra_signups", [0, 26])
def test_no_step_exceeds_the_one_before(client, extra_signups):
    free_test = PracticeTestFactory(is_free=True)
    for lead in FreeUserFactory.create_batch(7):
        _free_attempt(free_test, free_user=lead)
    UserFactory.create_batch(extra_signups)
    client.force_login(StaffFactory())

    rows = client.get("/staff/analytics/").context["funnel"]["rows"]

    values = [row["value"] for row in rows]
    assert values == sorted(values, reverse=True)
    assert all(row["from_previous"] is None or row["from_previous"] <= 100 for row in rows)
    assert all(row["of_first"] is None or row["of_first"] <= 100 for row in rows)
    assert values[0] == 7
