"""Every publish after a committed write survives an unreachable broker (issue 20's broker drill, all
the places it can occur): the request is answered as the write deserves, and the task's work is done
here or left for a relay (cerebrum/task_publish.py) — never a 500, never lost."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import PhoneOTP
from analytics.attribution import VISITOR_COOKIE
from analytics.models import AnalyticsEvent
from communications.models import CommunicationLog
from communications.services import message_retry
from tests.factories import StaffFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("broker_down")]
PASSWORD = "Kota-2027-topper"


def test_a_reset_link_is_still_queued_when_the_broker_is_down(client, django_capture_on_commit_callbacks):
    UserFactory(email="asha@example.com", password=PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "asha@example.com"})

    assert response.status_code == 302
    link = CommunicationLog.objects.get(template="password_reset")
    assert link.status == CommunicationLog.Status.QUEUED  # its send is left for outbox_relay


def test_a_reset_code_is_still_made_when_the_broker_is_down(client, django_capture_on_commit_callbacks):
    learner = UserFactory(email="", phone="+919876510943", password=PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset_phone"), {"action": "send", "phone": "9876510943"})

    assert response.status_code in (200, 302)
    assert PhoneOTP.objects.filter(user=learner).count() == 1


def test_sign_in_joins_the_devices_events_when_the_broker_is_down(client, django_capture_on_commit_callbacks):
    learner = UserFactory(email="ravi@example.com")
    learner.set_password(PASSWORD)
    learner.save()
    client.get("/health", {"utm_source": "newsletter"})  # a campaign landing gives the device its id
    anonymous_id = client.cookies[VISITOR_COOKIE].value
    AnalyticsEvent.objects.create(event_type="PAGE_VIEW", event_name="page_view", anonymous_id=anonymous_id)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/login/", {"username": learner.email, "password": PASSWORD})

    assert response.status_code == 302
    assert AnalyticsEvent.objects.get(anonymous_id=anonymous_id).user_id == learner.pk


def test_a_staff_retry_of_a_dead_letter_is_answered_when_the_broker_is_down(django_capture_on_commit_callbacks):
    learner = UserFactory()
    dead = CommunicationLog.objects.create(
        user=learner,
        channel="EMAIL",
        recipient=learner.email,
        template="welcome",
        idempotency_key="welcome:dead",
        status=CommunicationLog.Status.FAILED,
    )

    with django_capture_on_commit_callbacks(execute=True):
        retried = message_retry(log=dead)

    assert CommunicationLog.objects.get(pk=retried.pk).status == CommunicationLog.Status.QUEUED


def test_staff_refresh_of_the_rollups_is_answered_when_the_broker_is_down(client):
    client.force_login(StaffFactory())

    response = client.post("/staff/analytics/refresh/")

    assert response.status_code == 302
