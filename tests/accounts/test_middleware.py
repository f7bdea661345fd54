"""LastActiveMiddleware: last_active_at is written at most once per 5 minutes per user."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.middleware import last_active_touch
from accounts.models import User
from cerebrum.cache import l1_clear
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_l1():
    l1_clear()
    yield
    l1_clear()


def test_first_request_marks_the_user_active_and_later_ones_do_not_write(client, django_assert_num_queries):
    user = UserFactory(last_active_at=None)
    client.force_login(user)

    client.get(reverse("accounts:profile"))
    first = User.objects.get(pk=user.pk).last_active_at
    with django_assert_num_queries(0):  # the session's user comes from Redis, and no UPDATE this time
        client.get(reverse("accounts:profile"))

    assert first is not None
    assert User.objects.get(pk=user.pk).last_active_at == first


def test_only_one_process_wins_the_write():
    user = UserFactory(last_active_at=None)

    first = last_active_touch(user_id=user.pk)
    l1_clear()  # as if a second process, with its own memory, saw the same user
    second = last_active_touch(user_id=user.pk)

    assert (first, second) == (True, False)


def test_anonymous_requests_write_nothing(client):
    user = UserFactory(last_active_at=None)

    client.get(reverse("accounts:login"))

    assert User.objects.get(pk=user.pk).last_active_at is None
