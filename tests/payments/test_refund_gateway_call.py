"""A staff refund holds no row lock across Razorpay's network call (issue 16 item 4), like checkout:
the amount is reserved by a committed CREATED row, the gateway is called with no transaction of ours
open, and its refund id is recorded afterwards. Razorpay is mocked at the HTTP boundary only."""

from __future__ import annotations

import json

import pytest
import responses
from django.db import connection
from django.utils import timezone

from cerebrum.errors import DomainError
from payments import services
from payments.gateways import GatewayError, SandboxGateway
from payments.models import Payment, PaymentEvent, Refund
from payments.webhooks import webhook_receive
from tests.payments.conftest import new_event_id, signed_webhook
from tests.payments.factories import PaymentFactory

pytestmark = pytest.mark.django_db
REFUND_URL = "https://api.razorpay.com/v1/payments/pay_RF1/refund"


@pytest.fixture
def captured(settings):
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_test_key", "secret"
    return PaymentFactory(
        gateway=Payment.Gateway.RAZORPAY,
        status=Payment.Status.CAPTURED,
        razorpay_payment_id="pay_RF1",
        captured_at=timezone.now(),
    )


def _answer(refund_id: str, amount: int) -> tuple[int, dict, str]:
    return 200, {}, json.dumps({"id": refund_id, "entity": "refund", "amount": amount, "payment_id": "pay_RF1"})


@responses.activate
def test_the_gateway_is_called_with_the_amount_reserved_and_no_transaction_of_ours_open(captured):
    depth = len(connection.atomic_blocks)  # the test itself runs in a transaction
    seen = []

    def refund(request):
        reserved = Refund.objects.get()
        seen.append((len(connection.atomic_blocks), reserved.status, reserved.razorpay_refund_id))
        seen.append(services.refundable_paise(captured))
        seen.append(json.loads(request.body))
        return _answer("rfnd_NOLOCK", 50_000)

    responses.add_callback(responses.POST, REFUND_URL, callback=refund)

    refund = services.refund_create(payment=captured, amount_paise=50_000)

    assert seen[0] == (depth, Refund.Status.CREATED, None)
    assert seen[1] == captured.amount_paise - 50_000  # reserved while the gateway answers
    reference = services.refund_reference(refund.pk)
    assert seen[2] == {"amount": 50_000, "receipt": reference, "notes": {"cerebrum_refund": reference}}
    assert (refund.razorpay_refund_id, refund.status) == ("rfnd_NOLOCK", Refund.Status.CREATED)
    assert PaymentEvent.objects.filter(provider_event_id="refund-request:rfnd_NOLOCK").count() == 1


@responses.activate
def test_a_second_request_during_the_call_is_refused_and_the_gateway_refunds_once(captured):
    second = []

    def refund(request):
        with pytest.raises(DomainError) as error:  # a double click of "Refund in full"
            services.refund_create(payment=captured, amount_paise=captured.amount_paise)
        second.append(error.value.fields)
        return _answer("rfnd_ONCE", captured.amount_paise)

    call = responses.add_callback(responses.POST, REFUND_URL, callback=refund)

    services.refund_create(payment=captured, amount_paise=captured.amount_paise)

    assert call.call_count == 1
    assert "amount_paise" in second[0]
    assert list(Refund.objects.values_list("razorpay_refund_id", flat=True)) == ["rfnd_ONCE"]


@responses.activate
def test_a_gateway_5xx_refunds_nothing_and_leaves_the_amount_refundable(captured):
    responses.post(REFUND_URL, status=502, json={"error": {"code": "SERVER_ERROR", "description": "down"}})

    with pytest.raises(GatewayError):
        services.refund_create(payment=captured, amount_paise=captured.amount_paise)

    captured.refresh_from_db()
    assert list(Refund.objects.values_list("status", "razorpay_refund_id")) == [(Refund.Status.FAILED, None)]
    assert (captured.status, captured.refunded_paise) == (Payment.Status.CAPTURED, 0)
    assert services.refundable_paise(captured) == captured.amount_paise
    assert not PaymentEvent.objects.filter(event_type="refund.requested").exists()


@responses.activate
def test_a_webhook_arriving_during_the_call_settles_our_refund_not_an_outside_one(captured):
    def refund(request):
        reference = json.loads(request.body)["notes"]["cerebrum_refund"]
        entity = {
            "id": "rfnd_EARLY",
            "entity": "refund",
            "amount": 30_000,
            "payment_id": "pay_RF1",
            "status": "processed",
            "notes": {"cerebrum_refund": reference},
        }
        body, signature = signed_webhook("refund.processed", {"refund": entity})
        webhook_receive(body=body, signature=signature, event_id=new_event_id(), gateway=SandboxGateway())
        return _answer("rfnd_EARLY", 30_000)

    responses.add_callback(responses.POST, REFUND_URL, callback=refund)

    refund = services.refund_create(payment=captured, amount_paise=30_000, reason="Changed batch")

    captured.refresh_from_db()
    assert Refund.objects.count() == 1
    assert (refund.razorpay_refund_id, refund.status, refund.reason) == ("rfnd_EARLY", "PROCESSED", "Changed batch")
    assert (captured.status, captured.refunded_paise) == (Payment.Status.PARTIALLY_REFUNDED, 30_000)
