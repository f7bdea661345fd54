"""The webhook endpoint end to end over HTTP: signature on the raw body, exactly-once by event id."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from communications.models import CommunicationLog
from courses.models import Enrollment
from payments import services
from payments.gateways import SandboxGateway, hmac_sha256_hex
from payments.models import Payment, PaymentEvent
from tests.payments.conftest import new_event_id, payment_entity, payment_webhook, refund_webhook, signed_webhook

URL = reverse("payments:razorpay_webhook")
S = Payment.Status


def _post(client, body: bytes, signature: str, event_id: str | None = None):
    headers = {"HTTP_X_RAZORPAY_SIGNATURE": signature}
    if event_id:
        headers["HTTP_X_RAZORPAY_EVENT_ID"] = event_id
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.mark.django_db
def test_same_webhook_three_times_captures_once(client, payment):
    body, signature = payment_webhook("payment.captured", payment)
    event_id = new_event_id()

    responses = [_post(client, body, signature, event_id) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.json()["status"] for r in responses] == ["ok", "duplicate", "duplicate"]
    payment.refresh_from_db()
    assert payment.status == S.CAPTURED
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == Enrollment.Status.ACTIVE
    assert PaymentEvent.objects.filter(provider_event_id=event_id).count() == 1
    assert PaymentEvent.objects.filter(payment=payment, from_status=S.CREATED, to_status=S.CAPTURED).count() == 1
    assert CommunicationLog.objects.filter(template="payment_receipt").count() == 2  # one email, one WhatsApp


@pytest.mark.django_db
def test_captured_and_order_paid_for_one_payment_activate_once(client, payment):
    for event_type in ("payment.captured", "order.paid"):
        body, signature = payment_webhook(event_type, payment)
        assert _post(client, body, signature, new_event_id()).status_code == 200

    assert PaymentEvent.objects.filter(payment=payment, to_status=S.CAPTURED).count() == 2
    assert PaymentEvent.objects.filter(payment=payment, from_status=S.CREATED, to_status=S.CAPTURED).count() == 1
    assert CommunicationLog.objects.filter(template="payment_receipt").count() == 2


@pytest.mark.django_db
def test_late_failure_never_undoes_a_capture(client, payment):
    for event_type in ("payment.captured", "payment.failed"):
        body, signature = payment_webhook(event_type, payment)
        _post(client, body, signature, new_event_id())

    payment.refresh_from_db()
    assert payment.status == S.CAPTURED
    assert not CommunicationLog.objects.filter(template="payment_failed").exists()


@pytest.mark.django_db
def test_failure_then_success_on_the_same_order_captures(client, payment):
    body, signature = payment_webhook("payment.failed", payment, gateway_payment_id="pay_FAIL")
    _post(client, body, signature, new_event_id())
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == (S.FAILED, "Card declined")
    assert (
        CommunicationLog.objects.get(template="payment_failed", channel="EMAIL")
        .params["retry_url"]
        .endswith(reverse("payments:checkout", args=[payment.enrollment_id]))
    )

    body, signature = payment_webhook("payment.captured", payment, gateway_payment_id="pay_OK")
    _post(client, body, signature, new_event_id())

    payment.refresh_from_db()
    assert (payment.status, payment.razorpay_payment_id, payment.failure_reason) == (S.CAPTURED, "pay_OK", "")


@pytest.mark.django_db
def test_authorized_then_captured_moves_forward(client, payment):
    for event_type, expected in (("payment.authorized", S.AUTHORIZED), ("payment.captured", S.CAPTURED)):
        body, signature = payment_webhook(event_type, payment)
        _post(client, body, signature, new_event_id())
        payment.refresh_from_db()
        assert payment.status == expected


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("tampered_body", "bad_webhook_signature"),
        ("unsigned", "bad_webhook_signature"),
        ("wrong_secret", "bad_webhook_signature"),
        ("malformed_json", "malformed_webhook"),
        ("no_entity", "malformed_webhook"),
        ("zero_amount", "malformed_webhook"),
    ],
)
@pytest.mark.django_db
def test_bad_webhooks_get_400_change_nothing_and_are_logged(client, payment, caplog, case, code):
    body, signature = payment_webhook("payment.captured", payment)
    if case == "tampered_body":
        body = body.replace(b'"captured"', b'"failed"', 1)
    elif case == "unsigned":
        signature = ""
    elif case == "wrong_secret":
        signature = hmac_sha256_hex("not-the-secret", body)
    elif case == "malformed_json":
        body, signature = b"{not json", SandboxGateway().sign_webhook(b"{not json")
    elif case == "no_entity":
        body, signature = signed_webhook("payment.captured", {})
    elif case == "zero_amount":
        body, signature = payment_webhook("payment.captured", payment, amount=0)

    with caplog.at_level(logging.WARNING, logger="payments"):
        response = _post(client, body, signature, new_event_id())

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert code in caplog.text
    payment.refresh_from_db()
    assert payment.status == S.CREATED
    assert not PaymentEvent.objects.exclude(event_type="order.created").exists()


@pytest.mark.parametrize(
    "entity",
    [
        {"id": "pay_" + "x" * 100},  # longer than any id column: was a 500
        {"id": {"id": "pay_A"}},  # was stored as the payment id "{'id': 'pay_A'}"
        {"amount": 1.5},  # was captured as 1 paise
        {"amount": True},
        {"order_id": ["order_1"]},
    ],
    ids=["id_too_long", "id_not_text", "amount_fraction", "amount_bool", "order_id_not_text"],
)
@pytest.mark.django_db
def test_a_signed_payment_entity_not_of_razorpays_shape_is_refused_and_changes_nothing(client, payment, entity):
    # Review (issue 14 item 7 / item 6 siblings): Razorpay sends text ids and whole paise; anything else
    # is refused as malformed instead of becoming a 500 or a stray "payment" of made-up money.
    fields = {**payment_entity(payment, gateway_payment_id="pay_OK", status="captured"), **entity}
    body, signature = signed_webhook("payment.captured", {"payment": fields})

    response = _post(client, body, signature, new_event_id())

    assert (response.status_code, response.json()["error"]["code"]) == (400, "malformed_webhook")
    assert list(Payment.objects.values_list("pk", "status")) == [(payment.pk, S.CREATED)]


@pytest.mark.django_db
def test_a_signed_event_with_an_overlong_type_is_refused(client):
    body, signature = signed_webhook("payment." + "x" * 60, {})

    response = _post(client, body, signature, new_event_id())

    assert (response.status_code, response.json()["error"]["code"]) == (400, "malformed_webhook")
    assert not PaymentEvent.objects.exists()


@pytest.mark.django_db
def test_unknown_event_types_are_stored_and_acknowledged(client):
    body, signature = signed_webhook("dispute.created", {"dispute": {"id": "disp_1", "amount": 100}})

    first = _post(client, body, signature, "evt_unknown_1")
    second = _post(client, body, signature, "evt_unknown_1")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["status"] == "duplicate"
    stored = PaymentEvent.objects.get(provider_event_id="evt_unknown_1")
    assert (stored.event_type, stored.payment_id) == ("dispute.created", None)


@pytest.mark.django_db
def test_webhook_for_an_order_that_is_not_ours_is_acknowledged(client, payment):
    payment.razorpay_order_id = "order_someone_else"
    body, signature = payment_webhook("payment.captured", payment)

    response = _post(client, body, signature, new_event_id())

    assert response.status_code == 200
    assert PaymentEvent.objects.filter(payment=None, event_type="payment.captured").count() == 1


@pytest.mark.django_db
def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


@pytest.mark.django_db
def test_refund_failed_releases_the_reserved_amount(client, payment):
    body, signature = payment_webhook("payment.captured", payment, gateway_payment_id="pay_R")
    _post(client, body, signature, new_event_id())
    payment.refresh_from_db()
    refund = services.refund_create(payment=payment, amount_paise=payment.amount_paise)  # on_commit settle not run
    assert services.refundable_paise(payment) == 0

    body, signature = refund_webhook(
        "refund.failed", refund_id=refund.razorpay_refund_id, gateway_payment_id="pay_R", amount=refund.amount_paise
    )
    response = _post(client, body, signature, new_event_id())

    refund.refresh_from_db()
    payment.refresh_from_db()
    assert response.status_code == 200
    assert (refund.status, payment.status, payment.refunded_paise) == ("FAILED", S.CAPTURED, 0)
    assert services.refundable_paise(payment) == payment.amount_paise


@pytest.mark.django_db
def test_refund_made_at_the_gateway_is_adopted_from_its_webhook(client, payment):
    body, signature = payment_webhook("payment.captured", payment, gateway_payment_id="pay_D")
    _post(client, body, signature, new_event_id())

    body, signature = refund_webhook(
        "refund.processed", refund_id="rfnd_dash", gateway_payment_id="pay_D", amount=50_000
    )
    response = _post(client, body, signature, new_event_id())

    payment.refresh_from_db()
    assert response.status_code == 200
    assert (payment.status, payment.refunded_paise) == (S.PARTIALLY_REFUNDED, 50_000)
    assert payment.refunds.get().razorpay_refund_id == "rfnd_dash"
