"""The WhatsApp status webhook, end to end through HTTP."""

import hashlib
import hmac
import json

import pytest
from django.urls import reverse

from communications.models import Channel, CommunicationLog

pytestmark = pytest.mark.django_db
Status = CommunicationLog.Status
SECRET = "whatsapp-app-secret"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.WHATSAPP_APP_SECRET = SECRET
    settings.WHATSAPP_VERIFY_TOKEN = "verify-me"


@pytest.fixture
def url():
    return reverse("communications:whatsapp-webhook")


def sent_row(provider_id: str, status: str = Status.SENT) -> CommunicationLog:
    return CommunicationLog.objects.create(
        channel=Channel.WHATSAPP,
        template="welcome",
        params={"name": "Asha"},
        recipient="+919812345678",
        idempotency_key=f"welcome:{provider_id}",
        status=status,
        provider_message_id=provider_id,
    )


def status_payload(*statuses: dict) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {"statuses": list(statuses)}}]}],
        }
    ).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, url, body: bytes, signature: str | None):
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature is not None else {}
    return client.post(url, data=body, content_type="application/json", **headers)


def test_verification_challenge_is_echoed_for_the_right_token(client, url):
    response = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    )

    assert (response.status_code, response.content) == (200, b"1158201444")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"},
        {},
    ],
)
def test_verification_challenge_is_refused_otherwise(client, url, params):
    assert client.get(url, params).status_code == 403


def test_signed_statuses_move_rows_forward(client, url):
    delivered, read, failed = sent_row("wamid.A"), sent_row("wamid.B"), sent_row("wamid.C")
    body = status_payload(
        {"id": "wamid.A", "status": "delivered", "timestamp": "1764120000", "recipient_id": "919812345678"},
        {"id": "wamid.B", "status": "read", "timestamp": "1764120001", "recipient_id": "919812345678"},
        {
            "id": "wamid.C",
            "status": "failed",
            "timestamp": "1764120002",
            "recipient_id": "919812345678",
            "errors": [{"code": 131026, "title": "Message undeliverable"}],
        },
        {"id": "wamid.unknown", "status": "delivered"},
    )

    response = post(client, url, body, sign(body))

    assert response.status_code == 200
    rows = {row.pk: row for row in CommunicationLog.objects.all()}
    assert rows[delivered.pk].status == Status.DELIVERED
    assert rows[read.pk].status == Status.READ
    assert (rows[failed.pk].status, rows[failed.pk].error) == (Status.FAILED, "WhatsApp 131026: Message undeliverable")


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, sign(b"another body"), sign(b"", secret="someone-else")],
)
def test_unsigned_or_badly_signed_posts_are_refused(client, url, signature):
    row = sent_row("wamid.A")
    body = status_payload({"id": "wamid.A", "status": "read"})
    if signature == sign(b"", secret="someone-else"):
        signature = sign(body, secret="someone-else")

    response = post(client, url, body, signature)

    assert response.status_code == 403
    assert CommunicationLog.objects.get(pk=row.pk).status == Status.SENT


def test_signed_but_malformed_body_is_a_400(client, url):
    body = b"{not json"

    assert post(client, url, body, sign(body)).status_code == 400


def test_a_late_delivered_never_overwrites_read(client, url):
    row = sent_row("wamid.A", status=Status.READ)
    body = status_payload({"id": "wamid.A", "status": "delivered"})

    post(client, url, body, sign(body))

    assert CommunicationLog.objects.get(pk=row.pk).status == Status.READ


@pytest.mark.parametrize("count", [1, 50])
def test_webhook_query_count_does_not_grow_with_statuses(client, url, django_assert_max_num_queries, count):
    for n in range(count):
        sent_row(f"wamid.{n}")
    body = status_payload(
        *[{"id": f"wamid.{n}", "status": "delivered"} for n in range(count)],
        *[{"id": f"wamid.{n}", "status": "read"} for n in range(count)],
    )

    # SAVEPOINT, one UPDATE per status kind, RELEASE
    with django_assert_max_num_queries(4):
        post(client, url, body, sign(body))

    assert set(CommunicationLog.objects.values_list("status", flat=True)) == {Status.READ}


def test_preferences_page_shows_and_saves_choices(client):
    from communications.selectors import channel_preferences_for_user
    from tests.factories import UserFactory

    user = UserFactory()
    client.force_login(user)
    url = reverse("communications:preferences")

    page = client.get(url)
    saved = client.post(url, {"EMAIL": "on"}, follow=True)

    assert page.status_code == 200
    assert b'name="WHATSAPP"' in page.content
    assert saved.redirect_chain == [(url, 302)]
    assert channel_preferences_for_user(user=user) == {"EMAIL": True, "WHATSAPP": False, "SMS": True}


def test_preferences_page_needs_login(client):
    response = client.get(reverse("communications:preferences"))

    assert response.status_code == 302
    assert "/login" in response["Location"]
