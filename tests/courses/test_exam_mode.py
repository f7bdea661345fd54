"""Exam mode under real concurrency: threads against a live server on PostgreSQL and Redis.

200 learners press Start within the same second: the paper is built once and each gets one attempt.
Then every attempt is submitted twice at the same moment (two tabs): each is scored exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.models import AnalyticsEvent
from analytics.services import buffer_flush
from courses import caches
from courses.models import TestAttempt as Attempt
from tests.factories import PracticeTestFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

LEARNERS = 200
CSRF = "h2bexamcsrfsecret0123456789abcde"  # any 32 alphanumerics: Django compares the header to the cookie


def _session_for(user, live_server) -> requests.Session:
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    session.cookies.set(settings.CSRF_COOKIE_NAME, CSRF)
    session.headers.update({"X-CSRFToken": CSRF, "Referer": live_server.url})
    return session


def _all_at_once(sessions: list[requests.Session], url_for, data: dict | None = None) -> list[requests.Response]:
    """POST url_for(i) (with `data`) from every session, released together by a barrier."""
    barrier = threading.Barrier(len(sessions))

    def post(index: int) -> requests.Response:
        barrier.wait()
        return sessions[index].post(url_for(index), data=data, allow_redirects=False, timeout=120)

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        return list(pool.map(post, range(len(sessions))))


@pytest.fixture
def exam(live_server):
    test = PracticeTestFactory(
        question_count=20, scheduled_start=timezone.now() - timedelta(seconds=1), duration_minutes=60
    )
    users = [UserFactory() for _ in range(LEARNERS)]
    return test, [_session_for(user, live_server) for user in users], users


def test_200_concurrent_starts_build_the_paper_once(exam, live_server):
    # Given a scheduled test at T0 and 200 signed-in learners
    test, sessions, users = exam
    start_url = live_server.url + reverse("courses:test_start", args=[test.slug])

    # When they all press Start within the same second
    responses = _all_at_once(sessions, lambda i: start_url)

    # Then: 200 attempts, one per learner, all ending at T0 + duration, from one paper build
    assert [r.status_code for r in responses] == [302] * LEARNERS
    assert all("/attempts/" in r.headers["Location"] for r in responses)
    attempts = Attempt.objects.filter(test=test)
    assert attempts.count() == LEARNERS
    assert set(attempts.values_list("user_id", flat=True)) == {u.pk for u in users}
    assert set(attempts.values_list("expires_at", flat=True)) == {test.scheduled_start + timedelta(minutes=60)}
    assert caches.paper_builds(test.pk) == 1


def test_concurrent_double_submits_score_each_attempt_once(exam, live_server):
    # Given 100 learners with a running attempt and one saved answer each
    test, sessions, _ = exam
    sessions = sessions[:100]
    start_url = live_server.url + reverse("courses:test_start", args=[test.slug])
    starts = _all_at_once(sessions, lambda i: start_url)
    attempt_ids = [int(r.headers["Location"].rstrip("/").split("/")[-1]) for r in starts]
    first_question = caches.paper_get(test)["questions"][0]["id"]
    for session, attempt_id in zip(sessions, attempt_ids, strict=True):
        answer = session.post(
            live_server.url + reverse("courses:attempt_answer", args=[attempt_id]),
            data={"question_id": first_question, "option": "A"},
            headers={"Accept": "application/json"},
            timeout=30,
        )
        assert answer.json()["saved"] == 1

    # When each attempt is submitted from two tabs at the same moment
    doubled = [s for s in sessions for _ in range(2)]
    responses = _all_at_once(
        doubled,
        lambda i: live_server.url + reverse("courses:attempt_submit", args=[attempt_ids[i // 2]]),
        data={"confirm": "1"},  # "Yes, submit" on the confirmation
    )

    # Then every submit lands on the result page, and each attempt was scored exactly once
    assert [r.status_code for r in responses] == [302] * len(doubled)
    assert Attempt.objects.filter(test=test, status=Attempt.Status.SUBMITTED, score=4).count() == len(sessions)
    buffer_flush()
    submits = Counter(
        AnalyticsEvent.objects.filter(event_type="TEST_SUBMIT").values_list("properties__attempt_id", flat=True)
    )
    assert submits == Counter(dict.fromkeys(attempt_ids, 1))
    # a live mock's board fills when its results open, not at each submit (nobody can probe the key)
    assert caches.redis_client().zcard(caches.test_board_key(test.pk)) == 0


def test_one_learner_pressing_start_in_five_tabs_gets_one_attempt(live_server):
    # Given one learner with five tabs open on a test allowing three attempts
    test = PracticeTestFactory(question_count=5, max_attempts=3)
    session = _session_for(UserFactory(), live_server)
    start_url = live_server.url + reverse("courses:test_start", args=[test.slug])

    # When all five tabs press Start at once
    responses = _all_at_once([session] * 5, lambda i: start_url)

    # Then they all land on the same single attempt
    assert {r.headers["Location"] for r in responses} == {reverse("courses:attempt", args=[Attempt.objects.get().pk])}
    assert Attempt.objects.get().attempt_number == 1
