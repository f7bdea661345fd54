"""The session's user comes from Redis as plain data; any save of the user drops every cached copy of them."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.caches import session_user_key
from accounts.selectors import user_profile_get
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_signed_in_requests_read_the_user_from_redis(client, django_assert_num_queries):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("accounts:profile"))  # caches the user and profile (and writes last-active)

    cached = cache.get(session_user_key(user.pk))["data"]  # stored with the user's version
    assert cached["columns"]["id"] == user.pk  # a dict of the row's columns, not a pickled User
    assert cached["columns"]["email"] == user.email
    with django_assert_num_queries(0):  # no users SELECT: the page itself reads the cached profile
        assert client.get(reverse("accounts:profile")).status_code == 200


def test_a_password_change_signs_other_sessions_out_at_once(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("courses:dashboard")).status_code == 200

    user.set_password("a-new-long-passphrase")
    user.save()

    assert client.get(reverse("courses:dashboard")).status_code == 302


def test_an_admin_edit_shows_in_the_cached_profile_after_commit(django_capture_on_commit_callbacks):
    user = UserFactory(name="Asha")
    assert user_profile_get(user_id=user.pk)["name"] == "Asha"  # now cached for 30 minutes

    with django_capture_on_commit_callbacks(execute=True):
        user.name = "Asha Verma"
        user.save(update_fields=["name"])  # the admin's change form, not the profile service

    assert user_profile_get(user_id=user.pk)["name"] == "Asha Verma"
