"""Password reset (issue 14 item 10): the email goes through the outbox, known and unknown addresses
answer alike, and a learner with a mobile number only resets by a WhatsApp code (page and API)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import PhoneOTP, User
from communications.models import CommunicationLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-Pass!"
NEW_PASSWORD = "Chloroplast-2027"
PHONE = "+919876510943"
REFRESH_URL = "/api/v1/auth/token/refresh"


def _reset_path(body: str) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", body).group(1)


def _code(otp: PhoneOTP) -> str:
    return CommunicationLog.objects.get(idempotency_key=f"otp:{otp.pk}:WHATSAPP").params["code"]


def _run_tasks(capture, send):
    """Run `send()` and then the tasks it published after commit, leaving the messages unsent (the
    code stays readable in the outbox row; sending redacts it)."""
    with capture() as callbacks:
        response = send()
    for callback in callbacks:
        callback()
    return response


# --- By email, through the outbox -----------------------------------------------------------------


def test_password_reset_by_email_end_to_end_through_the_outbox(client, django_capture_on_commit_callbacks):
    # Given a learner who forgot their password
    user = UserFactory(email="asha@example.com")

    # When they ask for a reset (any letter case) and follow the emailed link
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "ASHA@Example.com"})
    assert response.url == reverse("accounts:password_reset_done")
    log = CommunicationLog.objects.get(template="password_reset")
    assert (log.channel, log.recipient, log.user_id) == ("EMAIL", "asha@example.com", user.pk)
    assert mail.outbox[0].subject == "Reset your Cerebrum password"
    form_page = client.get(_reset_path(mail.outbox[0].body), follow=True)
    assert form_page.status_code == 200
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    # Then the new password works and the old one does not
    assert done.url == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)


def test_the_reset_request_sends_nothing_inside_the_request(client, django_capture_on_commit_callbacks):
    # Old code sent the email (SMTP) inside the request: a known address answered slower than an unknown one.
    UserFactory(email="asha@example.com")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("accounts:password_reset"), {"email": "asha@example.com"})

    assert mail.outbox == []
    assert CommunicationLog.objects.count() == 0  # the lookup and the outbox row are the task's
    assert len(callbacks) == 1  # one task publish after commit


def test_known_and_unknown_addresses_get_the_same_answer_and_the_same_work(client, django_capture_on_commit_callbacks):
    UserFactory(email="asha@example.com")
    runs = {}
    for email in ("asha@example.com", "nobody@example.com"):
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as callbacks:
            response = client.post(reverse("accounts:password_reset"), {"email": email})
        runs[email] = (response.status_code, response.url, response.content, len(queries), len(callbacks))

    assert runs["asha@example.com"] == runs["nobody@example.com"]


def test_the_task_queues_a_link_only_for_a_known_address(client, django_capture_on_commit_callbacks):
    UserFactory(email="asha@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": "asha@example.com"})
        client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})

    assert list(CommunicationLog.objects.values_list("template", "recipient")) == [
        ("password_reset", "asha@example.com")
    ]
    assert len(mail.outbox) == 1


def test_password_reset_queues_at_most_three_links_an_hour_per_address(client, django_capture_on_commit_callbacks):
    UserFactory(email="asha@example.com")

    typed = ["asha@example.com", "ASHA@example.com", " Asha@Example.com ", "asha@EXAMPLE.com"]
    with django_capture_on_commit_callbacks(execute=True):
        responses = [client.post(reverse("accounts:password_reset"), {"email": email}) for email in typed]

    assert {response.url for response in responses} == {reverse("accounts:password_reset_done")}
    assert CommunicationLog.objects.filter(template="password_reset").count() == 3


def test_a_retried_task_sends_one_link(django_capture_on_commit_callbacks):
    from accounts import services

    UserFactory(email="asha@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        services.password_reset_send(email="asha@example.com", nonce="n1")
        services.password_reset_send(email="asha@example.com", nonce="n1")

    assert CommunicationLog.objects.filter(template="password_reset").count() == 1


def test_the_outbox_row_forgets_the_link_once_sent(client, django_capture_on_commit_callbacks):
    UserFactory(email="asha@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": "asha@example.com"})

    log = CommunicationLog.objects.get(template="password_reset")
    assert log.status == "SENT"
    assert "/password/reset/" not in str(log.params)


@pytest.mark.parametrize("email", ["asha@example.com", "nobody@example.com"])
def test_api_password_reset_is_202_for_known_and_unknown(api_client, email, django_capture_on_commit_callbacks):
    UserFactory(email="asha@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/auth/password/reset", {"email": email}, format="json")

    assert response.status_code == 202
    assert CommunicationLog.objects.filter(template="password_reset").count() == (email == "asha@example.com")


# --- By a WhatsApp code, for phone-only learners ---------------------------------------------------


def test_a_phone_only_learner_resets_the_password_by_otp_on_the_page(client, django_capture_on_commit_callbacks):
    # Given a learner who signed up with a mobile number only
    user = UserFactory(email=None, phone=PHONE)
    old_refresh = str(RefreshToken.for_user(user))

    # When they ask for a code (typed any way) and enter it with a new password
    page = reverse("accounts:password_reset_phone")
    sent = _run_tasks(
        django_capture_on_commit_callbacks, lambda: client.post(page, {"action": "send", "phone": "098765 10943"})
    )
    assert sent.status_code == 200
    otp = PhoneOTP.objects.get(user=user, purpose=PhoneOTP.Purpose.PASSWORD_RESET)
    done = client.post(
        reverse("accounts:password_reset_phone"),
        {"action": "confirm", "code": _code(otp), "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    # Then the new password works, the phone counts as proven, and old refresh tokens are dead
    assert done.url == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.phone_verified
    assert (
        client.post(reverse("accounts:login"), {"username": "9876510943", "password": NEW_PASSWORD}).status_code == 302
    )
    refreshed = client.post(REFRESH_URL, {"refresh": old_refresh}, content_type="application/json")
    assert refreshed.status_code == 401


def test_an_unknown_number_gets_the_same_page_the_same_work_and_nothing_is_sent(
    client, django_capture_on_commit_callbacks
):
    UserFactory(email=None, phone=PHONE)
    runs = {}
    for phone in (PHONE, "+919876599999"):
        browser = Client()
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as callbacks:
            response = browser.post(reverse("accounts:password_reset_phone"), {"action": "send", "phone": phone})
        body = response.content.decode().replace(phone, "NUMBER")
        runs[phone] = (response.status_code, len(queries), len(callbacks), "a 6-digit code is on its way" in body)
        for callback in callbacks:
            callback()

    assert runs[PHONE] == runs["+919876599999"]
    assert PhoneOTP.objects.count() == 1


def test_a_wrong_code_uses_a_try_and_changes_nothing(client, django_capture_on_commit_callbacks):
    user = UserFactory(email=None, phone=PHONE)
    page = reverse("accounts:password_reset_phone")
    _run_tasks(django_capture_on_commit_callbacks, lambda: client.post(page, {"action": "send", "phone": PHONE}))
    otp = PhoneOTP.objects.get()
    wrong = "000000" if _code(otp) != "000000" else "111111"

    response = client.post(
        reverse("accounts:password_reset_phone"),
        {"action": "confirm", "code": wrong, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 400
    otp.refresh_from_db()
    assert otp.attempts == 1
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_phone_verification_code_cannot_reset_the_password(api_client):
    # The two purposes never share codes: a code sent to verify a number is not a reset code.
    from accounts import services

    user = UserFactory(email=None, phone=PHONE)
    otp = services.otp_request(user=user, phone=PHONE)

    response = api_client.post(
        "/api/v1/auth/password/reset/otp/confirm",
        {"phone": PHONE, "code": _code(otp), "password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_api_password_reset_by_otp(api_client, django_capture_on_commit_callbacks):
    user = UserFactory(email=None, phone=PHONE)

    url = "/api/v1/auth/password/reset/otp"
    asked = _run_tasks(
        django_capture_on_commit_callbacks, lambda: api_client.post(url, {"phone": "+91-98765-10943"}, format="json")
    )
    unknown = _run_tasks(
        django_capture_on_commit_callbacks, lambda: api_client.post(url, {"phone": "+919876599999"}, format="json")
    )
    otp = PhoneOTP.objects.get(user=user)
    confirmed = api_client.post(
        "/api/v1/auth/password/reset/otp/confirm",
        {"phone": "09876510943", "code": _code(otp), "password": NEW_PASSWORD},
        format="json",
    )

    assert (asked.status_code, unknown.status_code, confirmed.status_code) == (202, 202, 204)
    token = api_client.post("/api/v1/auth/token", {"username": "9876510943", "password": NEW_PASSWORD}, format="json")
    assert token.status_code == 200


def test_api_password_reset_by_otp_refuses_a_landline(api_client):
    response = api_client.post("/api/v1/auth/password/reset/otp", {"phone": "5123456789"}, format="json")

    assert response.status_code == 400
    assert "phone" in response.json()["error"]["fields"]


def test_the_otp_reset_confirm_says_nothing_about_whether_a_number_has_an_account(api_client):
    # Given one number with an account and one without
    UserFactory(email=None, phone=PHONE)
    url = "/api/v1/auth/password/reset/otp/confirm"

    # When both get a wrong code with a password the validators refuse
    answers = [
        api_client.post(url, {"phone": phone, "code": "000000", "password": "12345678"}, format="json")
        for phone in (PHONE, "+919876599999")
    ]

    # Then both answers are the same (no account enumeration), and the password is named
    assert answers[0].status_code == answers[1].status_code == 400
    assert answers[0].json() == answers[1].json()
    assert "password" in answers[0].json()["error"]["fields"]
