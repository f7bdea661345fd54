"""Staff tools of the exam: extra time for one learner, sections on a test's paper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from courses import services
from courses.models import AttemptTimeGrant, PracticeTest
from courses.models import TestAttempt as Attempt
from tests.factories import PracticeTestFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = StaffFactory()
    client.force_login(staff)
    client.staff = staff
    return client


def test_staff_grant_extra_time_from_the_admin(staff_client):
    attempt = services.attempt_start(test=PracticeTestFactory(question_count=1), user=UserFactory())
    deadline = attempt.expires_at

    response = staff_client.post(
        reverse("admin:courses_attempttimegrant_add"),
        {"attempt": attempt.pk, "minutes": 15, "reason": "Power cut at the exam centre"},
    )

    assert response.status_code == 302
    grant = AttemptTimeGrant.objects.get()
    assert (grant.seconds, grant.reason, grant.granted_by_id) == (
        900,
        "Power cut at the exam centre",
        staff_client.staff.pk,
    )
    assert Attempt.objects.get(pk=attempt.pk).expires_at == deadline + timedelta(minutes=15)


def test_extra_time_for_a_closed_attempt_is_refused_beside_the_field(staff_client):
    attempt = services.attempt_start(test=PracticeTestFactory(question_count=1), user=UserFactory())
    services.attempt_submit(attempt=attempt)

    response = staff_client.post(
        reverse("admin:courses_attempttimegrant_add"), {"attempt": attempt.pk, "minutes": 5, "reason": "Late"}
    )

    assert response.status_code == 200
    assert "extra time can only be given while it runs" in response.content.decode()
    assert not AttemptTimeGrant.objects.exists()


def test_the_test_change_page_lists_sections_and_a_paper_edit_makes_a_new_version(staff_client):
    test = PracticeTestFactory(question_count=2)
    url = reverse("admin:courses_practicetest_change", args=[test.pk])
    assert staff_client.get(url).status_code == 200

    page = staff_client.get(url).context["adminform"].form.initial
    data = {
        **{key: value for key, value in page.items() if value is not None and key != "questions"},
        "duration_minutes": 45,
        "sections-TOTAL_FORMS": 1,
        "sections-INITIAL_FORMS": 0,
        "sections-0-position": 1,
        "sections-0-name": "Botany",
        "sections-0-attempt_any": "",
        "paper_items-TOTAL_FORMS": 2,
        "paper_items-INITIAL_FORMS": 2,
    }
    for index, item in enumerate(test.paper_items.order_by("position")):
        data |= {
            f"paper_items-{index}-id": item.pk,
            f"paper_items-{index}-test": test.pk,
            f"paper_items-{index}-position": item.position,
            f"paper_items-{index}-question": item.question_id,
        }
    data.pop("scheduled_start", None)
    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    test = PracticeTest.objects.get(pk=test.pk)
    assert (test.duration_minutes, test.paper_version, test.sections.get().name) == (45, 2, "Botany")
