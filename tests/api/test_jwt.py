"""JWT: obtain with email or phone, refresh rotation with blacklist, logout, and the tokens that must fail."""

from __future__ import annotations

import base64
from datetime import timedelta

import orjson
import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import AuthLog
from tests.factories import UserFactory

PASSWORD = "s3cret-Pass!"
TOKEN_URL = "/api/v1/auth/token"
REFRESH_URL = "/api/v1/auth/token/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
PROTECTED_URL = "/api/v1/auth/logout"


def obtain(api_client, username: str, password: str = PASSWORD):
    return api_client.post(TOKEN_URL, {"username": username, "password": password}, format="json")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


@pytest.mark.django_db
@pytest.mark.parametrize("identifier", ["email", "phone"])
def test_token_obtain_with_email_or_phone(api_client, identifier):
    # given a learner with both an email and a phone
    user = UserFactory()
    # when they sign in with either
    response = obtain(api_client, getattr(user, identifier))
    # then they get an access token for themselves and a refresh token
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert AccessToken(response.json()["access"])["user_id"] == str(user.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "nobody@example.com", "password": PASSWORD}, 401, "no_active_account"),
        ({"username": "student-wrong"}, 400, "invalid"),
        ({"username": "x", "password": "y", "role": "ADMIN"}, 400, "invalid"),
    ],
)
def test_token_obtain_refusals(api_client, body, status, code):
    response = api_client.post(TOKEN_URL, body, format="json")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


@pytest.mark.django_db
def test_token_obtain_wrong_password_is_401_and_inactive_user_too(api_client):
    user = UserFactory()
    inactive = UserFactory(is_active=False)
    assert obtain(api_client, user.email, "wrong-password").status_code == 401
    assert obtain(api_client, inactive.email).status_code == 401


@pytest.mark.django_db
def test_refresh_rotates_and_the_old_refresh_token_is_refused(api_client):
    # given a signed-in learner
    tokens = obtain(api_client, UserFactory().email).json()
    # when they refresh once
    first = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")
    # then they get a new pair, and the used refresh token no longer works
    assert first.status_code == 200
    assert first.json()["refresh"] != tokens["refresh"]
    reused = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_not_valid"
    again = api_client.post(REFRESH_URL, {"refresh": first.json()["refresh"]}, format="json")
    assert again.status_code == 200


@pytest.mark.django_db
def test_logout_blacklists_the_refresh_token(api_client):
    user = UserFactory()
    tokens = obtain(api_client, user.email).json()
    response = api_client.post(LOGOUT_URL, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 204
    assert AuthLog.objects.filter(event="LOGOUT", user=user).count() == 1
    assert api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert api_client.post(LOGOUT_URL, {"refresh": tokens["refresh"]}, format="json").status_code == 401


@pytest.mark.django_db
def test_refresh_for_a_deleted_user_is_401_not_500(api_client):
    user = UserFactory()
    tokens = obtain(api_client, user.email).json()
    user.delete()
    response = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 401


def _bad_access_tokens(user) -> dict[str, str]:
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    valid = AccessToken.for_user(user)
    header, payload, _signature = str(valid).split(".")
    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    forged = f"{header}.{payload}.{_b64({'x': 'not-the-signature'})}"
    return {"expired": str(expired), "alg_none": alg_none, "forged": forged, "garbage": "not.a.jwt"}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["expired", "alg_none", "forged", "garbage"])
def test_bad_access_tokens_are_401(api_client, kind):
    # given a token that must not authenticate
    user = UserFactory()
    token = _bad_access_tokens(user)[kind]
    # when it is used on an endpoint that needs a signed-in user
    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    # then the request is refused as unauthenticated, in the error shape
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"token_not_valid", "not_authenticated"}
    assert "WWW-Authenticate" in response
