import pytest
from django.core import mail  # noqa: F401
from django.db import transaction

from communications.models import CommunicationLog
from communications.services import message_enqueue
from tests.conftest import wait_until
from tests.factories import UserFactory


@pytest.mark.worker
def test_real_worker_sends_committed_message(celery_worker_factory):
    celery_worker_factory(queues="communications")
    user = UserFactory()

    with transaction.atomic():
        message_enqueue(
            template="welcome",
            context={"name": user.name},
            idempotency_key=f"welcome:{user.pk}",
            user=user,
            channels=["EMAIL"],
        )

    assert wait_until(lambda: CommunicationLog.objects.filter(status="SENT").count() == 1, timeout=60)
