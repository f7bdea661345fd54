"""Issue 22, messages: consent at send time, categories, quiet hours on every path (clock controlled)."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import responses
import time_machine
from django.core import mail

from communications import providers
from communications.models import Category, Channel, ChannelPreference, CommunicationLog, Suppression
from communications.services import (
    channel_preference_set,
    message_deliver,
    message_enqueue,
    outbox_relay,
    suppression_add,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status = CommunicationLog.Status
IST_OFFSET = timedelta(hours=5, minutes=30)


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - IST_OFFSET


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def nudge(user, key: str = "nudge:1", channels=None):
    return message_enqueue(
        template="inactivity_nudge", context={}, idempotency_key=key, user=user, channels=channels or ["EMAIL"]
    )


def receipt(user, key: str = "receipt:1", channels=None):
    context = {"course": "NEET Biology 12", "amount": "₹59,999", "receipt": "CB-0001"}
    return message_enqueue(
        template="payment_receipt", context=context, idempotency_key=key, user=user, channels=channels
    )


def row(pk: int) -> CommunicationLog:
    return CommunicationLog.objects.get(pk=pk)


@pytest.fixture
def provider():
    """The provider boundary: counts calls (email goes to the locmem outbox, WhatsApp to `responses`)."""
    with mock.patch("communications.providers.send", wraps=providers.send) as send:
        yield send


# --- 1. consent decided at send time ------------------------------------------------------------


def test_nudge_held_overnight_is_skipped_at_nine_when_the_learner_opted_out_meanwhile(
    django_capture_on_commit_callbacks, provider
):
    # Given a nudge created at 23:30 IST, held for the morning
    user = UserFactory()
    with at(ist(26, 23, 30)), django_capture_on_commit_callbacks(execute=True):
        (held,) = nudge(user, channels=["WHATSAPP"])
    assert (row(held.pk).status, row(held.pk).scheduled_for) == (Status.QUEUED, ist(27, 9, 0))

    # When the learner opts out of WhatsApp at 07:00 and the relay releases the row at 09:00
    with at(ist(27, 7, 0)):
        channel_preference_set(user=user, channel=Channel.WHATSAPP, opted_in=False)
    with at(ist(27, 9, 0)):
        assert outbox_relay() == [held.pk]

    # Then it ends SKIPPED with the reason and the provider was never called
    skipped = row(held.pk)
    assert (skipped.status, skipped.error) == (Status.SKIPPED, "the learner opted out of WHATSAPP")
    assert skipped.sent_at is None
    assert provider.call_count == 0


def test_a_retry_decides_consent_again(django_capture_on_commit_callbacks, provider):
    # Given a marketing email whose first try met a temporary SMTP failure
    user = UserFactory()
    with at(ist(26, 11, 0)):
        (queued,) = nudge(user)
        with mock.patch("communications.providers.send", side_effect=OSError("connection reset")):
            assert message_deliver(log_id=queued.pk) is not None
    assert row(queued.pk).attempts == 1

    # When the learner unsubscribes from marketing email before the retry is due
    channel_preference_set(user=user, channel=Channel.EMAIL, marketing_opted_in=False, source="test")
    with at(ist(26, 12, 0)):
        assert message_deliver(log_id=queued.pk) is None

    # Then the retry does not send
    assert (row(queued.pk).status, row(queued.pk).error) == (
        Status.SKIPPED,
        "the learner opted out of marketing on EMAIL",
    )
    assert mail.outbox == []


def test_a_row_whose_address_hard_bounced_since_is_skipped(provider):
    user = UserFactory()
    with at(ist(26, 11, 0)):
        (queued,) = receipt(user, channels=["EMAIL"])
        suppression_add(channel=Channel.EMAIL, address=user.email.upper(), reason=Suppression.Reason.HARD_BOUNCE)
        message_deliver(log_id=queued.pk)

    assert row(queued.pk).status == Status.SKIPPED
    assert row(queued.pk).error.startswith("suppressed address: hard bounce")
    assert provider.call_count == 0


# --- 2. categories ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opted_out", "expected"),
    [
        ([], ["EMAIL", "WHATSAPP"]),
        (["WHATSAPP"], ["EMAIL"]),
        (["EMAIL"], ["WHATSAPP"]),
        (["EMAIL", "WHATSAPP"], ["EMAIL"]),  # nothing accepted: a receipt still goes by email
    ],
)
@pytest.mark.parametrize("template", ["payment_receipt", "enrollment_confirmed"])
def test_transactional_goes_on_the_accepted_channels_falling_back_to_email(
    django_capture_on_commit_callbacks, opted_out, expected, template
):
    user = UserFactory()
    for channel in opted_out:
        channel_preference_set(user=user, channel=channel, opted_in=False)
    context = {"course": "NEET Biology 12", "amount": "₹59,999", "receipt": "CB-0001"}

    with at(ist(26, 23, 30)), django_capture_on_commit_callbacks(execute=True):
        rows = message_enqueue(template=template, context=context, idempotency_key="t:1", user=user)

    assert sorted(r.channel for r in rows) == expected
    assert {row(r.pk).status for r in rows} == {Status.SENT}  # transactional never waits for quiet hours
    assert {row(r.pk).category for r in rows} == {Category.TRANSACTIONAL}


@pytest.mark.parametrize(
    ("choices", "expected"),
    [
        ({}, ["EMAIL", "WHATSAPP"]),
        ({"WHATSAPP": {"opted_in": False}}, ["EMAIL"]),
        ({"EMAIL": {"marketing_opted_in": False}}, ["WHATSAPP"]),
        ({"EMAIL": {"opted_in": False}, "WHATSAPP": {"marketing_opted_in": False}}, []),
    ],
)
def test_marketing_goes_only_where_marketing_is_accepted(choices, expected):
    user = UserFactory()
    for channel, change in choices.items():
        channel_preference_set(user=user, channel=channel, **change)

    rows = nudge(user, channels=["EMAIL", "WHATSAPP"])

    assert sorted(r.channel for r in rows) == expected


def test_phone_only_learner_with_both_channels_refused_still_gets_the_receipt(django_capture_on_commit_callbacks):
    # Review (issue 22 sibling): the fallback was email only, so a learner who signed up with a phone
    # only and refused both channels got no receipt at all. The fallback is the address they have.
    user = UserFactory(email=None)
    for channel in (Channel.EMAIL, Channel.WHATSAPP):
        channel_preference_set(user=user, channel=channel, opted_in=False)

    with at(ist(26, 11, 0)), django_capture_on_commit_callbacks(execute=True):
        rows = receipt(user)

    assert [(r.channel, r.recipient, row(r.pk).status) for r in rows] == [("WHATSAPP", user.phone, Status.SENT)]


def test_marketing_opt_out_never_costs_the_receipt(django_capture_on_commit_callbacks):
    user = UserFactory()
    for channel in (Channel.EMAIL, Channel.WHATSAPP):
        channel_preference_set(user=user, channel=channel, marketing_opted_in=False)

    with at(ist(26, 11, 0)), django_capture_on_commit_callbacks(execute=True):
        rows = receipt(user)
        assert nudge(user, key="nudge:2", channels=["EMAIL", "WHATSAPP"]) == []

    assert sorted((r.channel, row(r.pk).status) for r in rows) == [("EMAIL", Status.SENT), ("WHATSAPP", Status.SENT)]


def test_transactional_row_skipped_after_an_opt_out_is_sent_by_email_instead(django_capture_on_commit_callbacks):
    # Given a receipt queued on WhatsApp only (email was refused then)
    user = UserFactory()
    channel_preference_set(user=user, channel=Channel.EMAIL, opted_in=False)
    with at(ist(26, 11, 0)):
        (queued,) = receipt(user)
    assert queued.channel == Channel.WHATSAPP

    # When the learner refuses WhatsApp too before it leaves
    channel_preference_set(user=user, channel=Channel.WHATSAPP, opted_in=False)
    with at(ist(26, 11, 1)), django_capture_on_commit_callbacks(execute=True):
        message_deliver(log_id=queued.pk)

    # Then the WhatsApp row is SKIPPED and the receipt reaches the learner by email
    assert (row(queued.pk).status, row(queued.pk).error) == (Status.SKIPPED, "the learner opted out of WHATSAPP")
    fallback = CommunicationLog.objects.get(idempotency_key="receipt:1:EMAIL")
    assert fallback.status == Status.SENT
    assert [m.to for m in mail.outbox] == [[user.email]]


# --- 3. quiet hours on every path ---------------------------------------------------------------


def test_email_nudge_created_at_2330_waits_for_nine():
    user = UserFactory()
    with at(ist(26, 23, 30)):
        (held,) = nudge(user)
        assert message_deliver(log_id=held.pk) is None  # a stray task finds it not yet due

    assert (row(held.pk).status, row(held.pk).scheduled_for, row(held.pk).enqueued_at) == (
        Status.QUEUED,
        ist(27, 9, 0),
        None,
    )
    assert mail.outbox == []
    with at(ist(27, 8, 59)):
        assert outbox_relay() == []
    with at(ist(27, 9, 0)):
        assert outbox_relay() == [held.pk]
    assert row(held.pk).status == Status.SENT
    assert len(mail.outbox) == 1


def test_marketing_claimed_in_quiet_hours_by_the_relay_is_deferred_without_using_an_attempt():
    # Given a nudge created at 20:59 IST whose task was lost
    user = UserFactory()
    with at(ist(26, 20, 59)):
        (queued,) = nudge(user)

    # When the relay picks it up at 21:05 IST
    with at(ist(26, 21, 5)):
        assert outbox_relay() == [queued.pk]

    # Then it waits for 09:00 IST: not sent, no attempt spent, nothing for the relay before then
    held = row(queued.pk)
    assert (held.status, held.attempts, held.scheduled_for, held.claimed_at) == (
        Status.QUEUED,
        0,
        ist(27, 9, 0),
        None,
    )
    assert mail.outbox == []
    with at(ist(27, 3, 0)):
        assert outbox_relay() == []


def test_a_marketing_retry_falling_in_quiet_hours_waits_for_nine():
    user = UserFactory()
    with at(ist(26, 20, 59)):
        (queued,) = nudge(user)
        with (
            mock.patch("communications.providers.send", side_effect=OSError("timeout")),
            mock.patch("communications.services.delivery.retry_delay", return_value=300),
        ):
            assert message_deliver(log_id=queued.pk) is None  # no countdown: the relay takes it at 09:00

    held = row(queued.pk)
    assert (held.status, held.attempts, held.scheduled_for, held.enqueued_at) == (
        Status.QUEUED,
        1,
        ist(27, 9, 0),
        None,
    )


@responses.activate
def test_transactional_whatsapp_at_night_goes_now(settings, django_capture_on_commit_callbacks):
    settings.WHATSAPP_TOKEN, settings.WHATSAPP_PHONE_NUMBER_ID = "token", "123"
    responses.post(f"{settings.WHATSAPP_API_URL}/123/messages", json={"messages": [{"id": "wamid.1"}]})
    user = UserFactory()

    with at(ist(26, 23, 30)), django_capture_on_commit_callbacks(execute=True):
        (sent,) = receipt(user, channels=["WHATSAPP"])

    assert (row(sent.pk).status, row(sent.pk).provider_message_id) == (Status.SENT, "wamid.1")


def test_preferences_page_saves_marketing_choices(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        "/communications/preferences/", {"EMAIL": "on", "WHATSAPP": "on", "WHATSAPP_MARKETING": "on"}
    )

    assert response.status_code == 302
    assert sorted(ChannelPreference.objects.values_list("channel", "opted_in", "marketing_opted_in")) == [
        ("EMAIL", True, False),
        ("WHATSAPP", True, True),
    ]
