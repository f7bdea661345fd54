"""A cached row read just before a write commits is never served after it (docs/caching.md, versioned entries).

Each test runs the interleaving that deleting the key after the commit lost: a reader misses, reads the
old row, the write commits and invalidates, the reader stores what it read. The next read must show the
new row: the entry was stored under the version the write replaced. (With the delete, the old row stayed
for the whole TTL: a password change left the old sessions signed in for 5 minutes, a submitted attempt
read as running for 30, a corrected answer key scored new submits on the old key for 6 hours, a renamed
learner kept the old name on leaderboards for a day.) Then a warm read
costs one Redis round trip and no SQL.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import backends, selectors
from accounts import caches as accounts_caches
from accounts import services as accounts_services
from accounts.models import User
from cerebrum.cache import l1_clear
from courses import caches, services
from courses.models import Question, TestAttempt
from courses.rekey import question_rekey
from practice import revision
from practice.models import ReviewCard
from tests.factories import PracticeTestFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_password_change_committed_while_a_request_loads_the_user_still_signs_the_session_out(
    client, monkeypatch, racing
):
    user = UserFactory()
    client.force_login(user)

    def change_password():
        fresh = User.objects.get(pk=user.pk)
        fresh.set_password("a-new-long-passphrase")
        fresh.save()

    with monkeypatch.context() as patch:
        patch.setattr(backends, "_user_from_primary", racing(backends._user_from_primary, change_password))
        assert client.get(reverse("accounts:profile")).status_code == 200  # read before the change: signed in

    assert client.get(reverse("accounts:profile")).status_code == 302


def test_a_rename_committed_while_the_profile_is_built_shows_on_the_next_read(api_client, monkeypatch, racing):
    user = UserFactory(name="Asha")
    api_client.force_authenticate(user)
    rename = lambda: accounts_services.user_profile_update(user=User.objects.get(pk=user.pk), name="Asha Verma")  # noqa: E731

    with monkeypatch.context() as patch:
        patch.setattr(selectors, "_profile_build", racing(selectors._profile_build, rename))
        assert api_client.get("/api/v1/me").json()["name"] == "Asha"

    assert api_client.get("/api/v1/me").json()["name"] == "Asha Verma"


def test_a_rename_committed_while_leaderboard_names_load_shows_on_the_next_read(monkeypatch, racing):
    user = UserFactory(name="Asha")
    rename = lambda: accounts_services.user_profile_update(user=User.objects.get(pk=user.pk), name="Asha Verma")  # noqa: E731

    with monkeypatch.context() as patch:
        patch.setattr(selectors, "_names_load", racing(selectors._names_load, rename))
        assert selectors.user_names(user_ids=[user.pk]) == {user.pk: "Asha"}

    assert selectors.user_names(user_ids=[user.pk]) == {user.pk: "Asha Verma"}


def test_a_role_change_committed_while_the_role_is_read_shows_on_the_next_read(racing):
    user = UserFactory(role=User.Role.STUDENT)
    read = lambda: User.objects.filter(pk=user.pk).values_list("role", flat=True).first()  # noqa: E731

    def make_parent():
        promoted = User.objects.get(pk=user.pk)
        promoted.role = User.Role.PARENT
        promoted.save(update_fields=["role"])

    assert accounts_caches.role_get_or_build(user.pk, racing(read, make_parent)) == User.Role.STUDENT

    assert selectors.user_role_get(user_id=user.pk) == User.Role.PARENT


def _due_card(user) -> ReviewCard:
    test = PracticeTestFactory(question_count=1)
    question_id = caches.paper_get(test)["questions"][0]["id"]
    revision.cards_add(user_id=user.pk, question_ids=[question_id], source=ReviewCard.Source.BOOKMARK)
    return ReviewCard.objects.get(user=user, question_id=question_id)


def test_a_rating_committed_while_the_revision_summary_is_built_shows_on_the_next_read(api_client, monkeypatch, racing):
    user = UserFactory()
    api_client.force_authenticate(user)
    card = _due_card(user)
    rate = lambda: revision.review_rate(user=user, card_id=card.pk, rating=3)  # noqa: E731

    with monkeypatch.context() as patch:
        patch.setattr(revision, "_summary_build", racing(revision._summary_build, rate))
        assert api_client.get("/api/v1/me/revision").json()["streak_days"] == 0

    assert api_client.get("/api/v1/me/revision").json()["streak_days"] == 1  # reviewed today


def test_a_submit_committed_while_the_attempt_is_loaded_shows_on_the_next_read(racing):
    user = UserFactory()
    attempt = services.attempt_start(test=PracticeTestFactory(question_count=2), user=user)
    caches.attempts_forget([attempt.pk])  # not cached: the next read loads the row
    load = lambda: TestAttempt.objects.select_related("test").get(pk=attempt.pk)  # noqa: E731
    submit = lambda: services.attempt_submit(attempt=TestAttempt.objects.get(pk=attempt.pk))  # noqa: E731

    assert caches.attempt_get_or_load(attempt.pk, racing(load, submit)).status == TestAttempt.Status.IN_PROGRESS

    assert caches.attempt_get_or_load(attempt.pk, load).status == TestAttempt.Status.SUBMITTED


def _never(*args):
    raise AssertionError("a warm read must not load anything")


@pytest.mark.parametrize(
    "read",
    [
        lambda user, attempt: accounts_caches.session_user_get_or_load(user.pk, _never),
        lambda user, attempt: accounts_caches.profile_get_or_build(user.pk, _never),
        lambda user, attempt: accounts_caches.role_get_or_build(user.pk, _never),
        lambda user, attempt: accounts_caches.names_get_or_load([user.pk], _never),
        lambda user, attempt: caches.attempt_get_or_load(attempt.pk, _never),
        lambda user, attempt: revision.revision_summary(user=user),
    ],
    ids=["session-user", "profile", "role", "names", "attempt", "revision-summary"],
)
def test_a_warm_versioned_read_is_one_redis_round_trip_and_no_sql(
    read, client, api_client, redis_round_trips, django_assert_num_queries
):
    user = UserFactory()
    attempt = services.attempt_start(test=PracticeTestFactory(question_count=1), user=user)
    client.force_login(user)
    api_client.force_authenticate(user)
    client.get(reverse("accounts:profile"))  # caches the session user
    selectors.user_profile_get(user_id=user.pk)
    selectors.user_role_get(user_id=user.pk)
    selectors.user_names(user_ids=[user.pk])
    caches.attempt_get_or_load(attempt.pk, lambda: TestAttempt.objects.select_related("test").get(pk=attempt.pk))
    api_client.get("/api/v1/me/revision")
    redis_round_trips.reset()

    with django_assert_num_queries(0):
        read(user, attempt)

    assert redis_round_trips.count == 1, redis_round_trips.commands


def test_a_key_change_committed_while_the_answer_key_is_built_shows_on_the_next_read(monkeypatch, racing):
    test = PracticeTestFactory(question_count=1)
    question = Question.objects.get(pk=caches.paper_get(test)["questions"][0]["id"])
    new_option = next(option for option in "ABCD" if option != question.correct_option)
    rekey = lambda: question_rekey(question=question, correct_option=new_option, reason="typo in the key")  # noqa: E731

    with monkeypatch.context() as patch:
        patch.setattr(caches, "paper_snapshot", racing(caches.paper_snapshot, rekey))
        caches.answer_key_get(test_id=test.pk, version=test.paper_version)
    l1_clear()  # another process, or this one after PAPER_L1_SECONDS

    assert caches.answer_key_get(test_id=test.pk, version=test.paper_version)[str(question.pk)]["correct"] == new_option
