"""Account pages end to end through HTTP: status, key content, field errors, nothing half-written, query counts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import AuthLog, FreeUser, PhoneOTP, User
from accounts.views import home_url
from communications.models import CommunicationLog
from courses.models import TestAttempt as Attempt
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    FreeUserFactory,
    ParentFactory,
    ParentLinkFactory,
    PracticeTestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-Pass!"
NEW_PASSWORD = "Chloroplast-2027"


def _signup_data(**overrides) -> dict:
    return {
        "name": "Asha Verma",
        "email": "asha@example.com",
        "phone": "",
        "password": NEW_PASSWORD,
        "grade": "11",
        **overrides,
    }


# --- Sign up -------------------------------------------------------------------------------------


def test_signup_page_has_labelled_fields(client):
    response = client.get(reverse("accounts:signup"))

    content = response.content.decode()
    assert response.status_code == 200
    for field in ("name", "email", "phone", "password", "grade"):
        assert f'for="id_{field}"' in content


def test_signup_creates_the_account_logs_in_and_redirects(client):
    response = client.post(reverse("accounts:signup"), _signup_data(email="Asha@Example.com"))

    user = User.objects.get()
    assert response.status_code == 302
    assert response.url == home_url()
    assert (user.email, user.profile, user.role) == ("asha@example.com", {"grade": "11"}, "STUDENT")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert AuthLog.objects.get().event == AuthLog.Event.LOGIN_SUCCESS


@pytest.mark.parametrize(
    ("next_url", "expected"), [("/accounts/profile/", "/accounts/profile/"), ("https://evil.example/", None)]
)
def test_signup_follows_only_safe_next(client, next_url, expected):
    response = client.post(reverse("accounts:signup"), {**_signup_data(), "next": next_url})

    assert response.url == (expected or home_url())


def test_signup_keeps_next_through_a_failed_attempt(client):
    response = client.post(
        f"{reverse('accounts:signup')}?next=/courses/", {**_signup_data(password="x"), "next": "/courses/"}
    )

    assert '<input type="hidden" name="next" value="/courses/">' in response.content.decode()


def test_signup_keeps_the_free_users_attempts_and_the_campaign(client):
    # Given a visitor from a campaign who took a free test as a lead
    lead = FreeUserFactory()
    attempt = Attempt.objects.create(
        free_user=lead, test=PracticeTestFactory(question_count=0), expires_at="2030-01-01T00:00:00Z"
    )
    session = client.session
    session["free_user_id"] = lead.pk
    session["utm"] = {"first": {"utm_source": "instagram", "utm_campaign": "neet27"}, "last": {"utm_source": "google"}}
    session.save()

    # When they sign up
    client.post(reverse("accounts:signup"), _signup_data())

    # Then the attempt is theirs, the lead is linked, and the touches are on the account
    user = User.objects.get()
    attempt.refresh_from_db()
    assert (attempt.user_id, attempt.free_user_id) == (user.pk, None)
    assert FreeUser.objects.get().user_id == user.pk
    assert (user.first_touch["utm_campaign"], user.last_touch["utm_source"]) == ("neet27", "google")
    assert "free_user_id" not in client.session


def test_a_running_free_attempt_opens_for_the_new_account_after_sign_up(client, django_capture_on_commit_callbacks):
    # Given a lead in the middle of a free test, whose exam page (and so the cached attempt) is open
    lead = FreeUserFactory()
    attempt = Attempt.objects.create(
        free_user=lead, test=PracticeTestFactory(question_count=2), expires_at="2030-01-01T00:00:00Z"
    )
    session = client.session
    session["free_user_id"] = lead.pk
    session.save()
    assert client.get(reverse("courses:attempt", args=[attempt.pk])).status_code == 200

    # When they sign up mid-test
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:signup"), _signup_data())

    # Then the same exam page opens for the account (no stale copy naming the lead)
    assert client.get(reverse("courses:attempt", args=[attempt.pk])).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "", "phone": ""}, "email", "Enter an email address or a mobile number."),
        ({"email": "nope"}, "email", "Enter a valid email address."),
        ({"email": "", "phone": "12345"}, "phone", "Enter a 10-digit Indian mobile number"),
        ({"email": "", "phone": "5123456789"}, "phone", "starting with 6, 7, 8 or 9"),
        ({"password": "password1"}, "password", "This password is too common."),
        ({"password": "short"}, "password", "This password is too short."),
        ({"name": ""}, "name", "This field is required."),
        ({"grade": "PhD"}, "grade", "Select a valid choice."),
    ],
)
def test_signup_shows_errors_beside_the_field_and_saves_nothing(client, overrides, field, message):
    response = client.post(reverse("accounts:signup"), _signup_data(**overrides))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert re.search(rf'<div class="field has-error">\s*<label for="id_{field}"', response.content.decode())
    assert User.objects.count() == 0
    assert CommunicationLog.objects.count() == 0


def test_signup_ignores_tampered_role_staff_and_verification_fields(client):
    tampered = {"role": "ADMIN", "is_staff": "on", "is_superuser": "on", "phone_verified": "on", "email_verified": "1"}

    client.post(reverse("accounts:signup"), {**_signup_data(phone="9812345678"), **tampered})

    user = User.objects.get()
    assert (user.role, user.is_staff, user.is_superuser) == ("STUDENT", False, False)
    assert (user.phone_verified, user.email_verified) == (False, False)


def test_signup_with_a_taken_phone_says_so(client):
    UserFactory(phone="+919812345678")

    response = client.post(reverse("accounts:signup"), _signup_data(email="", phone="98123 45678"))

    assert "already exists" in response.context["form"].errors["phone"][0]
    assert User.objects.count() == 1


def test_signed_in_learner_is_sent_away_from_sign_up(client):
    client.force_login(UserFactory())

    response = client.get(reverse("accounts:signup"))

    assert response.status_code == 302
    assert response.url == home_url()


# --- Log in and out ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["ASHA@example.com", "+919812345678", "98123 45678", "09812345678"])
def test_login_with_email_or_phone(client, typed):
    user = UserFactory(email="asha@example.com", phone="+919812345678")

    response = client.post(reverse("accounts:login"), {"username": typed, "password": PASSWORD})

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk
    log = AuthLog.objects.get()
    assert (log.event, log.user_id) == (AuthLog.Event.LOGIN_SUCCESS, user.pk)


def test_wrong_password_shows_an_error_and_is_logged(client):
    UserFactory(email="asha@example.com")

    response = client.post(reverse("accounts:login"), {"username": "asha@example.com", "password": "wrong-one"})

    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert "_auth_user_id" not in client.session
    log = AuthLog.objects.get()
    assert (log.event, log.identifier, log.user_id) == (AuthLog.Event.LOGIN_FAILURE, "asha@example.com", None)


def test_sixth_wrong_password_is_locked_out(client):
    UserFactory(email="asha@example.com")
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": "asha@example.com", "password": "wrong-one"})

    response = client.post(reverse("accounts:login"), {"username": "asha@example.com", "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_logout_is_post_only_and_logged(client):
    user = UserFactory()
    client.force_login(user)

    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert AuthLog.objects.get().event == AuthLog.Event.LOGOUT


# --- Password reset ------------------------------------------------------------------------------


# The reset flows (email through the outbox, OTP for phone-only learners): tests/accounts/test_password_reset.py


@pytest.mark.parametrize(
    "name", ["accounts:password_reset", "accounts:password_reset_done", "accounts:password_reset_complete"]
)
def test_password_reset_pages_render(client, name):
    assert client.get(reverse(name)).status_code == 200


def test_password_reset_bad_link_says_so(client):
    response = client.get(reverse("accounts:password_reset_confirm", args=["MQ", "bad-token"]))

    assert response.status_code == 200
    assert "This link no longer works" in response.content.decode()


# --- Profile and phone ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["accounts:profile", "accounts:verify_phone", "accounts:parent_children"])
def test_private_pages_send_visitors_to_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(f"{reverse('accounts:login')}?next=")


def test_profile_page_shows_and_saves_the_profile(client, django_assert_max_num_queries):
    user = UserFactory(name="Asha", profile={"grade": "11", "city": "Kota"})
    client.force_login(user)
    with django_assert_max_num_queries(4):
        page = client.get(reverse("accounts:profile"))
    assert page.status_code == 200
    assert 'value="Kota"' in page.content.decode()
    assert reverse("communications:preferences") in page.content.decode()

    response = client.post(
        reverse("accounts:profile"), {"name": "Asha V", "grade": "12", "target_year": "", "city": "Jaipur"}
    )

    assert response.url == reverse("accounts:profile")
    user.refresh_from_db()
    assert (user.name, user.profile) == ("Asha V", {"grade": "12", "city": "Jaipur"})


@pytest.mark.parametrize(
    ("data", "field"),
    [({"target_year": "1999"}, "target_year"), ({"city": "x" * 81}, "city"), ({"name": ""}, "name")],
)
def test_profile_refuses_bad_values_beside_the_field(client, data, field):
    user = UserFactory(name="Asha", profile={"grade": "11"})
    client.force_login(user)

    response = client.post(reverse("accounts:profile"), {"name": "Asha", "grade": "11", **data})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    user.refresh_from_db()
    assert (user.name, user.profile) == ("Asha", {"grade": "11"})


def test_profile_cannot_set_role_or_staff(client):
    user = UserFactory()
    client.force_login(user)

    client.post(reverse("accounts:profile"), {"name": "X", "role": "ADMIN", "is_staff": "on", "phone_verified": "on"})

    user.refresh_from_db()
    assert (user.role, user.is_staff, user.phone_verified) == ("STUDENT", False, False)


def test_verify_phone_by_whatsapp_code(client):
    user = UserFactory(phone=None)
    client.force_login(user)
    assert client.get(reverse("accounts:verify_phone")).status_code == 200

    sent = client.post(reverse("accounts:verify_phone"), {"action": "request", "phone": "98123 45678"})
    code = CommunicationLog.objects.get(template="otp").params["code"]
    wrong = client.post(reverse("accounts:verify_phone"), {"action": "verify", "code": "12345x"})
    right = client.post(reverse("accounts:verify_phone"), {"action": "verify", "code": code})

    assert sent.status_code == 200
    assert "We sent a code on WhatsApp to +919812345678" in sent.content.decode()
    assert wrong.status_code == 400
    assert "Enter the 6 digits" in wrong.content.decode()
    assert right.url == reverse("accounts:profile")
    user.refresh_from_db()
    assert (user.phone, user.phone_verified) == ("+919812345678", True)


def test_verify_phone_wrong_code_is_shown_and_counted(client):
    user = UserFactory(phone=None)
    client.force_login(user)
    client.post(reverse("accounts:verify_phone"), {"action": "request", "phone": "98123 45678"})
    code = CommunicationLog.objects.get(template="otp").params["code"]
    wrong = "000000" if code != "000000" else "111111"

    response = client.post(reverse("accounts:verify_phone"), {"action": "verify", "code": wrong})

    assert response.status_code == 400
    assert "Wrong code. 4 tries left." in response.content.decode()
    assert PhoneOTP.objects.get().attempts == 1


def test_fourth_code_request_in_ten_minutes_is_refused_on_the_page(client):
    client.force_login(UserFactory(phone=None))
    for _ in range(3):
        client.post(reverse("accounts:verify_phone"), {"action": "request", "phone": "98123 45678"})

    response = client.post(reverse("accounts:verify_phone"), {"action": "request", "phone": "98123 45678"})

    assert response.status_code == 400
    assert "Too many codes requested. Wait 10 minutes" in response.content.decode()
    assert PhoneOTP.objects.count() == 3


# --- Parent view ---------------------------------------------------------------------------------


# With one child the page redirects to that child's progress (tests/courses/test_parent_landing.py).
@pytest.mark.parametrize("children", [2, 50])
def test_parent_children_page_same_queries_for_2_and_50(client, django_assert_num_queries, children):
    parent = ParentFactory()
    for index in range(children):
        ParentLinkFactory(parent=parent, student=UserFactory(name=f"Child {index:02d}"), relation="MOTHER")
    ParentLinkFactory(student=UserFactory(name="Someone Else"))
    client.force_login(parent)
    client.get(reverse("accounts:parent_children"))  # warm the session and last-active marks

    # One query for all children (the session and its user are read from Redis).
    with django_assert_num_queries(1):
        response = client.get(reverse("accounts:parent_children"))

    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('class="card"') == children
    assert "Child 00" in content
    assert "Someone Else" not in content


def test_parent_page_is_for_parents_only(client):
    client.force_login(UserFactory())

    assert client.get(reverse("accounts:parent_children")).status_code == 403


@pytest.mark.parametrize("attempts", [1, 50])
def test_parent_sees_the_childs_courses_results_and_trend(
    client, django_assert_num_queries, submitted_attempt, attempts
):
    # Given a parent linked to a child with an enrollment and finished tests
    link = ParentLinkFactory()
    child = link.student
    EnrollmentFactory(user=child, course=CourseFactory(name="NEET Biology 2027"), status="ACTIVE")
    for index in range(attempts):
        submitted_attempt(user=child, correct=index % 10, minutes_ago=attempts - index)
    client.force_login(link.parent)
    client.get(reverse("accounts:parent_children"))

    # When the parent opens the child's page, first with a cold dashboard cache
    # (linked child, then the child's dashboard: enrollments with their counts, attempts; the parent is in Redis)
    with django_assert_num_queries(3):
        response = client.get(reverse("courses:parent_child", args=[child.pk]))
    with django_assert_num_queries(1):  # the linked child; the dashboard now comes from Redis
        client.get(reverse("courses:parent_child", args=[child.pk]))

    # Then courses, results and the trend are there
    content = response.content.decode()
    assert response.status_code == 200
    assert child.name in content
    assert "NEET Biology 2027" in content
    assert "Active" in content
    assert "<polyline" in content
    assert content.count("<circle") == min(attempts, 10)


def test_parent_can_open_the_childs_result_from_the_page(client, submitted_attempt):
    link = ParentLinkFactory()
    attempt = submitted_attempt(user=link.student, correct=7)
    client.force_login(link.parent)

    page = client.get(reverse("courses:parent_child", args=[link.student_id]))
    result_url = reverse("courses:attempt_result", args=[attempt.pk])

    assert f'href="{result_url}"' in page.content.decode()
    assert client.get(result_url).status_code == 200


def test_parent_gets_404_for_another_child(client):
    link = ParentLinkFactory()
    stranger = ParentLinkFactory().student
    client.force_login(link.parent)

    assert client.get(reverse("courses:parent_child", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("courses:parent_child", args=[987654])).status_code == 404
