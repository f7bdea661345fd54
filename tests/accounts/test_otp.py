"""Phone verification: codes hashed at rest, 5-minute expiry, 5 tries, at most 3 requests per 10 minutes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts import services
from accounts.models import PhoneOTP, User
from accounts.tasks import otp_purge
from cerebrum.errors import DomainError
from communications.models import CommunicationLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PHONE = "+919812345678"


def _sent_code(otp: PhoneOTP) -> str:
    return CommunicationLog.objects.get(idempotency_key=f"otp:{otp.pk}:WHATSAPP").params["code"]


@pytest.fixture
def user():
    return UserFactory(phone=None, phone_verified=False)


def test_request_sends_a_whatsapp_code_and_stores_only_its_hash(user):
    otp = services.otp_request(user=user, phone="98123 45678")

    code = _sent_code(otp)
    message = CommunicationLog.objects.get()
    assert (message.template, message.channel, message.recipient) == ("otp", "WHATSAPP", PHONE)
    assert message.params["minutes"] == "5"
    assert len(code) == 6
    assert code.isdigit()
    stored = PhoneOTP.objects.get()
    assert code not in stored.code_hash
    assert stored.code_hash == services.otp_hash(PHONE, code)
    assert timedelta(minutes=4, seconds=58) <= stored.expires_at - stored.created_at <= timedelta(minutes=5)


def test_right_code_verifies_the_phone_once(user):
    otp = services.otp_request(user=user, phone=PHONE)

    services.otp_verify(user=user, code=_sent_code(otp))

    stored = User.objects.get(pk=user.pk)
    assert (stored.phone, stored.phone_verified) == (PHONE, True)
    assert PhoneOTP.objects.get().consumed_at is not None
    with pytest.raises(DomainError) as again:
        services.otp_verify(user=user, code=_sent_code(otp))
    assert again.value.code == "otp_missing"


def test_expired_code_is_refused(user):
    otp = services.otp_request(user=user, phone=PHONE)
    PhoneOTP.objects.filter(pk=otp.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(DomainError) as raised:
        services.otp_verify(user=user, code=_sent_code(otp))

    assert raised.value.code == "otp_expired"
    assert User.objects.get(pk=user.pk).phone_verified is False


def test_five_wrong_tries_kill_the_code_and_each_try_is_counted(user):
    otp = services.otp_request(user=user, phone=PHONE)
    right = _sent_code(otp)
    wrong = "000000" if right != "000000" else "111111"

    for expected_attempts in range(1, 6):
        with pytest.raises(DomainError) as raised:
            services.otp_verify(user=user, code=wrong)
        assert raised.value.code == "otp_wrong"
        assert PhoneOTP.objects.get().attempts == expected_attempts

    with pytest.raises(DomainError) as locked:
        services.otp_verify(user=user, code=right)
    assert locked.value.code == "otp_locked"
    assert User.objects.get(pk=user.pk).phone_verified is False


def test_at_most_three_requests_per_ten_minutes_per_user(user):
    for _ in range(3):
        services.otp_request(user=user, phone=PHONE)

    with pytest.raises(DomainError) as raised:
        services.otp_request(user=user, phone="+919812345679")

    assert raised.value.code == "rate_limited"
    assert PhoneOTP.objects.count() == 3
    assert CommunicationLog.objects.count() == 3


def test_at_most_three_requests_per_ten_minutes_per_phone():
    for _ in range(3):
        services.otp_request(user=UserFactory(phone=None), phone=PHONE)

    with pytest.raises(DomainError) as raised:
        services.otp_request(user=UserFactory(phone=None), phone=PHONE)

    assert raised.value.code == "rate_limited"


def test_the_window_slides(user):
    for _ in range(3):
        services.otp_request(user=user, phone=PHONE)
    PhoneOTP.objects.update(created_at=timezone.now() - timedelta(minutes=11))

    services.otp_request(user=user, phone=PHONE)

    assert PhoneOTP.objects.count() == 4


def test_latest_code_wins(user):
    services.otp_request(user=user, phone=PHONE)
    latest = services.otp_request(user=user, phone=PHONE)

    services.otp_verify(user=user, code=_sent_code(latest))

    assert User.objects.get(pk=user.pk).phone_verified is True


@pytest.mark.parametrize("phone", ["12345", "+14155552671", ""])
def test_request_refuses_a_bad_phone(user, phone):
    with pytest.raises(DomainError) as raised:
        services.otp_request(user=user, phone=phone)

    assert "phone" in raised.value.fields
    assert PhoneOTP.objects.count() == 0


def test_request_refuses_another_accounts_phone(user):
    UserFactory(phone=PHONE)

    with pytest.raises(DomainError) as raised:
        services.otp_request(user=user, phone=PHONE)

    assert raised.value.fields["phone"] == ["Already in use."]
    assert PhoneOTP.objects.count() == 0


def _race(count: int, action) -> list:
    """Run `action` in `count` threads released together; each returns its result or the exception."""
    barrier = threading.Barrier(count)

    def run():
        barrier.wait()
        try:
            return action()
        except DomainError as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: run(), range(count)))


@pytest.mark.django_db(transaction=True)
def test_simultaneous_wrong_guesses_cannot_exceed_five_tries():
    # Given a code waiting for verification
    user = UserFactory(phone=None)
    services.otp_request(user=user, phone=PHONE)

    # When eight wrong guesses arrive at the same moment (the sent code is redacted once delivered)
    outcomes = _race(8, lambda: services.otp_verify(user=user, code="not-the-code"))

    # Then exactly five were counted and the rest found the code dead
    codes = sorted(outcome.code for outcome in outcomes)
    assert codes == ["otp_locked"] * 3 + ["otp_wrong"] * 5
    assert PhoneOTP.objects.get().attempts == 5


@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_stay_within_the_limit():
    user = UserFactory(phone=None)

    outcomes = _race(6, lambda: services.otp_request(user=user, phone=PHONE))

    refused = [outcome for outcome in outcomes if isinstance(outcome, DomainError)]
    assert len(refused) == 3
    assert {outcome.code for outcome in refused} == {"rate_limited"}
    assert PhoneOTP.objects.count() == 3


def test_purge_drops_only_codes_expired_over_a_week_ago(user):
    old, recent = (services.otp_request(user=user, phone=PHONE) for _ in range(2))
    PhoneOTP.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=8))
    PhoneOTP.objects.filter(pk=recent.pk).update(expires_at=timezone.now() - timedelta(days=6))

    deleted = otp_purge.delay().get()

    assert deleted == 1
    assert list(PhoneOTP.objects.values_list("pk", flat=True)) == [recent.pk]
