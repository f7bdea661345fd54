"""Staff tools of the exam: extra time for one learner, sections on a test's paper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from courses import selectors, services
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


def _test_change_data(staff_client, test, **changes) -> dict:
    """The admin change form of `test` as the page has it, with `changes`; scheduled_start as the split widget."""
    page = staff_client.get(reverse("admin:courses_practicetest_change", args=[test.pk])).context["adminform"]
    data = {key: value for key, value in page.form.initial.items() if value is not None}
    data = {key: value for key, value in data.items() if key not in ("questions", "course", "scheduled_start")}
    start = changes.pop("scheduled_start", test.scheduled_start)
    local = timezone.localtime(start) if start else None
    return {
        **data,
        "scheduled_start_0": local.strftime("%Y-%m-%d") if local else "",
        "scheduled_start_1": local.strftime("%H:%M:%S") if local else "",
        "sections-TOTAL_FORMS": 0,
        "sections-INITIAL_FORMS": 0,
        "paper_items-TOTAL_FORMS": 0,
        "paper_items-INITIAL_FORMS": 0,
        **changes,
    }


def test_a_running_live_mock_cannot_be_made_an_ordinary_test_before_its_results_open(staff_client):
    # Given a live mock under way: one learner writes, one submitted (results hidden until it closes)
    test = PracticeTestFactory(question_count=1, scheduled_start=timezone.now() - timedelta(minutes=10))
    services.attempt_start(test=test, user=UserFactory())
    services.attempt_submit(attempt=services.attempt_start(test=test, user=UserFactory()))
    url = reverse("admin:courses_practicetest_change", args=[test.pk])

    # When staff clear its start time (an ordinary test shows every result at once)
    response = staff_client.post(url, _test_change_data(staff_client, test, scheduled_start=None))

    # Then the change is refused beside the field, and the results stay hidden
    assert response.status_code == 200
    assert "scheduled_start" in response.context["adminform"].form.errors
    assert PracticeTest.objects.get(pk=test.pk).scheduled_start == test.scheduled_start


def test_shortening_a_running_live_mock_keeps_its_results_hidden_until_the_last_attempt_ends(staff_client):
    # Given a live mock of 60 minutes that began 10 minutes ago: one learner still writes, one submitted
    start = timezone.now() - timedelta(minutes=10)
    test = PracticeTestFactory(question_count=1, scheduled_start=start, duration_minutes=60)
    writing = services.attempt_start(test=test, user=UserFactory())
    services.attempt_submit(attempt=services.attempt_start(test=test, user=UserFactory()))

    # When staff shorten it to 5 minutes (already over) in the admin
    url = reverse("admin:courses_practicetest_change", args=[test.pk])
    response = staff_client.post(url, _test_change_data(staff_client, test, duration_minutes=5))

    # Then the next start sees 5 minutes, but the running attempt keeps its deadline and the results
    # (score, key, leaderboard) stay hidden until it has ended
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    test = PracticeTest.objects.get(pk=test.pk)
    assert test.duration_minutes == 5
    assert Attempt.objects.get(pk=writing.pk).expires_at == start + timedelta(minutes=60)
    assert selectors.results_open_at(test) > start + timedelta(minutes=60)
