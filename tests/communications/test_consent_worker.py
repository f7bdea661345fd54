"""Consent decided when a real Celery worker picks the row up, not when it was written."""

import pytest
from django.db import transaction

from communications.models import Channel, CommunicationLog
from communications.services import channel_preference_set, message_enqueue
from tests.conftest import wait_until
from tests.factories import UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
Status = CommunicationLog.Status


def test_opt_out_between_commit_and_pickup_is_honoured_by_the_worker(celery_worker_factory, smtp_sink, smtp_settings):
    # Given a receipt committed for email while no worker runs yet (the task waits in Redis)
    user = UserFactory()
    with transaction.atomic():
        (queued,) = message_enqueue(
            template="payment_receipt",
            context={"course": "NEET Biology 12", "amount": "₹89,999", "receipt": "CB-0002"},
            idempotency_key="receipt:2",
            user=user,
            channels=["EMAIL"],
        )

    # When the learner refuses email before a worker picks the task up
    channel_preference_set(user=user, channel=Channel.EMAIL, opted_in=False)
    celery_worker_factory(queues="communications", extra_env=smtp_settings)

    # Then the worker skips the email without offering it to the SMTP server, and the receipt goes
    # on the channel the learner still accepts
    assert wait_until(lambda: CommunicationLog.objects.filter(status=Status.SENT).count() == 1, timeout=60)
    skipped = CommunicationLog.objects.get(pk=queued.pk)
    assert (skipped.status, skipped.error) == (Status.SKIPPED, "the learner opted out of EMAIL")
    fallback = CommunicationLog.objects.get(status=Status.SENT)
    assert (fallback.channel, fallback.idempotency_key) == ("WHATSAPP", "receipt:2:WHATSAPP")
    assert smtp_sink.messages == []
