"""The outbox against real peers: Celery worker processes on a Redis broker, a local SMTP server."""

from collections import Counter
from unittest import mock

import pytest
from django.db import transaction

from communications.models import CommunicationLog
from communications.services import message_enqueue, outbox_relay
from communications.tasks import message_send
from tests.conftest import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
Status = CommunicationLog.Status
# Short leases so the test heals a killed worker in seconds; the worker gets the same values.
LEASE_SECONDS = 4
RELAY_AFTER_SECONDS = 3


@pytest.fixture(autouse=True)
def sends_only_in_workers():
    """Fails the test if a message is sent by the test process itself (tasks running inline)."""
    with mock.patch("communications.providers.send") as inline_send:
        yield
    assert inline_send.call_count == 0


@pytest.fixture
def outbox_env(settings, smtp_settings):
    settings.COMMUNICATIONS_CLAIM_LEASE_SECONDS = LEASE_SECONDS
    settings.COMMUNICATIONS_RELAY_AFTER_SECONDS = RELAY_AFTER_SECONDS
    return {
        **smtp_settings,
        "COMMUNICATIONS_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
        "COMMUNICATIONS_RELAY_AFTER_SECONDS": str(RELAY_AFTER_SECONDS),
    }


def enqueue_batch(count: int, prefix: str = "batch") -> list[int]:
    ids = []
    with transaction.atomic():
        for n in range(count):
            rows = message_enqueue(
                template="welcome",
                context={"name": f"Learner {n}"},
                idempotency_key=f"{prefix}:{n}",
                channels=["EMAIL"],
                recipient=f"learner{n}@example.com",
            )
            ids.extend(row.pk for row in rows)
    return ids


def sent_count() -> int:
    return CommunicationLog.objects.filter(status=Status.SENT).count()


def test_200_messages_give_exactly_200_emails_one_per_row(celery_worker_factory, smtp_sink, outbox_env):
    # Given a worker on the communications queue sending through a real SMTP server
    celery_worker_factory(queues="communications", extra_env=outbox_env)

    # When 200 messages are committed
    enqueue_batch(200)

    # Then every row is SENT and the server received exactly one email per row
    assert wait_until(lambda: sent_count() == 200, timeout=120)
    expected = set(CommunicationLog.objects.values_list("provider_message_id", flat=True))
    received = smtp_sink.message_ids()
    assert len(expected) == 200
    assert set(received) == expected
    assert sum(received.values()) == 200
    assert Counter(r for m in smtp_sink.messages for r in m["to"]) == Counter(
        f"learner{n}@example.com" for n in range(200)
    )


def test_killed_worker_mid_batch_every_row_sent_and_each_email_once(celery_worker_factory, smtp_sink, outbox_env):
    # Given a slow SMTP server, so a batch is still running when the worker dies
    smtp_sink.delay = 0.05
    first = celery_worker_factory(queues="communications", extra_env=outbox_env)
    enqueue_batch(200)
    assert wait_until(lambda: sent_count() >= 20, timeout=120)

    # When the worker is SIGKILLed in the middle of the batch and a new one starts
    first.kill()
    assert sent_count() < 200
    celery_worker_factory(queues="communications", extra_env=outbox_env)

    # Then the relay (beat runs it every 30 s; here the test runs it) heals lost tasks and dead claims
    def all_sent() -> bool:
        outbox_relay()
        return sent_count() == 200

    assert wait_until(all_sent, timeout=180, interval=1.0)
    rows = CommunicationLog.objects.all()
    assert {row.status for row in rows} == {Status.SENT}
    # Each row's Message-ID arrived; a resend after a crash between "SMTP accepted" and "row SENT"
    # carries the same Message-ID, so the receiving side sees one message per row.
    received = smtp_sink.message_ids()
    assert set(received) == {row.provider_message_id for row in rows}
    assert len(received) == 200


def test_committed_is_sent_and_rolled_back_is_not(celery_worker_factory, smtp_sink, outbox_env):
    celery_worker_factory(queues="communications", extra_env=outbox_env)

    def pay_and_fail():
        with transaction.atomic():
            enqueue_batch(3, prefix="rolled-back")
            raise RuntimeError("payment verification failed")

    with pytest.raises(RuntimeError):
        pay_and_fail()
    enqueue_batch(1, prefix="committed")

    assert wait_until(lambda: sent_count() == 1, timeout=60)
    assert CommunicationLog.objects.count() == 1
    assert [m["to"] for m in smtp_sink.messages] == [["learner0@example.com"]]


def test_task_delivered_three_times_sends_once(celery_worker_factory, smtp_sink, outbox_env):
    celery_worker_factory(queues="communications", concurrency=2, extra_env=outbox_env)

    (row_id,) = enqueue_batch(1)
    message_send.delay(row_id)
    message_send.delay(row_id)

    assert wait_until(lambda: sent_count() == 1, timeout=60)
    assert wait_until(lambda: CommunicationLog.objects.get(pk=row_id).updated_at is not None, timeout=5)
    # Give the duplicates time to run: they find the row SENT and do nothing.
    wait_until(lambda: False, timeout=3)
    assert len(smtp_sink.messages) == 1
    assert CommunicationLog.objects.get(pk=row_id).attempts == 1
