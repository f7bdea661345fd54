"""Idempotency-Key on create endpoints: same key + same body replays, a different body is 422, keys are per caller."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from cerebrum.api_tools import IDEMPOTENCY_TTL_SECONDS
from courses.models import Enrollment, TestAttempt
from tests.factories import CourseFactory, PracticeTestFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def student(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    return user


def enroll(api_client, slug: str, key: str | None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api_client.post("/api/v1/enrollments", {"course": slug}, format="json", **headers)


def test_the_same_key_and_body_replays_the_first_response(api_client, student):
    course = CourseFactory()
    first = enroll(api_client, course.slug, "key-1")
    replay = enroll(api_client, course.slug, "key-1")
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Enrollment.objects.count() == 1


def test_the_same_key_with_a_different_body_is_422(api_client, student):
    first, second = CourseFactory(), CourseFactory()
    enroll(api_client, first.slug, "key-1")
    response = enroll(api_client, second.slug, "key-1")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_mismatch"
    assert list(Enrollment.objects.values_list("course_id", flat=True)) == [first.pk]


def test_a_refusal_leaves_the_key_unused_so_a_retry_can_succeed(api_client, student):
    # given a create refused because the course did not exist (nothing was written)
    assert enroll(api_client, "late-course", "key-1").status_code == 400
    # when the course appears and the client retries with the same key
    CourseFactory(slug="late-course")
    response = enroll(api_client, "late-course", "key-1")
    # then the retry is processed, not answered with the old refusal
    assert response.status_code == 201
    assert Enrollment.objects.count() == 1


def test_keys_are_scoped_to_the_caller(api_client, student):
    course = CourseFactory()
    enroll(api_client, course.slug, "shared-key")
    other = UserFactory()
    api_client.force_authenticate(other)
    response = enroll(api_client, course.slug, "shared-key")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Enrollment.objects.filter(user=other).count() == 1


def test_keys_are_kept_24_hours(api_client, student):
    enroll(api_client, CourseFactory().slug, "key-ttl")
    ttls = [cache.ttl(key) for key in cache.keys("idem:*")]
    assert len(ttls) == 1
    assert IDEMPOTENCY_TTL_SECONDS - 60 < ttls[0] <= IDEMPOTENCY_TTL_SECONDS


def test_a_request_in_flight_with_the_key_is_409(api_client, student):
    # given another request holding the key's lock right now
    course = CourseFactory()
    enroll(api_client, course.slug, None)
    from cerebrum.api_tools import _idempotency_scope

    class FakeRequest:
        user = student
        path = "/api/v1/enrollments"
        META = {}

    cache.add(f"idem-lock:{_idempotency_scope(FakeRequest, 'busy-key')}", 1, 30)
    # when the same key arrives
    response = enroll(api_client, course.slug, "busy-key")
    # then it is told to retry later, not processed twice
    assert response.status_code == 409


def test_an_overlong_key_is_400(api_client, student):
    response = enroll(api_client, CourseFactory().slug, "k" * 201)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]


def test_start_and_submit_replay_with_their_keys(api_client, student):
    test = PracticeTestFactory()
    start = api_client.post(f"/api/v1/tests/{test.slug}/attempts", HTTP_IDEMPOTENCY_KEY="start-1")
    again = api_client.post(f"/api/v1/tests/{test.slug}/attempts", HTTP_IDEMPOTENCY_KEY="start-1")
    assert again.json()["id"] == start.json()["id"]
    url = f"/api/v1/attempts/{start.json()['id']}/submit"
    submitted = api_client.post(url, HTTP_IDEMPOTENCY_KEY="submit-1")
    replayed = api_client.post(url, HTTP_IDEMPOTENCY_KEY="submit-1")
    assert replayed.json() == submitted.json()
    assert replayed["Idempotent-Replayed"] == "true"
    assert TestAttempt.objects.get().status == "SUBMITTED"


def test_a_request_slower_than_its_key_lock_does_not_free_the_lock_a_retry_took(api_client, student, monkeypatch):
    # given an enrolment that outlives its 30 s key lock, while a retry with the same key takes the lock
    from cerebrum.api_tools import _idempotency_scope
    from courses import services

    class FakeRequest:
        user = student
        path = "/api/v1/enrollments"
        META = {}

    lock, create = f"idem-lock:{_idempotency_scope(FakeRequest, 'slow-key')}", services.enrollment_create

    def slow_create(**kwargs):
        cache.delete(lock)  # ours expired ...
        assert cache.add(lock, "the-retry", 30)  # ... and the retry took it
        return create(**kwargs)

    monkeypatch.setattr(services, "enrollment_create", slow_create)
    assert enroll(api_client, CourseFactory().slug, "slow-key").status_code == 201
    # then the retry still holds its lock (a third request would otherwise run too)
    assert cache.get(lock) == "the-retry"
