"""Lockout sees the real client and the account key (issue 14 items 3 and 4).

django-axes locks one (account, client address) pair; one account gets at most 100 failed password
checks an hour whatever the addresses (OWASP ASVS V2.2.1); the client address comes from the
trusted-proxy count, and X-Forwarded-For entries beyond it are the client's own words.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts import services
from accounts.lockout import ACCOUNT_FAILURE_CAP, account_attempt_reserve, account_failures_recent
from cerebrum.client_ip import client_ip
from tests.factories import UserFactory

PASSWORD = "s3cret-Pass!"
TOKEN_URL = "/api/v1/auth/token"
NGINX = "10.0.0.254"  # what REMOTE_ADDR says behind the shipped nginx: nginx's own address


@pytest.fixture
def behind_nginx(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def _login(api_client, username: str, password: str, *, client: str, spoofed: str = ""):
    """A token request as nginx forwards it: the client's own X-Forwarded-For, then the address nginx saw."""
    forwarded = f"{spoofed}, {client}" if spoofed else client
    return api_client.post(
        TOKEN_URL,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=NGINX,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


# --- The client address -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.7", NGINX),  # no proxy configured: the header is the client's word only
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "1.2.3.4, 198.51.100.7", "198.51.100.7"),  # the left entry was written by the client
        (2, "1.2.3.4, 198.51.100.7, 10.0.0.9", "198.51.100.7"),  # a load balancer in front of nginx
        (1, "not-an-ip", NGINX),
        (1, "", NGINX),
    ],
)
def test_client_ip_trusts_only_as_many_hops_as_there_are_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    meta = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR=NGINX, **meta)

    assert client_ip(request) == expected


# --- Other people's failures never lock a learner out --------------------------------------------------


@pytest.mark.django_db
def test_five_failures_from_one_client_do_not_lock_the_right_password_from_another(api_client, behind_nginx):
    # Issue 14 item 4's example: behind nginx every request had nginx's address, so five failures by
    # anyone locked every learner out.
    user = UserFactory(email="asha@example.com")
    statuses = [_login(api_client, user.email, "wrong", client="203.0.113.5").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]

    # the parent at home, with the right password, signs in
    assert _login(api_client, user.email, PASSWORD, client="198.51.100.7").status_code == 200
    # and the client that failed five times stays locked, even with the right password
    assert _login(api_client, user.email, PASSWORD, client="203.0.113.5").status_code == 429


@pytest.mark.django_db
def test_failures_for_one_account_do_not_lock_another_account_on_the_same_network(api_client, behind_nginx):
    # Sibling: a coaching centre's Wi-Fi (one address) where one student forgets a password.
    forgetful, classmate = UserFactory(), UserFactory()
    for _ in range(5):
        _login(api_client, forgetful.email, "wrong", client="203.0.113.5")

    assert _login(api_client, classmate.email, PASSWORD, client="203.0.113.5").status_code == 200


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_is_not_trusted(api_client, behind_nginx):
    # The attacker claims to be the learner's address; nginx appends the address it really saw.
    user = UserFactory()
    for _ in range(5):
        _login(api_client, user.email, "wrong", client="203.0.113.5", spoofed="198.51.100.7")

    # the learner is not locked out by the spoofed claim ...
    assert _login(api_client, user.email, PASSWORD, client="198.51.100.7").status_code == 200
    # ... and the attacker cannot escape their own lock by changing the claim
    assert _login(api_client, user.email, PASSWORD, client="203.0.113.5", spoofed="192.0.2.77").status_code == 429


@pytest.mark.django_db
def test_five_letter_case_variants_from_one_client_lock_that_client(api_client, behind_nginx):
    user = UserFactory(email="asha@example.com")
    variants = ["ASHA@example.com", "asha@EXAMPLE.com", "Asha@Example.com", "aSHA@example.com", "asha@example.COM"]

    statuses = [_login(api_client, typed, "wrong", client="203.0.113.5").status_code for typed in variants]

    assert statuses == [401, 401, 401, 401, 429]
    assert _login(api_client, user.email, PASSWORD, client="203.0.113.5").status_code == 429


# --- One account: at most 100 failures an hour, whatever the addresses -----------------------------------


@pytest.mark.django_db
def test_letter_case_variants_from_many_addresses_hit_the_per_account_cap(api_client, behind_nginx):
    # Issue 14 item 3's example: five letter cases of one email, each from its own address, did not
    # count as one account. Now they count, and with 95 more the account reaches the hourly cap.
    user = UserFactory(email="asha@example.com")
    variants = ["ASHA@example.com", "asha@EXAMPLE.com", "Asha@Example.com", "aSHA@example.com", "asha@example.COM"]
    for number, typed in enumerate(variants):
        assert _login(api_client, typed, "wrong", client=f"198.18.0.{number + 1}").status_code == 401
    assert account_failures_recent("asha@example.com") == 5

    for number in range(ACCOUNT_FAILURE_CAP - 5):
        assert _login(api_client, user.email, "wrong", client=f"198.18.1.{number + 1}").status_code == 401

    capped = _login(api_client, user.email, PASSWORD, client="192.0.2.200")
    assert capped.status_code == 429
    assert capped.json()["error"]["code"] == "account_locked"
    assert "/accounts/password/reset/" in capped.json()["error"]["message"]
    assert int(capped["Retry-After"]) == 3600
    assert account_failures_recent("asha@example.com") == ACCOUNT_FAILURE_CAP


@pytest.mark.django_db
def test_a_new_password_lifts_the_per_account_cap(api_client, behind_nginx, django_capture_on_commit_callbacks):
    user = UserFactory(email="asha@example.com")
    for number in range(ACCOUNT_FAILURE_CAP):
        _login(api_client, user.email, "wrong", client=f"198.18.2.{number + 1}")
    assert _login(api_client, user.email, PASSWORD, client="192.0.2.1").status_code == 429

    with django_capture_on_commit_callbacks(execute=True):
        services.user_password_set(user=user, password="Chloroplast-2027")

    assert _login(api_client, user.email, "Chloroplast-2027", client="192.0.2.1").status_code == 200


@pytest.mark.django_db
def test_correct_passwords_do_not_count_towards_the_cap(api_client, behind_nginx):
    user = UserFactory(email="asha@example.com")
    for number in range(3):
        assert _login(api_client, user.email, PASSWORD, client=f"192.0.2.{number + 1}").status_code == 200

    assert account_failures_recent("asha@example.com") == 0


def test_simultaneous_attempts_never_pass_the_cap():
    # Each check reserves its slot before the password is compared: of 150 at once at most 100 pass
    # (a racing reserver may be refused a moment early, never one let through too many) ...
    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(lambda _: account_attempt_reserve("race@example.com"), range(150)))
    passed = sum(result is not None for result in results)
    assert passed <= ACCOUNT_FAILURE_CAP
    assert account_failures_recent("race@example.com") == passed

    # ... and the hour's slots, taken one by one afterwards, stop at exactly 100.
    later = [account_attempt_reserve("race@example.com") for _ in range(ACCOUNT_FAILURE_CAP)]
    assert passed + sum(result is not None for result in later) == ACCOUNT_FAILURE_CAP
    assert account_failures_recent("race@example.com") == ACCOUNT_FAILURE_CAP


# --- The message -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_lockout_page_says_what_happened_and_links_to_password_reset(client):
    user = UserFactory(email="asha@example.com")
    for _ in range(5):
        response = client.post(reverse("accounts:login"), {"username": user.email, "password": "wrong"})

    page = response.content.decode()
    assert response.status_code == 429
    assert "5 wrong passwords for this account from this device or network" in page
    assert f'href="{reverse("accounts:password_reset")}"' in page
    assert f'href="{reverse("accounts:password_reset_phone")}"' in page
