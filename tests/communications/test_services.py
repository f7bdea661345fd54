from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from cerebrum.errors import DomainError
from communications.catalog import template_get
from communications.models import Channel, CommunicationLog
from communications.providers import email_message_id
from communications.services import (
    channel_preference_set,
    delivery_receipt_record,
    message_deliver,
    message_enqueue,
    message_retry,
    outbox_relay,
    quiet_hours_release,
    retry_delay,
)
from communications.services import outbox as services
from communications.tasks import message_send
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status = CommunicationLog.Status
IST_OFFSET = timedelta(hours=5, minutes=30)
DAYTIME = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 11:30 IST


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - IST_OFFSET


def enqueue_welcome(user, **kwargs):
    defaults = {"template": "welcome", "context": {}, "idempotency_key": f"welcome:{user.pk}", "user": user}
    return message_enqueue(**{**defaults, **kwargs})


@pytest.fixture
def daytime():
    with mock.patch.object(timezone, "now", return_value=DAYTIME):
        yield DAYTIME


def test_committed_message_is_sent_once_with_its_row_message_id(django_capture_on_commit_callbacks, daytime):
    # Given a learner
    user = UserFactory(name="Asha Verma")

    # When a welcome is enqueued in a committed transaction
    with django_capture_on_commit_callbacks(execute=True):
        rows = enqueue_welcome(user, channels=["EMAIL"])

    # Then exactly one email went out, identified by the row's deterministic Message-ID
    row = CommunicationLog.objects.get(pk=rows[0].pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert mail.outbox[0].subject == "Welcome to Cerebrum, Asha Verma"
    assert mail.outbox[0].extra_headers["Message-ID"] == email_message_id(row) == row.provider_message_id
    assert (row.status, row.attempts, row.claimed_at, row.params) == (Status.SENT, 1, None, {"name": "Asha Verma"})


def test_rolled_back_transaction_writes_and_sends_nothing(django_capture_on_commit_callbacks):
    user = UserFactory()

    def enroll_and_fail():
        with transaction.atomic():
            enqueue_welcome(user)
            raise RuntimeError("the enrollment failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        enroll_and_fail()

    assert callbacks == []
    assert CommunicationLog.objects.count() == 0
    assert mail.outbox == []


def test_task_delivered_twice_sends_once(daytime):
    user = UserFactory()
    with transaction.atomic():
        (row,) = enqueue_welcome(user, channels=["EMAIL"])

    message_send(row.pk)
    message_send(row.pk)

    assert len(mail.outbox) == 1
    assert CommunicationLog.objects.get(pk=row.pk).attempts == 1


def test_enqueue_is_idempotent_by_key(django_capture_on_commit_callbacks, daytime):
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        first = enqueue_welcome(user)
        second = enqueue_welcome(user)

    assert [r.pk for r in first] == [r.pk for r in second]
    assert sorted(CommunicationLog.objects.values_list("channel", flat=True)) == ["EMAIL", "WHATSAPP"]
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("channel", "recipient"),
    [
        ("EMAIL", "not-an-email"),
        ("EMAIL", "learner@"),
        ("WHATSAPP", "+911234567890"),
        ("WHATSAPP", "9812345678"),
        ("WHATSAPP", "+91981234567"),
        ("WHATSAPP", "+9198123456789"),
        ("SMS", "+14155550100"),
    ],
)
def test_invalid_explicit_recipient_is_refused_and_nothing_written(channel, recipient):
    with pytest.raises(DomainError) as refused:
        message_enqueue(
            template="otp", context={"code": "123456"}, idempotency_key="otp:1", channels=[channel], recipient=recipient
        )

    assert list(refused.value.fields) == ["recipient"]
    assert CommunicationLog.objects.count() == 0


def test_invalid_phone_on_profile_fails_at_creation_and_is_never_relayed(django_capture_on_commit_callbacks, daytime):
    user = UserFactory(phone="+910000000000")

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_welcome(user, channels=["WHATSAPP"])

    row = CommunicationLog.objects.get()
    assert (row.status, row.attempts, row.enqueued_at) == (Status.FAILED, 0, None)
    assert row.error.startswith("refused at creation: Enter an Indian mobile number")
    assert outbox_relay(now=DAYTIME + timedelta(hours=1)) == []


@pytest.mark.parametrize(
    ("template", "context", "field"),
    [("no_such_template", {}, "template"), ("otp", {}, "context"), ("enrollment_confirmed", {}, "context")],
)
def test_unknown_template_or_missing_context_is_refused(template, context, field):
    user = UserFactory()

    with pytest.raises(DomainError) as refused:
        message_enqueue(template=template, context=context, idempotency_key="k", user=user)

    assert list(refused.value.fields) == [field]
    assert CommunicationLog.objects.count() == 0


def test_both_channels_opted_out_transactional_falls_back_to_email_and_otp_still_goes(
    django_capture_on_commit_callbacks, daytime
):
    user = UserFactory()
    channel_preference_set(user=user, channel=Channel.WHATSAPP, opted_in=False)
    channel_preference_set(user=user, channel=Channel.EMAIL, opted_in=False)

    with django_capture_on_commit_callbacks(execute=True):
        welcome = enqueue_welcome(user)
        otp = message_enqueue(
            template="otp", context={"code": "482913"}, idempotency_key="otp:1", user=user, channels=["WHATSAPP"]
        )

    assert [r.channel for r in welcome] == ["EMAIL"]
    assert sorted((r.channel, r.template, r.status) for r in CommunicationLog.objects.all()) == [
        ("EMAIL", "welcome", Status.SENT),
        ("WHATSAPP", "otp", Status.SENT),
    ]
    assert CommunicationLog.objects.get(pk=otp[0].pk).status == Status.SENT


def test_opting_back_in_restores_the_channel(daytime):
    user = UserFactory()
    channel_preference_set(user=user, channel=Channel.EMAIL, opted_in=False)
    channel_preference_set(user=user, channel=Channel.EMAIL, opted_in=True)

    rows = enqueue_welcome(user, channels=["EMAIL"])

    assert [r.channel for r in rows] == ["EMAIL"]


@pytest.mark.parametrize(
    ("created", "released"),
    [
        (ist(26, 9, 0), ist(26, 9, 0)),
        (ist(26, 14, 30), ist(26, 14, 30)),
        (ist(26, 20, 59), ist(26, 20, 59)),
        (ist(26, 21, 0), ist(27, 9, 0)),
        (ist(26, 23, 45), ist(27, 9, 0)),
        (ist(27, 0, 10), ist(27, 9, 0)),
        (ist(27, 8, 59), ist(27, 9, 0)),
    ],
)
def test_quiet_hours_release_at_nine_ist(created, released):
    assert quiet_hours_release(created) == released


def test_marketing_at_night_waits_for_nine_on_every_channel_but_transactional_and_otp_go_now(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()
    night = ist(26, 23, 0)

    with mock.patch.object(timezone, "now", return_value=night), django_capture_on_commit_callbacks(execute=True):
        enqueue_welcome(user)
        message_enqueue(template="inactivity_nudge", context={}, idempotency_key="nudge:1", user=user)
        message_enqueue(
            template="otp", context={"code": "111111"}, idempotency_key="otp:1", user=user, channels=["WHATSAPP"]
        )

    rows = {(r.template, r.channel): r for r in CommunicationLog.objects.all()}
    for channel in ("EMAIL", "WHATSAPP"):
        held = rows["inactivity_nudge", channel]
        assert (held.status, held.scheduled_for, held.enqueued_at) == (Status.QUEUED, ist(27, 9, 0), None)
        assert rows["welcome", channel].status == Status.SENT
    assert rows["otp", "WHATSAPP"].status == Status.SENT
    deferred = rows["inactivity_nudge", "WHATSAPP"]
    assert outbox_relay(now=ist(27, 8, 59)) == []
    # At 09:00 the relay publishes it (tasks run inline here) and it is sent.
    with mock.patch.object(timezone, "now", return_value=ist(27, 9, 0)):
        assert sorted(outbox_relay()) == sorted(r.pk for (t, _), r in rows.items() if t == "inactivity_nudge")
    assert CommunicationLog.objects.get(pk=deferred.pk).status == Status.SENT


def make_row(**fields) -> CommunicationLog:
    defaults = {
        "channel": Channel.EMAIL,
        "template": "welcome",
        "params": {"name": "Asha"},
        "recipient": "asha@example.com",
        "idempotency_key": f"k:{CommunicationLog.objects.count()}",
        "scheduled_for": DAYTIME - timedelta(minutes=10),
        "enqueued_at": DAYTIME - timedelta(minutes=10),
    }
    return CommunicationLog.objects.create(**{**defaults, **fields})


@pytest.mark.parametrize(
    ("fields", "relayed"),
    [
        ({}, True),
        ({"enqueued_at": None}, True),
        ({"enqueued_at": DAYTIME - timedelta(seconds=30)}, False),
        ({"scheduled_for": DAYTIME + timedelta(minutes=1), "enqueued_at": None}, False),
        ({"claimed_at": DAYTIME - timedelta(seconds=30)}, False),
        ({"claimed_at": DAYTIME - timedelta(minutes=5)}, True),
        ({"status": Status.SENT}, False),
        ({"status": Status.FAILED}, False),
    ],
)
def test_relay_republishes_only_lost_or_abandoned_rows(fields, relayed):
    row = make_row(**fields)

    with mock.patch("communications.tasks.message_send.delay") as publish:
        ids = outbox_relay(now=DAYTIME)

    assert ids == ([row.pk] if relayed else [])
    assert publish.call_count == (1 if relayed else 0)


def test_relay_does_not_republish_what_it_just_published():
    make_row()

    with mock.patch("communications.tasks.message_send.delay"):
        first = outbox_relay(now=DAYTIME)
        second = outbox_relay(now=DAYTIME + timedelta(seconds=10))

    assert (len(first), second) == (1, [])


def test_a_live_claim_is_not_taken_twice(daytime):
    row = make_row(claimed_at=DAYTIME - timedelta(seconds=5))

    assert message_deliver(log_id=row.pk) is None

    assert mail.outbox == []
    assert CommunicationLog.objects.get(pk=row.pk).attempts == 0


def test_an_expired_claim_is_taken_over(daytime):
    row = make_row(claimed_at=DAYTIME - timedelta(seconds=django_settings.COMMUNICATIONS_CLAIM_LEASE_SECONDS + 1))

    message_deliver(log_id=row.pk)

    assert len(mail.outbox) == 1
    assert CommunicationLog.objects.get(pk=row.pk).status == Status.SENT


@pytest.mark.parametrize("attempt", [1, 2, 3, 6, 12])
def test_retry_delay_is_exponential_with_jitter(attempt, settings):
    settings.COMMUNICATIONS_RETRY_BASE_SECONDS = 30
    ceiling = min(30 * 2 ** (attempt - 1), 3600)

    delays = {retry_delay(attempt) for _ in range(20)}

    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(delays) > 1


def test_temporary_errors_retry_then_dead_letter_after_max_attempts(settings, daytime):
    settings.COMMUNICATIONS_MAX_ATTEMPTS = 3
    row = make_row()
    flaky = mock.patch("communications.providers.send", side_effect=TimeoutError("smtp timed out"))

    with flaky:
        delays = []
        for _ in range(3):
            delays.append(message_deliver(log_id=row.pk))
            CommunicationLog.objects.filter(pk=row.pk).update(scheduled_for=DAYTIME)

    row.refresh_from_db()
    assert delays[2] is None
    assert all(d > 0 for d in delays[:2])
    assert (row.status, row.attempts, row.claimed_at) == (Status.FAILED, 3, None)
    assert row.error == "gave up after 3 attempts: TimeoutError: smtp timed out"


def test_retry_is_scheduled_after_its_backoff(settings, daytime):
    row = make_row()

    with mock.patch("communications.providers.send", side_effect=ConnectionRefusedError("down")):
        delay = message_deliver(log_id=row.pk)

    row.refresh_from_db()
    assert row.status == Status.QUEUED
    assert row.scheduled_for == row.enqueued_at == DAYTIME + timedelta(seconds=delay)
    assert row.error == "ConnectionRefusedError: down"
    # Not due yet: a duplicate task does nothing.
    assert message_deliver(log_id=row.pk) is None
    assert CommunicationLog.objects.get(pk=row.pk).attempts == 1


def test_staff_retry_requeues_a_dead_letter_and_sends_it(django_capture_on_commit_callbacks, daytime):
    row = make_row(status=Status.FAILED, attempts=6, error="gave up")

    with django_capture_on_commit_callbacks(execute=True):
        message_retry(log=row)

    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == (Status.SENT, 1, "")
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("status", [Status.QUEUED, Status.SENT, Status.DELIVERED])
def test_staff_retry_refuses_rows_that_are_not_failed(status):
    row = make_row(status=status)

    with pytest.raises(DomainError):
        message_retry(log=row)

    assert CommunicationLog.objects.get(pk=row.pk).status == status


@pytest.mark.parametrize(
    ("current", "receipt", "expected"),
    [
        (Status.SENT, "delivered", Status.DELIVERED),
        (Status.SENT, "read", Status.READ),
        (Status.DELIVERED, "read", Status.READ),
        (Status.READ, "delivered", Status.READ),
        (Status.SENT, "failed", Status.FAILED),
        (Status.READ, "failed", Status.READ),
        (Status.SENT, "sent", Status.SENT),
        (Status.QUEUED, "delivered", Status.QUEUED),
    ],
)
def test_receipts_only_move_forward(current, receipt, expected):
    row = make_row(status=current, provider_message_id="wamid.1")

    delivery_receipt_record(provider_message_id="wamid.1", status=receipt)

    assert CommunicationLog.objects.get(pk=row.pk).status == expected


def test_enqueue_query_count_is_flat(django_assert_max_num_queries, daytime):
    user = UserFactory()

    with django_assert_max_num_queries(7):
        enqueue_welcome(user)


def test_send_uses_five_queries(django_assert_num_queries, daytime):
    # claim UPDATE, read the row, suppression list, the learner's consent, record UPDATE
    row = make_row(user=UserFactory())

    with django_assert_num_queries(5):
        message_deliver(log_id=row.pk)


def test_service_constants_match_the_issue():
    assert (services.QUIET_START_HOUR, services.QUIET_END_HOUR) == (21, 9)


def test_a_key_inserted_concurrently_does_not_drop_the_other_rows(django_capture_on_commit_callbacks, daytime):
    # Given a row for the EMAIL key that appeared after the caller checked for existing keys
    user = UserFactory()
    theirs = make_row(idempotency_key=f"welcome:{user.pk}:EMAIL")
    fresh = [
        services._outbox_row(
            template_get("welcome"),
            "TRANSACTIONAL",
            channel,
            to,
            {"name": "Asha"},
            user,
            f"welcome:{user.pk}:{channel}",
        )
        for channel, to in (("EMAIL", user.email), ("WHATSAPP", user.phone))
    ]
    existing = {}

    # When both are inserted
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services._insert_new(fresh, existing)

    # Then theirs wins for EMAIL, ours is written for WHATSAPP, and only ours is published
    assert existing[f"welcome:{user.pk}:EMAIL"].pk == theirs.pk
    assert existing[f"welcome:{user.pk}:WHATSAPP"].channel == "WHATSAPP"
    assert CommunicationLog.objects.count() == 2
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_row_send_it_once():
    # Given one due row and eight workers racing for it on real PostgreSQL connections
    import threading

    from django.db import connection

    row = make_row(scheduled_for=timezone.now() - timedelta(seconds=1))
    barrier = threading.Barrier(8)

    def race():
        try:
            barrier.wait()
            message_deliver(log_id=row.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then exactly one claim won
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 1)
    assert len(mail.outbox) == 1
