"""Browser (d): a parent sees their child's result and gets a 404 for another child."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from courses.models import TestAttempt as Attempt
from tests.factories import ParentLinkFactory, PracticeTestFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _result(*, user, title: str, correct: int) -> Attempt:
    finished = timezone.now() - timedelta(hours=1)
    return Attempt.objects.create(
        user=user,
        test=PracticeTestFactory(title=title, question_count=0),
        status=Attempt.Status.SUBMITTED,
        started_at=finished - timedelta(minutes=30),
        submitted_at=finished,
        expires_at=finished,
        score=4 * correct,
        correct_count=correct,
        unanswered_count=10 - correct,
    )


def test_parent_sees_childs_result_and_404_for_another_child(page):
    # Given a parent linked to Meera, who scored 28/40 on a mock, and another family's child
    link = ParentLinkFactory(parent__email="mother@example.com", student__name="Meera Iyer", relation="MOTHER")
    _result(user=link.student, title="Plant Kingdom Mock", correct=7)
    stranger = ParentLinkFactory(student__name="Other Child").student

    # When the parent logs in (with one child linked, the parent's home is Meera's progress)
    page.goto("/accounts/login/")
    page.get_by_label("Email or mobile number").fill("mother@example.com")
    page.get_by_label("Password").fill("s3cret-Pass!")
    page.get_by_role("button", name="Log in").click()

    # Then the result and the trend are on the page
    expect(page.get_by_role("heading", name="Meera Iyer's progress")).to_be_visible()
    row = page.get_by_role("row", name="Plant Kingdom Mock")
    expect(row).to_contain_text("28 / 40")
    expect(row).to_contain_text("70.0%")
    expect(page.get_by_role("img", name="Score percentage over the last 1 test")).to_be_visible()
    expect(page.get_by_text("Other Child")).to_have_count(0)

    # When they change the id in the address to another family's child: a 404, and nothing of that child shows
    response = page.goto(f"/accounts/parent/children/{stranger.pk}/")
    assert response.status == 404
    expect(page.get_by_text("Other Child")).to_have_count(0)
