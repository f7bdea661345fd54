"""A phone number typed into a form is a claim, not an identity (issue 14 item 2).

A lead's free-test attempts are reachable only from the browser session that created them; typing
someone else's number starts a new lead and attempt for this session, never reads or renames theirs,
and sign-up adopts only the session's own lead. Staff still see leads de-duplicated by phone.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts import selectors
from accounts.models import FreeUser, User
from courses.models import TestAttempt
from tests.factories import PracticeTestFactory, UserFactory

pytestmark = pytest.mark.django_db
VICTIM_PHONE = "98765 02222"


def _start_free_test(client: Client, test, *, name: str, phone: str):
    return client.post(reverse("courses:test_start", args=[test.slug]), {"name": name, "phone": phone, "grade": "11"})


def _attempt_id(response) -> int:
    return int(response.url.rstrip("/").split("/")[-1])


@pytest.fixture
def free_test():
    return PracticeTestFactory(is_free=True, question_count=2)


@pytest.fixture
def victim(free_test):
    """A visitor in the middle of a free test, in their own browser."""
    browser = Client()
    response = _start_free_test(browser, free_test, name="Asha Verma", phone=VICTIM_PHONE)
    assert response.status_code == 302
    return browser, _attempt_id(response)


def test_typing_the_victims_phone_in_another_browser_starts_a_new_attempt(free_test, victim):
    # Given a visitor's running free test
    victim_browser, victim_attempt = victim

    # When someone else types the same phone into the free-test form
    attacker = Client()
    response = _start_free_test(attacker, free_test, name="Mallory", phone="+919876502222")

    # Then they get a new attempt of their own: the victim's attempt and name are untouched
    assert response.status_code == 302
    assert _attempt_id(response) != victim_attempt
    lead = TestAttempt.objects.get(pk=victim_attempt).free_user
    assert lead.name == "Asha Verma"
    assert FreeUser.objects.filter(phone="+919876502222").count() == 2
    assert victim_browser.get(reverse("courses:attempt", args=[victim_attempt])).status_code == 200


@pytest.mark.parametrize("action", ["attempt", "attempt_result", "attempt_submit", "attempt_answer"])
def test_another_browser_cannot_reach_the_victims_attempt(free_test, victim, action):
    _, victim_attempt = victim
    attacker = Client()
    _start_free_test(attacker, free_test, name="Mallory", phone=VICTIM_PHONE)

    url = reverse(f"courses:{action}", args=[victim_attempt])
    response = attacker.get(url) if action in ("attempt", "attempt_result") else attacker.post(url, {})

    assert response.status_code == 404
    assert TestAttempt.objects.get(pk=victim_attempt).status == TestAttempt.Status.IN_PROGRESS


def test_signing_up_adopts_only_the_sessions_own_lead(free_test, victim):
    # Given an attacker who typed the victim's phone, then signs up
    victim_browser, victim_attempt = victim
    attacker = Client()
    attacker_attempt = _attempt_id(_start_free_test(attacker, free_test, name="Mallory", phone=VICTIM_PHONE))
    attacker.post(
        reverse("accounts:signup"),
        {"name": "Mallory", "email": "m@example.com", "phone": "", "password": "Chloroplast-2027", "grade": "11"},
    )

    # Then only the attacker's own attempt moved; the victim still has theirs
    account = User.objects.get(email="m@example.com")
    assert TestAttempt.objects.get(pk=attacker_attempt).user_id == account.pk
    stored = TestAttempt.objects.get(pk=victim_attempt)
    assert (stored.user_id, stored.free_user.name) == (None, "Asha Verma")
    assert victim_browser.get(reverse("courses:attempt", args=[victim_attempt])).status_code == 200


def test_the_same_browser_retyping_its_phone_continues_its_own_attempt(free_test, victim):
    victim_browser, victim_attempt = victim

    again = _start_free_test(victim_browser, free_test, name="Asha V", phone="09876502222")

    assert _attempt_id(again) == victim_attempt
    assert FreeUser.objects.count() == 1


def test_a_signed_in_learner_never_takes_over_a_lead_by_phone(free_test, victim):
    # Sibling: sign-up with the victim's phone number (not their session) adopts nothing.
    _, victim_attempt = victim
    stranger = Client()

    stranger.post(
        reverse("accounts:signup"),
        {"name": "Mallory", "email": "", "phone": VICTIM_PHONE, "password": "Chloroplast-2027", "grade": "11"},
    )

    assert TestAttempt.objects.get(pk=victim_attempt).user_id is None
    assert FreeUser.objects.get().user_id is None


def test_staff_see_one_lead_per_phone(free_test, victim, admin_client):
    # Given three sessions that typed the same phone and one other lead
    for name in ("Mallory", "Asha again"):
        _start_free_test(Client(), free_test, name=name, phone=VICTIM_PHONE)
    _start_free_test(Client(), free_test, name="Ravi", phone="9876503333")

    # Then the reporting selector and the admin's default view count people, not sessions
    rows = list(selectors.lead_rows_latest_per_phone().values_list("phone", "name"))
    assert sorted(rows) == [("+919876502222", "Asha again"), ("+919876503333", "Ravi")]
    page = admin_client.get(reverse("admin:accounts_freeuser_changelist"))
    assert page.status_code == 200
    assert [lead.name for lead in page.context["cl"].result_list] == ["Ravi", "Asha again"]
    every = admin_client.get(reverse("admin:accounts_freeuser_changelist"), {"rows": "all"})
    assert len(every.context["cl"].result_list) == 4


def test_the_admin_finds_leads_and_users_by_a_phone_typed_any_way(admin_client):
    UserFactory(phone="+919876510943", name="Asha")

    page = admin_client.get(reverse("admin:accounts_user_changelist"), {"q": "098765 10943"})

    assert [user.name for user in page.context["cl"].result_list] == ["Asha"]
