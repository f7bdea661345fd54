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


# --- Tokens end with the password; rotation is atomic (issue 14 item 5) -------------------------------


def _refresh(api_client, refresh: str):
    return api_client.post(REFRESH_URL, {"refresh": refresh}, format="json")


@pytest.mark.django_db
def test_a_password_reset_revokes_every_refresh_and_access_token(api_client):
    # Issue 14 item 5's example: a refresh token issued before a reset kept minting access tokens.
    from accounts import services

    user = UserFactory()
    phone_app, laptop = obtain(api_client, user.email).json(), obtain(api_client, user.email).json()

    services.user_password_set(user=user, password="Chloroplast-2027")

    assert _refresh(api_client, phone_app["refresh"]).status_code == 401
    assert _refresh(api_client, laptop["refresh"]).status_code == 401
    me = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {laptop['access']}")
    assert me.status_code == 401
    assert obtain(api_client, user.email, "Chloroplast-2027").status_code == 200


@pytest.mark.django_db
def test_a_password_set_outside_the_services_still_ends_the_tokens(api_client):
    # Sibling: `manage.py changepassword` or a shell save; the token's password digest no longer matches.
    user = UserFactory()
    tokens = obtain(api_client, user.email).json()

    user.set_password("Chloroplast-2027")
    user.save()

    assert _refresh(api_client, tokens["refresh"]).status_code == 401


@pytest.mark.django_db
def test_the_admins_password_change_revokes_the_learners_tokens(api_client, admin_client):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    user = UserFactory()
    tokens = obtain(api_client, user.email).json()

    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "Chloroplast-2027", "password2": "Chloroplast-2027", "usable_password": "true"},
    )

    assert response.status_code == 302
    assert _refresh(api_client, tokens["refresh"]).status_code == 401
    assert not OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["service", "admin"])
def test_deactivation_revokes_every_refresh_token(api_client, admin_client, how):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from accounts import services

    user = UserFactory()
    tokens = obtain(api_client, user.email).json()

    if how == "service":
        services.user_deactivate(user=user)
    else:
        page = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")
        form = page.context["adminform"].form
        data = {key: value for key, value in form.initial.items() if value is not None and key != "password"}
        data.update(
            is_active="",
            profile="{}",
            first_touch="{}",
            last_touch="{}",
            groups=[],
            user_permissions=[],
            **{"child_links-TOTAL_FORMS": 0, "parent_links-TOTAL_FORMS": 0},
            **{"parent_links-INITIAL_FORMS": 0, "child_links-INITIAL_FORMS": 0},
        )
        admin_client.post(f"/admin/accounts/user/{user.pk}/change/", data)
        user.refresh_from_db()
        assert not user.is_active

    assert _refresh(api_client, tokens["refresh"]).status_code == 401
    assert not OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).exists()


@pytest.mark.django_db
def test_a_rotated_refresh_token_cannot_be_used_twice_even_after_its_successor(api_client):
    tokens = obtain(api_client, UserFactory().email).json()
    second = _refresh(api_client, tokens["refresh"]).json()
    third = _refresh(api_client, second["refresh"])

    assert third.status_code == 200
    assert _refresh(api_client, tokens["refresh"]).status_code == 401
    assert _refresh(api_client, second["refresh"]).status_code == 401


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trial", range(3))
def test_exactly_one_of_ten_simultaneous_refreshes_succeeds(live_server, trial):
    # Issue 14 item 5's example: ten simultaneous refreshes gave two valid pairs in 4 of 5 trials.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests

    user = UserFactory()
    url = f"{live_server.url}{TOKEN_URL}"
    refresh = requests.post(url, json={"username": user.email, "password": PASSWORD}, timeout=30).json()["refresh"]
    start = threading.Barrier(10)

    def race(_):
        start.wait()
        return requests.post(f"{live_server.url}{REFRESH_URL}", json={"refresh": refresh}, timeout=60)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(race, range(10)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * 9
    winner = next(response.json() for response in responses if response.status_code == 200)
    follow_up = requests.post(f"{live_server.url}{REFRESH_URL}", json={"refresh": winner["refresh"]}, timeout=30)
    assert follow_up.status_code == 200
