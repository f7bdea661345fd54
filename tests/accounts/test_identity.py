"""One identity normalisation (issue 14 item 3) and the Indian mobile rule (item 2), on every path."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIRequestFactory

from accounts import services
from accounts.identity import PHONE_INPUT_PATTERN, identity_normalize, phone_normalize
from accounts.lockout import account_failures_recent, axes_username
from accounts.models import FreeUser, PhoneOTP, User
from cerebrum.errors import DomainError
from communications.models import CommunicationLog
from tests.factories import PracticeTestFactory, UserFactory

PASSWORD = "s3cret-Pass!"
STORED = "+919876510943"
TYPED_PHONES = ["09876510943", "9876510943", "919876510943", "+91-98765-10943", "00919876510943", " 98765 10943 "]
NOT_MOBILES = ["5123456789", "1234567890", "987651094", "98765109431", "+14155552671", "abc", ""]


@pytest.mark.parametrize("typed", TYPED_PHONES)
def test_every_way_of_typing_an_indian_mobile_is_one_key(typed):
    assert identity_normalize(typed) == STORED


@pytest.mark.parametrize("typed", ["Asha@Example.COM", " asha@example.com", "ASHA@EXAMPLE.COM "])
def test_emails_are_one_key_whatever_the_letter_case(typed):
    assert identity_normalize(typed) == "asha@example.com"


@pytest.mark.parametrize("typed", NOT_MOBILES)
def test_only_10_digit_mobiles_starting_6_to_9_are_phones(typed):
    with pytest.raises(ValueError, match="starting with 6, 7, 8 or 9"):
        phone_normalize(typed)


# --- Every login path uses it ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("typed", TYPED_PHONES)
def test_api_token_login_accepts_every_way_of_typing_the_phone(api_client, typed):
    # Issue 14 item 3's example: the API answered 401 where the web login accepted the same number.
    UserFactory(phone=STORED)

    response = api_client.post("/api/v1/auth/token", {"username": typed, "password": PASSWORD}, format="json")

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("typed", [*TYPED_PHONES, "Asha@Example.com"])
def test_web_login_accepts_every_way_of_typing_the_identity(client, typed):
    UserFactory(phone=STORED, email="asha@example.com")

    response = client.post(reverse("accounts:login"), {"username": typed, "password": PASSWORD})

    assert response.status_code == 302


@pytest.mark.django_db
def test_api_token_login_accepts_any_letter_case_of_the_email(api_client):
    UserFactory(email="asha@example.com")

    response = api_client.post(
        "/api/v1/auth/token", {"username": "ASHA@Example.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200


@pytest.mark.django_db
def test_sign_up_stores_the_key_and_a_second_sign_up_typed_differently_is_refused():
    services.user_register(password="Chloroplast-2027", name="Asha", phone="098765 10943", email="Asha@X.com")

    with pytest.raises(DomainError) as raised:
        services.user_register(password="Chloroplast-2027", name="Asha", phone="+91-98765-10943")

    assert User.objects.get().phone == STORED
    assert "phone" in raised.value.fields


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["5123456789", "12345"])
def test_api_sign_up_refuses_numbers_that_are_not_indian_mobiles(api_client, typed):
    body = {"name": "Asha", "phone": typed, "password": "Chloroplast-2027"}

    response = api_client.post("/api/v1/auth/register", body, format="json")

    assert response.status_code == 400
    assert "phone" in response.json()["error"]["fields"]
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_otp_request_refuses_a_landline_and_stores_the_key():
    user = UserFactory(phone=None)

    with pytest.raises(DomainError):
        services.otp_request(user=user, phone="5123456789")
    otp = services.otp_request(user=user, phone="0091 98765 10943")

    assert otp.phone == STORED
    assert PhoneOTP.objects.count() == 1


@pytest.mark.django_db
def test_free_test_form_refuses_a_landline(client):
    test = PracticeTestFactory(is_free=True, question_count=1)

    response = client.post(
        reverse("courses:test_start", args=[test.slug]), {"name": "Asha", "phone": "5123456789", "grade": "11"}
    )

    assert response.status_code == 400
    assert FreeUser.objects.count() == 0


@pytest.mark.django_db
def test_password_reset_by_otp_finds_the_account_typed_any_way(api_client, django_capture_on_commit_callbacks):
    UserFactory(email=None, phone=STORED)

    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/v1/auth/password/reset/otp", {"phone": "00919876510943"}, format="json")

    assert CommunicationLog.objects.filter(template="otp", recipient=STORED).count() == 1


def test_axes_counts_every_spelling_of_one_account_as_one_username():
    request = APIRequestFactory().post("/api/v1/auth/token")

    names = {axes_username(request, {"username": typed}) for typed in ["Asha@X.com", "asha@x.COM", " ASHA@x.com"]}
    phones = {axes_username(request, {"username": typed}) for typed in TYPED_PHONES}

    assert names == {"asha@x.com"}
    assert phones == {STORED}


@pytest.mark.django_db
def test_failures_typed_differently_count_against_one_account(api_client):
    UserFactory(email="asha@example.com")

    for number, typed in enumerate(["ASHA@example.com", "asha@EXAMPLE.com", "Asha@Example.com"]):
        api_client.post(
            "/api/v1/auth/token",
            {"username": typed, "password": "wrong"},
            format="json",
            REMOTE_ADDR=f"10.0.0.{number}",
        )

    assert account_failures_recent("asha@example.com") == 3


@given(typed=st.from_regex(PHONE_INPUT_PATTERN, fullmatch=True))
@hypothesis_settings(max_examples=300, deadline=None)
def test_every_phone_the_api_schema_allows_is_an_indian_mobile(typed):
    # The API states the rule as a pattern; a schema-valid phone must never be refused by the service.
    normalized = phone_normalize(typed)

    assert normalized.startswith("+91")
    assert normalized[3] in "6789"
    assert len(normalized) == 13
