"""LastActiveMiddleware marks activity in Redis at most once per 5 minutes per user and writes nothing to
the database; the `accounts.last_active_flush` task writes `last_active_at` in bulk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.services import last_active_flush, last_active_mark
from accounts.tasks import last_active_flush as last_active_flush_task
from cerebrum.cache import l1_clear
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_l1():
    l1_clear()
    last_active_flush()  # marks left by earlier tests
    yield
    l1_clear()


def test_requests_mark_the_user_active_without_writing_and_the_flush_writes(client, django_assert_num_queries):
    user = UserFactory(last_active_at=None)
    client.force_login(user)

    client.get(reverse("accounts:profile"))  # the first request in 5 minutes marks the user in Redis
    with django_assert_num_queries(0):  # the session's user comes from Redis, and nothing is written
        client.get(reverse("accounts:profile"))

    assert User.objects.get(pk=user.pk).last_active_at is None  # no request wrote it
    assert last_active_flush_task.delay().get() == 1
    assert User.objects.get(pk=user.pk).last_active_at is not None
    assert last_active_flush() == 0  # taken once


def test_the_flush_writes_each_users_newest_mark():
    early, late = UserFactory(last_active_at=None), UserFactory(last_active_at=None)
    moment = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

    last_active_mark(user_id=early.pk, now=moment)
    last_active_mark(user_id=late.pk, now=moment.replace(hour=11))

    assert last_active_flush() == 2
    assert User.objects.get(pk=early.pk).last_active_at == moment
    assert User.objects.get(pk=late.pk).last_active_at == moment.replace(hour=11)


def test_only_one_process_marks_a_user_in_five_minutes():
    user = UserFactory(last_active_at=None)

    first = last_active_mark(user_id=user.pk)
    l1_clear()  # as if a second process, with its own memory, saw the same user
    second = last_active_mark(user_id=user.pk)

    assert (first, second) == (True, False)
    assert last_active_flush() == 1


def test_anonymous_requests_mark_nothing(client):
    user = UserFactory(last_active_at=None)

    client.get(reverse("accounts:login"))

    assert last_active_flush() == 0
    assert User.objects.get(pk=user.pk).last_active_at is None


def test_a_redis_failure_after_the_claim_loses_the_mark_not_the_request(client, monkeypatch):
    # given Redis answering the claim (SET NX) but failing the pending set's ZADD right after
    import redis
    from django_redis import get_redis_connection

    real = get_redis_connection("default")

    class FailingZadd:
        def __getattr__(self, name):
            return getattr(real, name)

        def zadd(self, *args, **kwargs):
            raise redis.exceptions.ConnectionError("Redis went away")

    monkeypatch.setattr("accounts.caches.get_redis_connection", lambda alias="default": FailingZadd())
    user = UserFactory(last_active_at=None)
    client.force_login(user)

    # when the learner's first request of five minutes marks them
    response = client.get(reverse("accounts:profile"))

    # then the page is served, and only this mark is lost
    assert response.status_code == 200
    assert last_active_flush() == 0
