"""Issue 22, email as mail providers expect: the received message read back from a local SMTP server
(aiosmtpd), one-click unsubscribe (RFC 8058) through HTTP, and the suppression list (SMTP 5xx, webhook)."""

import hashlib
import hmac
import json
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import pytest
import time_machine
from django.urls import reverse

from communications.models import Channel, ChannelPreference, CommunicationLog, Suppression
from communications.services import message_deliver, message_enqueue
from communications.unsubscribe import unsubscribe_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status = CommunicationLog.Status
DAYTIME = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 11:30 IST
BOUNCE_SECRET = "bounce-secret"


@pytest.fixture(autouse=True)
def _daytime():
    with time_machine.travel(DAYTIME, tick=False):
        yield


def send(template: str, user, context=None) -> CommunicationLog:
    (queued,) = message_enqueue(
        template=template, context=context or {}, idempotency_key=f"{template}:{user.pk}", user=user, channels=["EMAIL"]
    )
    message_deliver(log_id=queued.pk)
    return CommunicationLog.objects.get(pk=queued.pk)


def received(smtp_sink):
    """The one message the server received, re-parsed with the modern email API."""
    (message,) = smtp_sink.messages
    return BytesParser(policy=policy.default).parsebytes(message["parsed"].as_bytes())


def test_marketing_mail_has_both_parts_the_unsubscribe_headers_and_a_visible_link(smtp_settings, smtp_sink, settings):
    settings.SITE_URL = "https://cerebrum.academy"
    settings.COMMUNICATIONS_UNSUBSCRIBE_MAILTO = "unsubscribe@cerebrum.academy"
    user = UserFactory(name="Asha Verma")

    row = send("inactivity_nudge", user)

    assert row.status == Status.SENT
    message = received(smtp_sink)
    token = unsubscribe_token(channel=Channel.EMAIL, user_id=user.pk)
    link = f"https://cerebrum.academy/communications/unsubscribe/{token}/"
    assert message["Message-ID"] == row.provider_message_id
    # Folded over lines on the wire (RFC 5322), as a long header should be
    assert message["List-Unsubscribe"].strip() == f"<{link}>, <mailto:unsubscribe@cerebrum.academy?subject=unsubscribe>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    # Both parts come from the same template: the same words, and the link in both
    for part in (text, html):
        assert "Hello Asha Verma," in part
        assert "Ten minutes of practice today" in part
    assert f"Unsubscribe: {link}" in text
    assert f'<a href="{link}"' in html


def test_transactional_mail_has_both_parts_and_no_unsubscribe(smtp_settings, smtp_sink):
    user = UserFactory()

    send("payment_receipt", user, {"course": "NEET Biology 12", "amount": "₹59,999", "receipt": "CB-0001"})

    message = received(smtp_sink)
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None
    assert "Receipt number: CB-0001" in message.get_body(preferencelist=("plain",)).get_content()
    assert "Receipt number: CB-0001" in message.get_body(preferencelist=("html",)).get_content()
    assert "nsubscribe" not in message.get_body(preferencelist=("html",)).get_content()


# --- one-click unsubscribe --------------------------------------------------------------------------


def unsubscribe_url(user) -> str:
    return reverse("communications:unsubscribe", args=[unsubscribe_token(channel=Channel.EMAIL, user_id=user.pk)])


def marketing_email_allowed(user) -> bool:
    preference = ChannelPreference.objects.filter(user=user, channel=Channel.EMAIL).first()
    return preference is None or preference.marketing_opted_in


def test_get_shows_a_confirmation_and_changes_nothing(client):
    user = UserFactory()

    response = client.get(unsubscribe_url(user))

    assert response.status_code == 200
    assert b"Stop reminders and offers" in response.content
    assert marketing_email_allowed(user)


def test_one_click_post_without_csrf_or_session_unsubscribes_and_is_idempotent(settings):
    from django.test import Client

    user = UserFactory()
    provider = Client(enforce_csrf_checks=True)  # what a mail provider sends: no cookie, no token

    first = provider.post(unsubscribe_url(user), {"List-Unsubscribe": "One-Click"})
    second = provider.post(unsubscribe_url(user), {"List-Unsubscribe": "One-Click"})

    assert (first.status_code, second.status_code) == (200, 200)
    assert not marketing_email_allowed(user)
    preference = ChannelPreference.objects.get(user=user, channel=Channel.EMAIL)
    assert (preference.opted_in, preference.marketing_source) == (True, "unsubscribe link")


def test_the_confirmation_form_needs_its_csrf_token():
    from django.test import Client

    user = UserFactory()
    browser = Client(enforce_csrf_checks=True)

    refused = browser.post(unsubscribe_url(user), {})
    assert refused.status_code == 403
    assert marketing_email_allowed(user)

    page = browser.get(unsubscribe_url(user))
    token = page.cookies["csrftoken"].value
    done = browser.post(unsubscribe_url(user), {"csrfmiddlewaretoken": token})
    assert done.status_code == 200
    assert b"You are unsubscribed" in done.content
    assert not marketing_email_allowed(user)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_token_is_a_404_and_changes_nothing(client, method):
    user = UserFactory()
    forged = unsubscribe_token(channel=Channel.EMAIL, user_id=user.pk)[:-2] + "xx"

    response = getattr(client, method)(
        reverse("communications:unsubscribe", args=[forged]), {"List-Unsubscribe": "One-Click"}
    )

    assert response.status_code == 404
    assert marketing_email_allowed(user)


def test_after_unsubscribing_the_next_nudge_is_not_written_and_a_queued_one_is_skipped(client):
    user = UserFactory()
    (queued,) = message_enqueue(
        template="inactivity_nudge", context={}, idempotency_key="n:1", user=user, channels=["EMAIL"]
    )

    client.post(unsubscribe_url(user), {"List-Unsubscribe": "One-Click"})
    message_deliver(log_id=queued.pk)

    assert CommunicationLog.objects.get(pk=queued.pk).status == Status.SKIPPED
    assert (
        message_enqueue(template="inactivity_nudge", context={}, idempotency_key="n:2", user=user, channels=["EMAIL"])
        == []
    )


# --- suppression list ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "suppressed"),
    [
        ("550 5.1.1 <x>: Recipient address rejected: User unknown", True),
        ("550 No such user here", True),
        ("554 5.7.1 Rejected by policy", False),  # permanent, but not the address's fault
        ("452 4.2.2 Mailbox full", False),  # temporary: retried
    ],
)
def test_smtp_refusal_at_send_feeds_the_suppression_list(smtp_settings, smtp_sink, reply, suppressed):
    smtp_sink.rcpt_reply = reply
    user = UserFactory()

    first = send("payment_receipt", user, {"course": "C", "amount": "₹1", "receipt": "R"})

    assert Suppression.objects.filter(channel="EMAIL", address=user.email).exists() is suppressed
    if suppressed:
        assert first.status == Status.FAILED
        # The next message to that address is never offered to the server
        smtp_sink.rcpt_reply = None
        second = send("welcome", user)
        assert (second.status, second.error) == (Status.SKIPPED, f"suppressed address: hard bounce {first.error}")
        assert smtp_sink.messages == []


def signed_post(client, body: dict, secret: str = BOUNCE_SECRET):
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.post(
        reverse("communications:email-bounces"),
        data=raw,
        content_type="application/json",
        HTTP_X_CEREBRUM_SIGNATURE=signature,
    )


def test_bounce_webhook_suppresses_hard_bounces_and_complaints(client, settings):
    settings.COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET = BOUNCE_SECRET
    body = {
        "events": [
            {"type": "bounce", "bounce_type": "hard", "email": "Gone@Example.com", "detail": "550 5.1.1"},
            {"type": "bounce", "bounce_type": "soft", "email": "full@example.com"},
            {"type": "complaint", "email": "angry@example.com"},
        ]
    }

    first = signed_post(client, body)
    again = signed_post(client, body)

    assert (first.status_code, first.json()) == (200, {"suppressed": 2})
    assert (again.status_code, again.json()) == (200, {"suppressed": 0})
    assert sorted(Suppression.objects.values_list("address", "scope", "reason")) == [
        ("angry@example.com", "MARKETING", "COMPLAINT"),
        ("gone@example.com", "ALL", "HARD_BOUNCE"),
    ]


@pytest.mark.parametrize(
    ("secret_setting", "signed_with", "status"),
    [("", "", 403), (BOUNCE_SECRET, "wrong", 403)],
)
def test_bounce_webhook_refuses_unsigned_calls(client, settings, secret_setting, signed_with, status):
    settings.COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET = secret_setting

    response = signed_post(client, {"events": [{"type": "bounce", "email": "a@example.com"}]}, secret=signed_with)

    assert response.status_code == status
    assert Suppression.objects.count() == 0


def test_bounce_webhook_bad_event_is_a_400_and_writes_nothing(client, settings):
    settings.COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET = BOUNCE_SECRET

    response = signed_post(
        client, {"events": [{"type": "bounce", "email": "ok@example.com"}, {"type": "bounce", "email": "nope"}]}
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["events[1]"]
    assert Suppression.objects.count() == 0


@pytest.mark.parametrize(
    "event",
    [
        {"type": ["bounce"], "email": "ok@example.com"},  # a list where a word belongs: was a 500
        {"type": "bounce", "bounce_type": {"hard": 1}, "email": "ok@example.com"},
        {"type": "bounce", "email": ["ok@example.com"]},
    ],
)
def test_bounce_webhook_event_of_another_shape_is_a_400(client, settings, event):
    # Review (issue 14 item 7 sibling): no input is a 500, signed or not.
    settings.COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET = BOUNCE_SECRET

    response = signed_post(client, {"events": [event]})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["events[0]"]
    assert Suppression.objects.count() == 0


def test_a_learner_who_chose_hindi_gets_the_email_in_hindi(smtp_settings, smtp_sink, settings, client):
    # Given a learner who picked हिन्दी on the switcher while signed in (kept in their profile)
    settings.SITE_URL = "https://cerebrum.academy"
    user = UserFactory(name="Asha Verma")
    client.force_login(user)
    client.post(f"{reverse('language_set', args=['hi'])}?next=/")
    user.refresh_from_db()
    assert user.profile["language"] == "hi"

    # When a message is sent to them outside any request (a task)
    row = send("inactivity_nudge", user)

    # Then subject, body and footer are Hindi, in both parts
    assert row.language == "hi"
    message = received(smtp_sink)
    assert message["Subject"].strip() == "हमें आपकी याद आ रही है, Asha Verma"  # folded on the wire
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        assert "नमस्ते Asha Verma," in part
        assert "आज दस मिनट का अभ्यास" in part
        assert "टीम सेरेब्रम" in part
    assert "सदस्यता छोड़ें: https://cerebrum.academy/" in text
    assert '<html lang="hi">' in html
    assert "ये ईमेल पाना बंद करें" in html


def test_a_message_enqueued_in_a_hindi_request_is_hindi_and_english_stays_the_default(client):
    # A sign-up with the interface in Hindi: no choice saved yet, the request's language is used
    client.cookies["django_language"] = "hi"
    client.post(reverse("accounts:signup"), {"name": "Ravi", "email": "ravi@example.com", "password": "kX9#long-pass"})
    welcome = CommunicationLog.objects.get(template="welcome", channel=Channel.EMAIL)
    assert welcome.language == "hi"
    # Outside a request, for a learner who never chose: English
    assert send("test_result", UserFactory(), {"test": "Mock 1", "score": "40"}).language == "en-in"
