"""OTP through the outbox: it ignores quiet hours and opt-outs, expires, and its code leaves the outbox."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts.models import PhoneOTP
from accounts.services import otp_request, otp_verify
from cerebrum.errors import DomainError
from communications.models import CommunicationLog
from communications.services import channel_preference_set, message_deliver
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status = CommunicationLog.Status
NIGHT = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)  # 23:00 IST, inside quiet hours
PHONE = "+919876501234"


@pytest.fixture
def at():
    with mock.patch.object(timezone, "now", return_value=NIGHT) as clock:
        yield clock


def test_otp_at_night_to_an_opted_out_learner_is_sent_at_once_and_redacted(at, django_capture_on_commit_callbacks):
    user = UserFactory(phone=None)
    channel_preference_set(user=user, channel="WHATSAPP", opted_in=False)

    with django_capture_on_commit_callbacks(execute=True):
        otp = otp_request(user=user, phone=PHONE)

    row = CommunicationLog.objects.get(template="otp")
    assert (row.channel, row.recipient, row.status, row.scheduled_for) == ("WHATSAPP", PHONE, Status.SENT, NIGHT)
    assert row.params == {"code": "••••••", "minutes": "5"}
    assert otp.code_hash not in ("", row.params["code"])


def test_code_from_the_outbox_verifies_within_five_minutes(at, django_capture_on_commit_callbacks):
    user = UserFactory(phone=None)
    with django_capture_on_commit_callbacks(execute=False):
        otp_request(user=user, phone=PHONE)
    code = CommunicationLog.objects.get(template="otp").params["code"]

    at.return_value = NIGHT + timedelta(minutes=4)
    verified = otp_verify(user=user, code=code)

    assert (verified.phone, verified.phone_verified) == (PHONE, True)


def test_expired_code_is_refused(at):
    user = UserFactory(phone=None)
    otp_request(user=user, phone=PHONE)
    code = CommunicationLog.objects.get(template="otp").params["code"]

    at.return_value = NIGHT + timedelta(minutes=5, seconds=1)
    with pytest.raises(DomainError) as refused:
        otp_verify(user=user, code=code)

    assert refused.value.code == "otp_expired"


def test_five_wrong_tries_lock_the_code(at):
    user = UserFactory(phone=None)
    otp_request(user=user, phone=PHONE)
    code = CommunicationLog.objects.get(template="otp").params["code"]
    wrong = "000000" if code != "000000" else "111111"

    codes = []
    for _ in range(5):
        with pytest.raises(DomainError) as refused:
            otp_verify(user=user, code=wrong)
        codes.append(refused.value.code)
    with pytest.raises(DomainError) as locked:
        otp_verify(user=user, code=code)

    assert codes == ["otp_wrong"] * 5
    assert locked.value.code == "otp_locked"


def test_requests_are_rate_limited_and_refused_ones_send_nothing(at):
    user = UserFactory(phone=None)
    for _ in range(3):
        otp_request(user=user, phone=PHONE)

    with pytest.raises(DomainError) as refused:
        otp_request(user=user, phone=PHONE)

    assert refused.value.code == "rate_limited"
    assert CommunicationLog.objects.filter(template="otp").count() == PhoneOTP.objects.count() == 3


def test_otp_not_sent_within_five_minutes_is_dropped_not_sent_late(at, django_capture_on_commit_callbacks):
    user = UserFactory(phone=None)
    with django_capture_on_commit_callbacks(execute=False):
        otp_request(user=user, phone=PHONE)
    row = CommunicationLog.objects.get(template="otp")

    at.return_value = NIGHT + timedelta(minutes=6)
    message_deliver(log_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.error, row.params["code"]) == (Status.FAILED, "expired before it could be sent", "••••••")
