"""Fixtures for the accounts tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.models import TestAttempt as Attempt
from tests.factories import PracticeTestFactory


@pytest.fixture
def submitted_attempt():
    """make(user=..., correct=..., total=...) → a SUBMITTED attempt scored +4/0 on a `total`-question paper."""

    def make(*, user, correct: int, total: int = 10, test=None, minutes_ago: int = 60) -> Attempt:
        finished = timezone.now() - timedelta(minutes=minutes_ago)
        return Attempt.objects.create(
            user=user,
            test=test or PracticeTestFactory(question_count=0),
            status=Attempt.Status.SUBMITTED,
            started_at=finished - timedelta(minutes=20),
            submitted_at=finished,
            expires_at=finished + timedelta(minutes=10),
            score=4 * correct,
            correct_count=correct,
            unanswered_count=total - correct,
        )

    return make
