"""Every admin save is visible on the next request (issue 14 item 9), production shape (Redis, cacheops).

The same staff edits on the embedded default (SQLite, local-memory cache, cacheops off) are tested on a
live `runserver` in test_sqlite_concurrency.py. Each test warms every cache first, then a staff member
saves the admin change form as a browser would, then the learner's very next request must show it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from courses.models import TestAttempt
from tests.cerebrum.admin_forms import admin_form_data
from tests.factories import ChapterNoteFactory, CourseFactory, PracticeTestFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the page versions move when the save commits


def _admin_save(model: str, obj_id: int, **changes: str) -> None:
    staff = Client()
    staff.force_login(StaffFactory())
    url = reverse(f"admin:courses_{model}_change", args=[obj_id])
    saved = staff.post(url, admin_form_data(staff.get(url).content.decode(), **changes))
    assert saved.status_code == 302, saved.content.decode()[:3000]


def _learner_clients() -> tuple[Client, APIClient, Client]:
    learner = UserFactory()
    page = Client()
    page.force_login(learner)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(learner).access_token}")
    return page, api, Client()


def test_a_duration_changed_in_the_admin_shows_on_the_next_request():
    # given a test whose page and API answer are cached for learners and visitors
    test = PracticeTestFactory(duration_minutes=30, question_count=2)
    page, api, visitor = _learner_clients()
    detail = reverse("courses:test_detail", args=[test.slug])
    for _ in range(2):
        assert "30 minutes" in page.get(detail).content.decode()
        assert "30 minutes" in visitor.get(detail).content.decode()
        assert api.get(f"/api/v1/tests/{test.slug}").json()["duration_minutes"] == 30

    # when staff change the duration in the admin
    _admin_save("practicetest", test.pk, duration_minutes="45")

    # then the very next request of each shows it
    assert "45 minutes" in page.get(detail).content.decode()
    assert "45 minutes" in visitor.get(detail).content.decode()
    assert api.get(f"/api/v1/tests/{test.slug}").json()["duration_minutes"] == 45
    started = api.post(f"/api/v1/tests/{test.slug}/attempts")
    attempt = TestAttempt.objects.get(pk=started.json()["id"])
    assert attempt.expires_at - attempt.started_at == timedelta(minutes=45)


def test_a_live_mock_moved_earlier_accepts_start_at_its_new_time():
    # given a live mock an hour away: Start is refused (and that refusal read the cached test)
    test = PracticeTestFactory(scheduled_start=timezone.now() + timedelta(hours=1), question_count=2)
    _, api, _ = _learner_clients()
    assert api.post(f"/api/v1/tests/{test.slug}/attempts").json()["error"]["code"] == "not_started"

    # when staff move it to two minutes ago
    moved = timezone.localtime(timezone.now() - timedelta(minutes=2))
    _admin_save(
        "practicetest",
        test.pk,
        scheduled_start_0=moved.strftime("%Y-%m-%d"),
        scheduled_start_1=moved.strftime("%H:%M:%S"),
    )

    # then Start is accepted at once
    assert api.post(f"/api/v1/tests/{test.slug}/attempts").status_code == 201


@pytest.mark.parametrize("field", ["name", "fees_paise"])
def test_a_course_edited_in_the_admin_shows_on_the_catalog_and_course_page_at_once(field):
    course = CourseFactory(name="NEET Biology Target", fees_paise=100_000)
    page, api, visitor = _learner_clients()
    urls = [reverse("courses:catalog"), reverse("courses:course_detail", args=[course.slug])]
    for url in urls:
        page.get(url)
        visitor.get(url)
    api.get("/api/v1/courses")
    new_value, shown = {"name": ("NEET Biology Crash Course", "NEET Biology Crash Course")}.get(
        field, ("123400", "1,234")
    )

    _admin_save("course", course.pk, **{field: new_value})

    for url in urls:
        assert shown in page.get(url).content.decode()
        assert shown in visitor.get(url).content.decode()


def test_a_note_unpublished_in_the_admin_is_gone_on_the_next_request():
    note = ChapterNoteFactory(grade="12", title="Human Reproduction notes")
    _, _, visitor = _learner_clients()
    url = reverse("courses:note_detail", args=[note.slug])
    assert visitor.get(url).status_code == 200

    _admin_save("chapternote", note.pk, is_published="")

    assert visitor.get(url).status_code == 404
