"""Reconciliation: heal orders whose webhook never came by asking the gateway for its view."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from payments.gateways import GatewayError, gateway_for_payment
from payments.models import Payment, PaymentEvent
from payments.services import payment_capture_apply, payment_transition
from payments.states import GATEWAY_TO_STATUS, OPEN_STATUSES

logger = logging.getLogger("payments")

RECONCILE_AFTER = timedelta(minutes=15)
# Older open orders are abandoned checkouts; asking the gateway about them forever is waste.
RECONCILE_WINDOW = timedelta(days=7)


def payments_reconcile_stuck(*, now=None) -> int:
    """Heal open orders whose webhook never came: ask the gateway, apply its view. Returns how many changed."""
    now = now or timezone.now()
    stuck = Payment.objects.filter(
        status__in=OPEN_STATUSES, created_at__lt=now - RECONCILE_AFTER, created_at__gte=now - RECONCILE_WINDOW
    ).values_list("pk", flat=True)
    changed = 0
    for payment_id in list(stuck[:500]):
        try:
            changed += payment_reconcile(payment_id=payment_id)
        except GatewayError:
            logger.warning("reconcile of payment %s skipped: gateway unavailable", payment_id)
    return changed


def payment_reconcile(*, payment_id: int) -> bool:
    """Apply the gateway's view of one order through the same state machine (source RECONCILE)."""
    payment = Payment.objects.get(pk=payment_id)
    # Asked outside any transaction: no row lock is held while the gateway answers.
    view = gateway_for_payment(payment.gateway).fetch_order(payment.razorpay_order_id)
    attempts = [p for p in view["payments"] if p["status"] in GATEWAY_TO_STATUS]
    # Successful attempts first, so a failed attempt on a paid order sends no "payment failed" message.
    attempts.sort(key=lambda p: p["status"] not in ("captured", "authorized"))
    changed = False
    for attempt in attempts:
        event = {
            "event_id": f"reconcile:{payment.pk}:{attempt['id']}:{attempt['status']}",
            "event_type": f"reconcile.{attempt['status']}",
            "source": PaymentEvent.Source.RECONCILE,
            "payload": {"order_status": view["status"], "payment": attempt},
        }
        if attempt["status"] == "captured":
            # A second capture or a wrong amount becomes an anomaly for staff to refund, never skipped.
            outcome = payment_capture_apply(
                payment_id=payment.pk, gateway_payment_id=attempt["id"], amount_paise=int(attempt["amount"]), **event
            )
        elif int(attempt["amount"]) != payment.amount_paise:
            logger.warning("reconcile: payment %s attempt %s amount differs; no money moved", payment.pk, attempt["id"])
            continue
        else:
            outcome = payment_transition(
                payment_id=payment.pk,
                target=GATEWAY_TO_STATUS[attempt["status"]],
                gateway_payment_id=attempt["id"],
                failure_reason=attempt.get("error") or "",
                **event,
            )
        changed = changed or outcome.changed
    return changed
