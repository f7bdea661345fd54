"""Issue 22, WhatsApp: a STOP reply and Meta's stop-promotions notice are a marketing opt-out on
WhatsApp, confirmed to the learner once; through the signed webhook, end to end."""

import json
from datetime import UTC, datetime

import pytest
import responses
import time_machine
from django.urls import reverse

from communications.models import Channel, ChannelPreference, CommunicationLog, Suppression
from communications.services import message_deliver, message_enqueue
from tests.communications.test_views import SECRET, post, sign
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status = CommunicationLog.Status
DAYTIME = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 11:30 IST


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.WHATSAPP_APP_SECRET = SECRET
    with time_machine.travel(DAYTIME, tick=False):
        yield


@pytest.fixture
def url():
    return reverse("communications:whatsapp-webhook")


def webhook(value: dict) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


def text_reply(phone: str, text: str) -> bytes:
    wa_id = phone.lstrip("+")
    return webhook(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"wa_id": wa_id, "profile": {"name": "Asha"}}],
            "messages": [
                {
                    "from": wa_id,
                    "id": f"wamid.in.{text}",
                    "timestamp": "1795672800",
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
    )


def stop_promotions(phone: str, value: str = "stop") -> bytes:
    wa_id = phone.lstrip("+")
    return webhook(
        {
            "messaging_product": "whatsapp",
            "user_preferences": [
                {
                    "wa_id": wa_id,
                    "detail": "User requested to stop marketing messages",
                    "category": "marketing_messages",
                    "value": value,
                    "timestamp": 1795672800,
                }
            ],
        }
    )


def whatsapp_marketing(user) -> tuple[bool, bool]:
    preference = ChannelPreference.objects.filter(user=user, channel=Channel.WHATSAPP).first()
    return (True, True) if preference is None else (preference.opted_in, preference.marketing_opted_in)


def confirmations(user) -> list[tuple[str, str]]:
    return list(
        CommunicationLog.objects.filter(user=user, template="marketing_optout_confirmed").values_list(
            "channel", "status"
        )
    )


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop ", "UNSUBSCRIBE", "unsubscribe"])
def test_stop_reply_is_a_marketing_opt_out_confirmed_once(client, url, text, django_capture_on_commit_callbacks):
    user = UserFactory()
    body = text_reply(user.phone, text)

    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, url, body, sign(body))
        again = post(client, url, body, sign(body))  # Meta redelivers; the learner may send STOP twice

    assert (first.status_code, again.status_code) == (200, 200)
    assert whatsapp_marketing(user) == (True, False)  # the channel stays for receipts and codes
    assert ChannelPreference.objects.get(user=user).marketing_source == f"WhatsApp {text.strip().upper()}"
    assert confirmations(user) == [("WHATSAPP", Status.SENT)]


def test_other_replies_change_nothing(client, url):
    user = UserFactory()
    body = text_reply(user.phone, "stop sending me the physics notes?")

    assert post(client, url, body, sign(body)).status_code == 200

    assert whatsapp_marketing(user) == (True, True)
    assert confirmations(user) == []


def test_meta_stop_promotions_notice_is_an_opt_out_confirmed_once_and_resume_undoes_it(client, url):
    user = UserFactory()
    stop = stop_promotions(user.phone)

    post(client, url, stop, sign(stop))
    post(client, url, stop, sign(stop))

    assert whatsapp_marketing(user) == (True, False)
    assert len(confirmations(user)) == 1
    resume = stop_promotions(user.phone, "resume")
    post(client, url, resume, sign(resume))
    assert whatsapp_marketing(user) == (True, True)


def test_after_stop_marketing_is_skipped_but_receipts_still_go(client, url, django_capture_on_commit_callbacks):
    user = UserFactory()
    (queued_nudge,) = message_enqueue(
        template="inactivity_nudge", context={}, idempotency_key="n:1", user=user, channels=["WHATSAPP"]
    )
    body = text_reply(user.phone, "STOP")
    post(client, url, body, sign(body))

    message_deliver(log_id=queued_nudge.pk)
    with django_capture_on_commit_callbacks(execute=True):
        (receipt,) = message_enqueue(
            template="payment_receipt",
            context={"course": "C", "amount": "₹1", "receipt": "R"},
            idempotency_key="r:1",
            user=user,
            channels=["WHATSAPP"],
        )

    assert CommunicationLog.objects.get(pk=queued_nudge.pk).status == Status.SKIPPED
    assert CommunicationLog.objects.get(pk=receipt.pk).status == Status.SENT


def test_stop_from_a_number_without_an_account_suppresses_marketing_to_it(client, url):
    body = text_reply("+919000000001", "STOP")

    post(client, url, body, sign(body))

    assert list(Suppression.objects.values_list("channel", "address", "scope", "reason")) == [
        ("WHATSAPP", "+919000000001", "MARKETING", "WHATSAPP_STOP")
    ]
    assert (
        CommunicationLog.objects.filter(template="marketing_optout_confirmed", recipient="+919000000001").count() == 1
    )


def test_stop_from_a_foreign_number_is_recorded_without_a_reply(client, url):
    body = text_reply("+14155550100", "STOP")

    assert post(client, url, body, sign(body)).status_code == 200

    assert Suppression.objects.filter(address="+14155550100", scope="MARKETING").exists()
    assert CommunicationLog.objects.count() == 0


def test_unsigned_stop_is_refused(client, url):
    user = UserFactory()
    body = text_reply(user.phone, "STOP")

    assert post(client, url, body, sign(body, "wrong")).status_code == 403
    assert whatsapp_marketing(user) == (True, True)


@responses.activate
def test_cloud_api_error_131050_at_send_is_recorded_as_an_opt_out(settings):
    settings.WHATSAPP_TOKEN, settings.WHATSAPP_PHONE_NUMBER_ID = "token", "123"
    responses.post(
        f"{settings.WHATSAPP_API_URL}/123/messages",
        status=400,
        json={"error": {"code": 131050, "message": "user stopped marketing messages"}},
    )
    user = UserFactory()
    (row,) = message_enqueue(
        template="inactivity_nudge", context={}, idempotency_key="n:1", user=user, channels=["WHATSAPP"]
    )

    message_deliver(log_id=row.pk)

    assert CommunicationLog.objects.get(pk=row.pk).status == Status.FAILED
    assert whatsapp_marketing(user) == (True, False)


@pytest.mark.parametrize(
    "value",
    [
        {"messages": [{"from": "919800000001", "type": "text", "text": "STOP"}]},  # text not an object
        {"messages": [{"from": {"x": 1}, "type": "text", "text": {"body": "STOP"}}]},  # from not a number
        {"messages": [{"from": "not-a-number", "type": "text", "text": {"body": "STOP"}}]},
        {"user_preferences": [{"wa_id": ["9198"], "category": "marketing_messages", "value": "stop"}]},
        {"messages": ["STOP"], "user_preferences": ["stop"], "statuses": ["read"]},
        {"messages": 5, "user_preferences": 5, "statuses": 5},  # a number where a list belongs: was a 500
        {"statuses": [{"id": "wamid.none", "status": "failed", "errors": 7}]},  # likewise
        None,  # "changes" a number
    ],
)
def test_a_signed_body_of_an_unexpected_shape_is_answered_200_and_records_nothing(client, url, value):
    # Review (issue 14 item 7 sibling): a text that is a string was a 500 (Meta retries a 5xx for days),
    # and a "from" that is no phone number became a suppressed address "+{'x': 1}".
    body = webhook(value) if value is not None else json.dumps({"entry": [{"changes": 5}]}).encode()

    assert post(client, url, body, sign(body)).status_code == 200
    assert Suppression.objects.count() == 0
    assert ChannelPreference.objects.count() == 0
