"""With the Celery broker down, a write that committed is answered as such (issue 20, broker drill).

`make drill` restarted the broker Redis under load and eight submits that had been stored were answered
500: the outbox published its send task on commit, and the publish raised. Here the broker is a real
address where nothing listens; the message row stays QUEUED for outbox_relay.
"""

from __future__ import annotations

import pytest

from communications.models import CommunicationLog
from tests.factories import PracticeTestFactory, UserFactory


@pytest.mark.django_db
@pytest.mark.usefixtures("broker_down")
def test_a_submit_is_answered_and_its_result_message_waits_for_the_relay(
    api_client, django_capture_on_commit_callbacks
):
    # given a learner in an attempt
    learner = UserFactory()
    api_client.force_authenticate(learner)
    test = PracticeTestFactory(question_count=2)
    attempt = api_client.post(f"/api/v1/tests/{test.slug}/attempts").json()

    # when they submit while the broker is unreachable
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/v1/attempts/{attempt['id']}/submit")

    # then the submit is answered, and its result message is stored, waiting for outbox_relay
    assert response.status_code == 200
    assert response.json()["status"] == "SUBMITTED"
    messages = CommunicationLog.objects.filter(user=learner, template="test_result")
    assert messages.exists()
    assert set(messages.values_list("status", flat=True)) == {CommunicationLog.Status.QUEUED}
