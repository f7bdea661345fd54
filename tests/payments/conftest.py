"""Helpers for payments tests: correctly signed sandbox callbacks and webhooks."""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings

from payments.gateways import hmac_sha256_hex
from payments.models import Payment
from payments.sandbox import sandbox_webhook_body

_ids = itertools.count(1)


def checkout_signature(order_id: str, payment_id: str) -> str:
    return hmac_sha256_hex(settings.SANDBOX_KEY_SECRET, f"{order_id}|{payment_id}".encode())


def payment_entity(payment: Payment, *, gateway_payment_id: str, status: str, amount: int | None = None) -> dict:
    return {
        "id": gateway_payment_id,
        "entity": "payment",
        "amount": payment.amount_paise if amount is None else amount,
        "currency": "INR",
        "status": status,
        "order_id": payment.razorpay_order_id,
        "error_description": "Card declined" if status == "failed" else None,
    }


def signed_webhook(event_type: str, payload: dict) -> tuple[bytes, str]:
    """(body, X-Razorpay-Signature) in Razorpay's shape, signed with the sandbox webhook secret."""
    body = sandbox_webhook_body(event_type=event_type, payload=payload)
    return body, hmac_sha256_hex(settings.SANDBOX_WEBHOOK_SECRET, body)


def payment_webhook(
    event_type: str, payment: Payment, gateway_payment_id: str = "pay_TEST1", **entity
) -> tuple[bytes, str]:
    status = {"payment.authorized": "authorized", "payment.failed": "failed"}.get(event_type, "captured")
    payload = {"payment": payment_entity(payment, gateway_payment_id=gateway_payment_id, status=status, **entity)}
    if event_type == "order.paid":
        payload["order"] = {
            "id": payment.razorpay_order_id,
            "entity": "order",
            "amount": payment.amount_paise,
            "status": "paid",
        }
    return signed_webhook(event_type, payload)


def refund_webhook(event_type: str, *, refund_id: str, gateway_payment_id: str, amount: int) -> tuple[bytes, str]:
    status = event_type.split(".")[1]
    entity = {"id": refund_id, "entity": "refund", "amount": amount, "payment_id": gateway_payment_id, "status": status}
    return signed_webhook(event_type, {"refund": entity})


def new_event_id() -> str:
    return f"evt_TEST{next(_ids):08d}"


@pytest.fixture
def payment(db):
    from tests.payments.factories import PaymentFactory

    return PaymentFactory()
