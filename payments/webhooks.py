"""Razorpay webhooks: verify the signature over the raw body, parse, apply through the state machine.

The event row is written in the same transaction as the state change (`payment_transition`,
`refund_apply`); a known event id is a duplicate and answered as success.
"""

from __future__ import annotations

import hashlib
import logging

import orjson
from django.db import IntegrityError, transaction

from payments.gateways import PaymentGateway, get_gateway
from payments.models import Payment, PaymentEvent, Refund
from payments.services import (
    Outcome,
    payment_capture_apply,
    payment_event_note,
    payment_transition,
    refund_apply,
    reject,
)

logger = logging.getLogger("payments")

S = Payment.Status


def webhook_receive(*, body: bytes, signature: str, event_id: str, gateway: PaymentGateway | None = None) -> Outcome:
    """Verify, parse and apply one Razorpay webhook; the event row is written with the state change."""
    gateway = gateway or get_gateway()
    if not signature or not gateway.verify_webhook_signature(body=body, signature=signature):
        raise reject("bad_webhook_signature", "The webhook signature does not match.", event_id=event_id)
    try:
        data = orjson.loads(body)
        event_type = data["event"]
        payload = data.get("payload") or {}
        if not isinstance(event_type, str) or not 0 < len(event_type) <= EVENT_TYPE_MAX_LENGTH:
            raise TypeError("event is not an event name")
        if not isinstance(payload, dict):
            raise TypeError("payload is not an object")
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise reject("malformed_webhook", "The webhook body is not a Razorpay event.", event_id=event_id) from exc
    event_id = event_id or f"body:{hashlib.sha256(body).hexdigest()}"
    handler, target = WEBHOOK_HANDLERS.get(event_type, (_webhook_unhandled, ""))
    try:
        return handler(event_id=event_id, event_type=event_type, payload=payload, target=target)
    except (KeyError, TypeError, ValueError) as exc:
        raise reject("malformed_webhook", "The webhook payload lacks its entity.", event_id=event_id) from exc


def _webhook_payment(*, event_id: str, event_type: str, payload: dict, target: str) -> Outcome:
    entity = payload["payment"]["entity"]
    amount = entity["amount"]
    if type(amount) is not int or amount <= 0:  # whole paise; bool is an int to Python, not to Razorpay
        raise ValueError("a payment amount is a positive whole number of paise")
    if not (_gateway_id(entity["id"]) and _gateway_id(entity["order_id"])):
        raise ValueError("a payment's id and order id are Razorpay ids")
    payment = Payment.objects.filter(razorpay_order_id=entity["order_id"]).first()
    if payment is None:
        return _store_unmatched(event_id=event_id, event_type=event_type, payload=payload)
    common = {"event_id": event_id, "event_type": event_type, "source": PaymentEvent.Source.WEBHOOK, "payload": payload}
    if target == S.CAPTURED:
        # Signed by the gateway, so the money is real: applied, or surfaced for a refund (never a 400).
        return payment_capture_apply(
            payment_id=payment.pk, gateway_payment_id=str(entity["id"]), amount_paise=amount, **common
        )
    if amount != payment.amount_paise:
        # No money moved yet (authorized / failed): noted on the payment, nothing changes.
        logger.warning("webhook %s: %s paise for payment %s of %s", event_id, amount, payment.pk, payment.amount_paise)
        return payment_event_note(payment=payment, **common)
    return payment_transition(
        payment_id=payment.pk,
        target=target,
        gateway_payment_id=str(entity["id"]),
        failure_reason=str(entity.get("error_description") or ""),
        **common,
    )


# Razorpay's ids ("pay_…", "order_…", "rfnd_…") are short text; the columns hold 64 characters.
GATEWAY_ID_MAX_LENGTH = 64
EVENT_TYPE_MAX_LENGTH = 50  # PaymentEvent.event_type


def _gateway_id(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= GATEWAY_ID_MAX_LENGTH


def _webhook_refund(*, event_id: str, event_type: str, payload: dict, target: str) -> Outcome:
    entity = payload["refund"]["entity"]
    if not (_gateway_id(entity["id"]) and _gateway_id(entity["payment_id"])) or type(entity["amount"]) is not int:
        raise ValueError("a refund's ids are Razorpay ids and its amount whole paise")
    payment = Payment.objects.filter(razorpay_payment_id=entity["payment_id"]).first()
    if payment is None:
        return _store_unmatched(event_id=event_id, event_type=event_type, payload=payload)
    return refund_apply(
        payment_id=payment.pk,
        razorpay_refund_id=str(entity["id"]),
        amount_paise=int(entity["amount"]),
        target=target,
        event_id=event_id,
        event_type=event_type,
        payload=payload,
        reference=_refund_reference(entity),
    )


def _refund_reference(entity: dict) -> str:
    """Our refund's reference in the refund's notes (set by refund_create); "" when absent or malformed."""
    notes = entity.get("notes")
    reference = notes.get("cerebrum_refund") if isinstance(notes, dict) else None
    return reference if isinstance(reference, str) and len(reference) <= GATEWAY_ID_MAX_LENGTH else ""


def _webhook_unhandled(*, event_id: str, event_type: str, payload: dict, target: str) -> Outcome:
    return _store_unmatched(event_id=event_id, event_type=event_type, payload=payload)


def _store_unmatched(*, event_id: str, event_type: str, payload: dict) -> Outcome:
    """Unknown event types and events for orders that are not ours: stored and acknowledged."""
    try:
        with transaction.atomic():
            PaymentEvent.objects.create(
                provider_event_id=event_id, event_type=event_type, source=PaymentEvent.Source.WEBHOOK, payload=payload
            )
    except IntegrityError:
        return Outcome(payment=None, duplicate=True)
    if event_type in CAPTURE_EVENTS:
        # Money captured on an order Cerebrum does not know: staff refund it from the gateway's dashboard.
        logger.error("webhook %s: %s for an unknown order, stored without a payment", event_id, event_type)
    else:
        logger.info("webhook %s (%s) stored without a payment", event_id, event_type)
    return Outcome(payment=None)


CAPTURE_EVENTS = ("payment.captured", "order.paid")
WEBHOOK_HANDLERS = {
    "payment.authorized": (_webhook_payment, S.AUTHORIZED),
    "payment.captured": (_webhook_payment, S.CAPTURED),
    "payment.failed": (_webhook_payment, S.FAILED),
    "order.paid": (_webhook_payment, S.CAPTURED),
    "refund.created": (_webhook_refund, Refund.Status.CREATED),
    "refund.processed": (_webhook_refund, Refund.Status.PROCESSED),
    "refund.failed": (_webhook_refund, Refund.Status.FAILED),
}
