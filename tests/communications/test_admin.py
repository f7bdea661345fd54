"""Staff see the outbox and its dead letters, retry them, and read the message texts."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from communications.models import Channel, CommunicationLog
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = CommunicationLog.Status


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def make_rows(count: int, **fields) -> list[CommunicationLog]:
    user = UserFactory()
    return CommunicationLog.objects.bulk_create(
        CommunicationLog(
            user=user,
            channel=Channel.EMAIL,
            template="welcome",
            params={"name": "Asha"},
            recipient=f"learner{n}@example.com",
            idempotency_key=f"welcome:{n}:{fields.get('status', 'Q')}",
            scheduled_for=timezone.now(),
            **fields,
        )
        for n in range(count)
    )


@pytest.mark.parametrize("count", [1, 50])
def test_dead_letter_list_shows_failed_rows_with_flat_query_count(staff_client, django_assert_max_num_queries, count):
    make_rows(count, status=Status.FAILED, error="gave up after 6 attempts")
    make_rows(2, status=Status.SENT)
    url = reverse("admin:communications_communicationlog_changelist")

    with django_assert_max_num_queries(12):
        response = staff_client.get(url, {"status__exact": "FAILED"})

    assert response.status_code == 200
    assert (
        list(response.context["cl"].result_list)
        == list(CommunicationLog.objects.filter(status=Status.FAILED).order_by("-id"))[
            : response.context["cl"].list_per_page
        ]
    )


def test_search_by_recipient_is_exact(staff_client):
    rows = make_rows(3)

    response = staff_client.get(reverse("admin:communications_communicationlog_changelist"), {"q": rows[1].recipient})

    assert [row.pk for row in response.context["cl"].result_list] == [rows[1].pk]


def test_retry_action_requeues_only_failed_rows_and_sends_them(staff_client, django_capture_on_commit_callbacks):
    failed = make_rows(2, status=Status.FAILED, error="gave up")
    sent = make_rows(1, status=Status.SENT)
    url = reverse("admin:communications_communicationlog_changelist")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url, {"action": "retry_failed", "_selected_action": [r.pk for r in failed + sent]}, follow=True
        )

    assert response.status_code == 200
    assert "2 message(s) queued again." in [str(m) for m in response.context["messages"]]
    assert sorted(CommunicationLog.objects.values_list("status", flat=True)) == [Status.SENT] * 3
    assert len(mail.outbox) == 2


def test_a_row_opens_read_only(staff_client):
    (row,) = make_rows(1, status=Status.FAILED, error="SMTP 550")

    response = staff_client.get(reverse("admin:communications_communicationlog_change", args=[row.pk]))

    assert response.status_code == 200
    assert b"SMTP 550" in response.content
    assert b'name="_save"' not in response.content


def test_message_templates_are_readable_by_staff(staff_client):
    response = staff_client.get(reverse("admin:communications_message_templates"))

    assert response.status_code == 200
    body = response.content.decode()
    for name in ["welcome", "otp", "payment_failed", "test_reminder", "parent_digest", "inactivity_nudge"]:
        assert f"cerebrum_{name}" in body
    assert "Try again here: {{ retry_url }}" in body


def test_message_templates_page_is_staff_only(client):
    client.force_login(UserFactory())

    response = client.get(reverse("admin:communications_message_templates"))

    assert response.status_code == 302


def test_retry_action_needs_change_permission(client):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_communicationlog"))
    client.force_login(viewer)
    failed = make_rows(1, status=Status.FAILED)

    client.post(
        reverse("admin:communications_communicationlog_changelist"),
        {"action": "retry_failed", "_selected_action": [failed[0].pk]},
    )

    assert CommunicationLog.objects.get(pk=failed[0].pk).status == Status.FAILED
