"""The sandbox's gateway side: what Razorpay would do when a learner pays, fails or is refunded.

It records the attempt in the sandbox gateway's state, signs the Checkout callback with the sandbox key
secret and delivers signed webhooks in Razorpay's documented shape to `webhook_receive` after commit, so
`make run` and the browser tests go through exactly the verification and state machine used in production.
"""

from __future__ import annotations

import secrets
import time

import orjson
from django.db import transaction
from django.db.models import Q

from cerebrum.errors import Conflict, NotFound
from payments.gateways import SandboxGateway, gateway_for_payment
from payments.models import Payment, Refund
from payments.states import OPEN_STATUSES
from payments.webhooks import webhook_receive

S = Payment.Status


def sandbox_checkout_complete(*, user, payment_id: int, succeeded: bool) -> dict:
    """The learner pressed Pay or Fail on the sandbox checkout. Returns Checkout's callback fields."""
    payment = Payment.objects.filter(
        Q(user=user) | Q(payer=user), pk=payment_id, gateway=Payment.Gateway.SANDBOX
    ).first()
    if payment is None:
        raise NotFound("Payment not found.")
    if payment.status not in (*OPEN_STATUSES, S.FAILED):
        raise Conflict("This order is already settled.")
    gateway = gateway_for_payment(payment.gateway)  # refuses when real Razorpay keys are configured
    attempt = gateway.record_attempt(
        order_id=payment.razorpay_order_id, amount_paise=payment.amount_paise, succeeded=succeeded
    )
    entity = _payment_entity(payment, attempt)
    events = [("payment.captured", {"payment": entity}), ("order.paid", {"payment": entity, "order": _order(payment)})]
    if not succeeded:
        events = [("payment.failed", {"payment": entity})]
    for event_type, payload in events:
        transaction.on_commit(lambda e=event_type, p=payload: sandbox_webhook_deliver(event_type=e, payload=p))
    return {
        "razorpay_order_id": payment.razorpay_order_id,
        "razorpay_payment_id": attempt["id"],
        "razorpay_signature": gateway.sign_checkout(order_id=payment.razorpay_order_id, payment_id=attempt["id"]),
        "succeeded": succeeded,
    }


def sandbox_refund_settle(*, refund_id: int) -> None:
    """The sandbox processes every refund at once and says so by webhook."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    entity = {
        "id": refund.razorpay_refund_id,
        "entity": "refund",
        "amount": refund.amount_paise,
        "currency": "INR",
        "payment_id": refund.payment.razorpay_payment_id,
        "status": "processed",
    }
    sandbox_webhook_deliver(event_type="refund.processed", payload={"refund": entity})


def sandbox_webhook_deliver(*, event_type: str, payload: dict) -> None:
    body = sandbox_webhook_body(event_type=event_type, payload=payload)
    webhook_receive(
        body=body,
        signature=SandboxGateway().sign_webhook(body),
        event_id=f"evt_SBX{secrets.token_hex(7)}",
        gateway=SandboxGateway(),
    )


def sandbox_webhook_body(*, event_type: str, payload: dict) -> bytes:
    """A webhook body in Razorpay's shape; `payload` maps entity names ("payment", "order") to entities."""
    wrapped = {name: {"entity": entity} for name, entity in payload.items()}
    return orjson.dumps(
        {
            "entity": "event",
            "account_id": "acc_SBXsandbox",
            "event": event_type,
            "contains": list(wrapped),
            "payload": wrapped,
            "created_at": int(time.time()),
        }
    )


def _payment_entity(payment: Payment, attempt: dict) -> dict:
    return {
        "id": attempt["id"],
        "entity": "payment",
        "amount": payment.amount_paise,
        "currency": "INR",
        "status": attempt["status"],
        "order_id": payment.razorpay_order_id,
        "method": "upi",
        "captured": attempt["status"] == "captured",
        "error_description": attempt["error"] or None,
        "email": payment.user.email or "",
        "contact": payment.user.phone or "",
    }


def _order(payment: Payment) -> dict:
    return {
        "id": payment.razorpay_order_id,
        "entity": "order",
        "amount": payment.amount_paise,
        "amount_paid": payment.amount_paise,
        "amount_due": 0,
        "currency": "INR",
        "status": "paid",
    }
