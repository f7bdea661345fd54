"""Every write to payments goes through here: pages, API, webhooks, the admin and the reconcile task.

Locking order (docs/payments.md): Payment row first, then its Refund rows, then the Enrollment (through
`enrollment_activate`). Creating an order locks only the Enrollment, before its new Payment exists.
A duplicate that the lock cannot see is caught by the unique `PaymentEvent.provider_event_id` and
answered as success. Webhook parsing lives in payments/webhooks.py, reconciliation in payments/reconcile.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import children_for_parent
from analytics.attribution import touches_for_user, utm_columns
from analytics.services import event_record
from cerebrum.bindings import Binding
from cerebrum.errors import Conflict, DomainError, NotFound, Unprocessable
from cerebrum.models import UTM_KEYS
from cerebrum.money import rupees
from communications.services import message_enqueue
from courses.models import Enrollment
from courses.services import enrollment_activate
from payments.coupons import coupon_normalize, coupon_quote, coupon_redemption_record, coupon_reserve
from payments.gateways import GatewayError, PaymentGateway, gateway_for_payment, get_gateway
from payments.invoices import STATE_CODES, credit_note_issue, invoice_issue
from payments.models import Payment, PaymentEvent, Refund
from payments.selectors import billing_state_last, open_order_get, payment_receipt_context
from payments.states import (
    PAID_STATUSES,
    next_status,
    status_after_refund,
)

logger = logging.getLogger("payments")

S = Payment.Status
REFUNDABLE_STATUSES = (S.CAPTURED, S.PARTIALLY_REFUNDED)
# The sandbox gateway settles a refund by a webhook that comes back through this module (payments/sandbox.py
# imports it), so it is bound in PaymentsConfig.ready (cerebrum/bindings.py).
sandbox_refund_settle = Binding("payments.sandbox.sandbox_refund_settle")


class PaymentRejected(DomainError):
    """A callback or webhook that must change nothing (bad signature, wrong order, wrong amount)."""

    status = 400
    code = "payment_rejected"


@dataclass(frozen=True)
class Outcome:
    payment: Payment | None
    changed: bool = False
    duplicate: bool = False
    # Set when the money could not be applied and was surfaced for a refund (Payment.Anomaly).
    anomaly: str = ""


def reject(reason: str, message: str, *, field: str = "non_field_errors", **context) -> PaymentRejected:
    """Log the refusal with its reason and return the error for the caller to raise."""
    logger.warning("payment rejected: %s %s", reason, context)
    return PaymentRejected(message, fields={field: [message]}, code=reason)


# --- Orders ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _OrderPlan:
    """What `_order_prepare` decided under the Enrollment lock: an open order to reuse, or a new one's price."""

    enrollment: Enrollment
    gateway: PaymentGateway
    fee_paise: int
    amount_paise: int
    open_payment: Payment | None


def payment_order_create(*, user, enrollment: Enrollment, coupon_code: str = "", billing_state: str = "") -> Payment:
    """An open gateway order for a PENDING enrollment; the amount comes from the course.

    `user` is the payer: the learner, or a parent linked to the learner (issue 19 item 3). The payment
    belongs to the enrollment's learner (`Payment.user`) and names the payer (`Payment.payer`, the
    invoice's buyer); a child not linked to the payer is a 404. `coupon_code` is checked and counted by
    the server here (payments/coupons.py) against the learner's caps; `billing_state` is the payer's GST
    state code, the invoice's place of supply. Retrying returns the same open order (with its coupon,
    if any), so a double tap never creates two payments or uses a coupon twice.

    Three steps, so that no row lock is held across the gateway's network call (issue 16 item 4): price
    the order under the Enrollment lock (or return the open one), ask the gateway for an order with no
    transaction open, then record it under the lock again, checking everything once more. When a
    concurrent retry recorded its order first, that one is returned and this gateway order is left
    unused (an unpaid Razorpay order expires on its own; nothing is charged). Call it outside a
    transaction: the pages and the API do. Errors: NotFound, Conflict, Unprocessable (field errors),
    GatewayError (502) when the gateway refuses or cannot be reached, with nothing written.
    """
    code = coupon_normalize(coupon_code)
    plan = _order_prepare(user=user, enrollment=enrollment, code=code, billing_state=billing_state)
    if plan.open_payment is not None:
        return plan.open_payment
    gateway_order_id = plan.gateway.create_order(plan.amount_paise, f"enr{enrollment.pk}-{timezone.now():%y%m%d%H%M%S}")
    return _order_record(
        user=user,
        enrollment=enrollment,
        code=code,
        billing_state=billing_state,
        amount_paise=plan.amount_paise,
        gateway_order_id=gateway_order_id,
    )


@transaction.atomic
def _order_prepare(*, user, enrollment: Enrollment, code: str, billing_state: str) -> _OrderPlan:
    """Lock the Enrollment, check it may be paid now, and find the open order to reuse or price a new one
    (a coupon is quoted here, counted only when the order is recorded)."""
    locked = Enrollment.objects.select_for_update().filter(pk=enrollment.pk).select_related("user").first()
    if locked is None or not _may_pay_for(payer=user, learner_id=locked.user_id):
        raise NotFound("Enrollment not found.")
    if locked.status != Enrollment.Status.PENDING:
        raise Conflict("This enrollment is not awaiting payment.", fields={"enrollment_id": ["Not pending."]})
    fee = locked.course.fees_paise
    if fee <= 0:
        raise Unprocessable("This course has no fee to pay.", fields={"enrollment_id": ["Course is free."]})
    if billing_state and billing_state not in STATE_CODES:
        raise Unprocessable("Choose your state.", fields={"billing_state": ["Not a GST state code."]})
    if Payment.objects.filter(enrollment=locked, status=S.AUTHORIZED).exists():
        # Money is already authorized and about to be captured: a second order could charge twice.
        raise Conflict("A payment for this enrollment is being processed.", fields={"enrollment_id": ["In progress."]})
    gateway = get_gateway()
    open_payment = open_order_get(enrollment=locked, gateway_name=gateway.name, coupon_code=code)
    if open_payment is not None:
        if billing_state and open_payment.billing_state != billing_state:
            open_payment.billing_state = billing_state
            open_payment.save(update_fields=["billing_state", "updated_at"])
        return _OrderPlan(locked, gateway, fee, open_payment.amount_paise, open_payment)
    discount = coupon_quote(code=code, user=locked.user, list_price_paise=fee)[1] if code else 0
    return _OrderPlan(locked, gateway, fee, fee - discount, None)


@transaction.atomic
def _order_record(
    *, user, enrollment: Enrollment, code: str, billing_state: str, amount_paise: int, gateway_order_id: str
) -> Payment:
    """Record the gateway's order under the Enrollment lock, idempotently: the checks run again, an open
    order recorded meanwhile (a double tap) wins, and the coupon's use is counted now."""
    plan = _order_prepare(user=user, enrollment=enrollment, code=code, billing_state=billing_state)
    if plan.open_payment is not None:
        logger.info("gateway order %s left unused: order %s was recorded first", gateway_order_id, plan.open_payment.pk)
        return plan.open_payment
    coupon, discount = (None, 0)
    if code:
        coupon, discount = coupon_reserve(code=code, user=plan.enrollment.user, list_price_paise=plan.fee_paise)
    if plan.fee_paise - discount != amount_paise:
        # The fee or the coupon changed between the two steps: the gateway's order has another amount.
        raise Conflict("The price changed while your order was being created. Please try again.")
    payment = _payment_create(
        user=plan.enrollment.user,
        enrollment=plan.enrollment,
        amount=amount_paise,
        gateway=plan.gateway,
        order_id=gateway_order_id,
        extra={
            "payer": user,
            "discount_paise": discount,
            "coupon": coupon,
            "billing_state": billing_state or billing_state_last(user=user),
        },
    )
    if coupon is not None:
        coupon_redemption_record(coupon=coupon, payment=payment, discount_paise=discount)
    return payment


def _may_pay_for(*, payer, learner_id: int) -> bool:
    """The learner themself, or a parent linked to the learner (accounts.selectors decides the link)."""
    return payer.pk == learner_id or children_for_parent(parent=payer).filter(pk=learner_id).exists()


def _payment_create(
    *, user, enrollment: Enrollment, amount: int, gateway: PaymentGateway, order_id: str, extra: dict | None = None
) -> Payment:
    # First and last touch as of now, when the learner chose to pay, on whichever device (issue 22).
    touches = touches_for_user(user_id=user.pk)
    utm = utm_columns(touches["first"]) if touches["first"] else {key: getattr(enrollment, key) for key in UTM_KEYS}
    payment = Payment(
        user=user,
        enrollment=enrollment,
        amount_paise=amount,
        gateway=gateway.name,
        razorpay_order_id=order_id,
        first_touch=touches["first"] or enrollment.first_touch,
        last_touch=touches["last"] or enrollment.last_touch,
        **utm,
        **(extra or {}),
    )
    payment.full_clean(validate_constraints=False)
    payment.save()
    PaymentEvent.objects.create(
        payment=payment,
        provider_event_id=f"order:{order_id}",
        event_type="order.created",
        source=PaymentEvent.Source.SYSTEM,
        to_status=payment.status,
        payload={"amount": amount, "discount": payment.discount_paise, "coupon": payment.coupon_id},
    )
    return payment


# --- Checkout callback ----------------------------------------------------------------------------
@transaction.atomic
def payment_verify_checkout(
    *,
    user,
    razorpay_order_id: str,
    razorpay_payment_id: str,
    razorpay_signature: str,
    amount_paise: int | None = None,
) -> Payment:
    """Verify Checkout's callback against the order id stored for this user (the learner or the payer),
    then capture.

    A replay of an already applied callback returns the payment unchanged (logged as a duplicate).
    """
    payment = Payment.objects.filter(Q(user=user) | Q(payer=user), razorpay_order_id=razorpay_order_id).first()
    if payment is None:
        raise reject(
            "unknown_order",
            "No such order for this account.",
            field="razorpay_order_id",
            order_id=razorpay_order_id,
            user_id=user.pk,
        )
    try:
        gateway = gateway_for_payment(payment.gateway)
    except GatewayError as exc:
        raise reject("gateway_disabled", exc.message, payment_id=payment.pk) from exc
    if not gateway.verify_checkout_signature(
        order_id=payment.razorpay_order_id, payment_id=razorpay_payment_id, signature=razorpay_signature
    ):
        raise reject(
            "bad_signature", "The payment signature does not match.", field="razorpay_signature", payment_id=payment.pk
        )
    if amount_paise is not None and amount_paise != payment.amount_paise:
        raise reject(
            "amount_mismatch",
            "The amount differs from the order.",
            field="amount_paise",
            payment_id=payment.pk,
            amount=amount_paise,
        )
    outcome = payment_capture_apply(
        payment_id=payment.pk,
        gateway_payment_id=razorpay_payment_id,
        amount_paise=None,  # the callback carries no amount signed by the gateway
        event_id=f"checkout:{razorpay_payment_id}",
        event_type="checkout.verified",
        source=PaymentEvent.Source.CHECKOUT,
        payload={"razorpay_order_id": razorpay_order_id, "razorpay_payment_id": razorpay_payment_id},
    )
    if outcome.duplicate:
        logger.info("replayed checkout callback for payment %s ignored", payment.pk)
    return outcome.payment


# --- Captures: applied to the order, or surfaced as an anomaly ---------------------------------------
@transaction.atomic
def payment_capture_apply(
    *,
    payment_id: int,
    gateway_payment_id: str,
    amount_paise: int | None,
    event_id: str,
    event_type: str,
    source: str,
    payload: dict,
) -> Outcome:
    """Money the gateway captured (`gateway_payment_id`, `amount_paise`) on the order of `payment_id`.

    Applied to the order when it fits. Money that cannot be applied is never absorbed (issue 14 item 6):
    a second payment id on an order already paid or refunded, or an amount other than the order's,
    becomes its own CAPTURED payment with an `anomaly`, `order_payment` pointing at the order. A capture
    for an enrollment that cannot take it flags the order's payment itself (`_on_captured`). Either
    way it is logged at ERROR, listed in the admin's "Payments to refund", and the learner is told.
    `amount_paise` None: the caller has no amount from the gateway (the Checkout callback).
    """
    order = _payment_lock(payment_id)
    known = Payment.objects.filter(razorpay_payment_id=gateway_payment_id).exclude(pk=order.pk).first()
    if known is not None:  # a stray capture already recorded: its own row carries this event
        return payment_event_note(
            payment=known, event_id=event_id, event_type=event_type, source=source, payload=payload
        )
    same_payment = order.razorpay_payment_id == gateway_payment_id
    wrong_amount = amount_paise is not None and amount_paise != order.amount_paise
    anomaly = ""
    if not same_payment and wrong_amount:
        anomaly = Payment.Anomaly.AMOUNT_MISMATCH
    elif not same_payment and order.status in PAID_STATUSES:
        anomaly = Payment.Anomaly.DUPLICATE_CAPTURE
    if anomaly:
        return _stray_capture_record(
            order=order,
            anomaly=anomaly,
            gateway_payment_id=gateway_payment_id,
            amount_paise=order.amount_paise if amount_paise is None else amount_paise,
            event=(event_id, event_type, source, payload),
        )
    if wrong_amount:
        logger.error("payment %s: gateway reports %s paise for %s", order.pk, amount_paise, gateway_payment_id)
    return _transition_apply(
        order, target=S.CAPTURED, event=(event_id, event_type, source, payload), gateway_payment_id=gateway_payment_id
    )


@transaction.atomic
def payment_event_note(*, payment: Payment, event_id: str, event_type: str, source: str, payload: dict) -> Outcome:
    """Record a gateway event that changes nothing on `payment` (from = to), exactly once per `event_id`."""
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if not _event_insert(locked, event_id, event_type, source, payload, locked.status, locked.status):
        return Outcome(payment=locked, duplicate=True)
    return Outcome(payment=locked)


def _stray_capture_record(
    *, order: Payment, anomaly: str, gateway_payment_id: str, amount_paise: int, event: tuple
) -> Outcome:
    """A capture that cannot be applied to `order` (locked): its own CAPTURED payment, to be refunded."""
    event_id, event_type, source, payload = event
    stray = Payment(
        user=order.user,
        payer=order.payer,  # whose card was charged: they see it, and its credit note names them
        billing_state=order.billing_state,
        enrollment=order.enrollment,
        amount_paise=amount_paise,
        status=S.CAPTURED,
        gateway=order.gateway,
        razorpay_payment_id=gateway_payment_id,
        anomaly=anomaly,
        order_payment=order,
        captured_at=timezone.now(),
        **{key: getattr(order, key) for key in UTM_KEYS},
    )
    stray.full_clean(validate_constraints=False)
    stray.save()
    _event_insert(stray, event_id, event_type, source, payload, "", S.CAPTURED)
    PaymentEvent.objects.create(
        payment=order,
        provider_event_id=f"anomaly:{stray.pk}",
        event_type="anomaly.recorded",
        source=PaymentEvent.Source.SYSTEM,
        from_status=order.status,
        to_status=order.status,
        payload={"stray_payment_id": stray.pk, "razorpay_payment_id": gateway_payment_id, "anomaly": anomaly},
    )
    _anomaly_surface(stray)
    return Outcome(payment=stray, changed=True, anomaly=anomaly)


def _anomaly_surface(payment: Payment) -> None:
    """Staff see it (ERROR log, the "Payments to refund" list) and the learner is told, once."""
    logger.error(
        "payment anomaly %s: payment %s (%s, %s paise, order payment %s, enrollment %s) needs a refund",
        payment.anomaly,
        payment.pk,
        payment.razorpay_payment_id,
        payment.amount_paise,
        payment.order_payment_id or payment.pk,
        payment.enrollment_id,
    )
    _payment_message(
        payment,
        template="payment_anomaly",
        context={
            "name": payment.user.name,
            "course": payment.enrollment.course.name,
            "amount": rupees(payment.amount_paise),
            "reason": ANOMALY_REASONS[payment.anomaly],
        },
        key=f"payment_anomaly:{payment.pk}",
    )


def _payment_message(payment: Payment, *, template: str, context: dict, key: str) -> None:
    """Tell the learner, and the parent who paid when that is someone else (the invoice's buyer, whose
    card was charged or is refunded), under their own key `<key>:payer` (issue 22: receipts arrive)."""
    message_enqueue(template=template, context=context, idempotency_key=key, user=payment.user)
    if payment.payer_id and payment.payer_id != payment.user_id:
        payer = payment.payer
        message_enqueue(
            template=template, context={**context, "name": payer.name}, idempotency_key=f"{key}:payer", user=payer
        )


# What the learner reads about each anomaly (the message says the money will be refunded in full).
ANOMALY_REASONS = {
    Payment.Anomaly.DUPLICATE_CAPTURE: "this order had already been paid, so this second payment was not needed",
    Payment.Anomaly.AMOUNT_MISMATCH: "the amount received differs from the course fee",
    Payment.Anomaly.ENROLLMENT_NOT_PENDING: "the enrollment was no longer awaiting payment",
    Payment.Anomaly.ENROLLMENT_ALREADY_PAID: "the course had already been paid for",
}


# --- The state machine applied ----------------------------------------------------------------------
@transaction.atomic
def payment_transition(
    *,
    payment_id: int,
    target: str,
    event_id: str,
    event_type: str,
    source: str,
    payload: dict,
    gateway_payment_id: str = "",
    failure_reason: str = "",
) -> Outcome:
    """Move one payment towards `target` (forward only), exactly once per `event_id`.

    A capture goes through `payment_capture_apply`, which checks it can be applied first.
    """
    payment = _payment_lock(payment_id)
    return _transition_apply(
        payment,
        target=target,
        event=(event_id, event_type, source, payload),
        gateway_payment_id=gateway_payment_id,
        failure_reason=failure_reason,
    )


def _payment_lock(payment_id: int) -> Payment:
    # of=("self",): lock the payment row only, not the joined course and user every buyer shares.
    return (
        Payment.objects.select_for_update(of=("self",)).select_related("enrollment__course", "user").get(pk=payment_id)
    )


def _transition_apply(
    payment: Payment, *, target: str, event: tuple, gateway_payment_id: str = "", failure_reason: str = ""
) -> Outcome:
    """The state machine on a payment locked by the caller; `event` is (id, type, source, payload)."""
    event_id, event_type, source, payload = event
    before = payment.status
    after = next_status(before, target)
    if not _event_insert(payment, event_id, event_type, source, payload, before, after):
        return Outcome(payment=payment, duplicate=True)
    if after == before:
        return Outcome(payment=payment)
    payment.status = after
    fields = ["status", "updated_at"]
    if after in (S.AUTHORIZED, S.CAPTURED) and gateway_payment_id:
        payment.razorpay_payment_id = gateway_payment_id
        fields.append("razorpay_payment_id")
    if after == S.FAILED:
        payment.failure_reason = failure_reason[:300] or "Payment failed at the gateway."
        fields.append("failure_reason")
    if after == S.CAPTURED:
        payment.captured_at = timezone.now()
        payment.failure_reason = ""
        fields += ["captured_at", "failure_reason"]
    payment.save(update_fields=fields)
    if after == S.CAPTURED:
        _on_captured(payment)
    elif after == S.FAILED:
        _on_failed(payment)
    return Outcome(payment=payment, changed=True, anomaly=payment.anomaly)


def _event_insert(payment, event_id, event_type, source, payload, before, after) -> bool:
    """False when this event was already applied (seen under the payment lock, or caught by the unique id)."""
    if PaymentEvent.objects.filter(provider_event_id=event_id).exists():
        return False
    try:
        with transaction.atomic():
            PaymentEvent.objects.create(
                payment=payment,
                provider_event_id=event_id,
                event_type=event_type,
                source=source,
                from_status=before,
                to_status=after,
                payload=payload,
            )
    except IntegrityError:
        return False
    return True


def _on_captured(payment: Payment) -> None:
    anomaly = _enrollment_anomaly(payment)
    if anomaly:
        # The money is taken either way: the payment stays CAPTURED, flagged for staff to refund.
        payment.anomaly = anomaly
        payment.save(update_fields=["anomaly", "updated_at"])
        _anomaly_surface(payment)
        return
    invoice = invoice_issue(payment=payment)
    # receipt_number (API, search) is the tax invoice's number.
    payment.receipt_number = invoice.number
    payment.save(update_fields=["receipt_number", "updated_at"])
    _payment_message(
        payment, template="payment_receipt", context=_receipt_message_context(payment), key=f"receipt:{payment.pk}"
    )
    event_record(
        event_type="PAYMENT",
        name="payment_captured",
        user=payment.user,
        properties={
            "payment_id": payment.pk,
            "amount_paise": payment.amount_paise,
            "course_id": payment.enrollment.course_id,
            "enrollment_id": payment.enrollment_id,
        },
        utm={key: getattr(payment, key) for key in UTM_KEYS},
    )


def _enrollment_anomaly(payment: Payment) -> str:
    """Activate the payment's enrollment; the anomaly when it cannot take this money, else ""."""
    try:
        _, changed = enrollment_activate(enrollment=payment.enrollment)
    except Conflict:
        return Payment.Anomaly.ENROLLMENT_NOT_PENDING
    if changed:
        return ""
    # Already ACTIVE: fine after a staff activation, a double payment when another order paid for it.
    paid_elsewhere = (
        Payment.objects.filter(enrollment_id=payment.enrollment_id, anomaly="", status__in=REFUNDABLE_STATUSES)
        .exclude(pk=payment.pk)
        .exists()
    )
    return Payment.Anomaly.ENROLLMENT_ALREADY_PAID if paid_elsewhere else ""


def _on_failed(payment: Payment) -> None:
    retry_url = settings.SITE_URL + reverse("payments:checkout", args=[payment.enrollment_id])
    _payment_message(
        payment,
        template="payment_failed",
        context={
            "name": payment.user.name,
            "course": payment.enrollment.course.name,
            "amount_paise": payment.amount_paise,
            "reason": payment.failure_reason,
            "retry_url": retry_url,
        },
        key=f"payment_failed:{payment.pk}",
    )


def _receipt_message_context(payment: Payment) -> dict:
    """The receipt template's `amount` and `receipt`, with the GST split spelled out for the learner."""
    receipt = payment_receipt_context(payment)
    if receipt["igst_paise"]:
        tax = f"IGST {rupees(receipt['igst_paise'])}"
    else:
        tax = f"CGST {rupees(receipt['cgst_paise'])} + SGST {rupees(receipt['sgst_paise'])}"
    amount = f"{rupees(receipt['total_paise'])} (fee {rupees(receipt['base_paise'])} + {tax})"
    return {**receipt, "amount": amount, "receipt": payment.receipt_number}


# --- Refunds ---------------------------------------------------------------------------------------
def refund_create(*, payment: Payment, amount_paise: int, reason: str = "", created_by=None) -> Refund:
    """Staff refund (full or partial) through the gateway; its webhooks move it to PROCESSED or FAILED.

    Three steps, so that no row lock is held across the gateway's network call (issue 16 item 4), like
    payment_order_create: under the Payment lock the amount is checked and reserved by a CREATED Refund
    without a gateway id (committed; refundable_paise counts it, so a double click finds nothing left to
    refund and gets the field error instead of a second gateway refund); the gateway is asked with no
    transaction open, our reference "cerebrum-refund-<pk>" in the refund's receipt and notes; then the
    gateway's refund id is recorded under the lock. A webhook arriving before that finds the reserved row
    (refund_apply: by the reference in its notes, else by payment and amount) instead of adopting it as an
    outside refund. When the gateway refuses or cannot be reached the row is FAILED, nothing is refunded
    and the amount is refundable again; GatewayError (502) is raised. Call it outside a transaction (the
    admin does). Errors: Conflict (not refundable), DomainError with `amount_paise` field errors.
    """
    refund = _refund_reserve(payment=payment, amount_paise=amount_paise, reason=reason, created_by=created_by)
    gateway = gateway_for_payment(refund.payment.gateway)
    reference = refund_reference(refund.pk)
    try:
        refund_id = gateway.refund(refund.payment.razorpay_payment_id, amount_paise, reference=reference)
    except GatewayError:
        Refund.objects.filter(pk=refund.pk, status=Refund.Status.CREATED, razorpay_refund_id=None).update(
            status=Refund.Status.FAILED, updated_at=timezone.now()
        )
        raise
    return _refund_record(
        refund_pk=refund.pk, refund_id=refund_id, created_by=created_by, sandbox=gateway.name == "SANDBOX"
    )


def refund_reference(refund_pk: int) -> str:
    """Our name for a refund at the gateway (its receipt and notes.cerebrum_refund)."""
    return f"cerebrum-refund-{refund_pk}"


@transaction.atomic
def _refund_reserve(*, payment: Payment, amount_paise: int, reason: str, created_by) -> Refund:
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if locked.status not in REFUNDABLE_STATUSES:
        raise Conflict("Only a captured payment can be refunded.", fields={"amount_paise": ["Not refundable."]})
    refundable = refundable_paise(locked)
    if not 0 < amount_paise <= refundable:
        raise DomainError(
            f"Refund between ₹0.01 and ₹{refundable / 100:,.2f}.",
            fields={"amount_paise": [f"Must be between 1 and {refundable} paise."]},
        )
    gateway_for_payment(locked.gateway)  # a payment of a disabled gateway is refused before anything is written
    refund = Refund(payment=locked, amount_paise=amount_paise, reason=reason, created_by=created_by)
    refund.full_clean(validate_constraints=False)
    refund.save()
    return refund


@transaction.atomic
def _refund_record(*, refund_pk: int, refund_id: str, created_by, sandbox: bool) -> Refund:
    """The gateway's refund id on our reserved row, under the Payment lock (a webhook may have set it already)."""
    locked = _payment_lock(Refund.objects.values_list("payment_id", flat=True).get(pk=refund_pk))
    refund = Refund.objects.select_for_update().get(pk=refund_pk)
    if refund.razorpay_refund_id is None:
        refund.razorpay_refund_id = refund_id
        refund.save(update_fields=["razorpay_refund_id", "updated_at"])
    PaymentEvent.objects.create(
        payment=locked,
        provider_event_id=f"refund-request:{refund_id}",
        event_type="refund.requested",
        source=PaymentEvent.Source.STAFF,
        from_status=locked.status,
        to_status=locked.status,
        payload={"refund_id": refund_id, "amount": refund.amount_paise, "by": getattr(created_by, "pk", None)},
    )
    if sandbox:
        transaction.on_commit(lambda: sandbox_refund_settle(refund_id=refund.pk))
    return refund


def refundable_paise(payment: Payment) -> int:
    """Captured minus refunded minus refunds still in flight (they reserve their amount)."""
    pending = payment.refunds.filter(status=Refund.Status.CREATED).aggregate(total=Sum("amount_paise"))["total"]
    return payment.amount_paise - payment.refunded_paise - (pending or 0)


@transaction.atomic
def refund_apply(
    *,
    payment_id: int,
    razorpay_refund_id: str,
    amount_paise: int,
    target: str,
    event_id: str,
    event_type: str,
    payload: dict,
    source: str = PaymentEvent.Source.WEBHOOK,
    reference: str = "",
) -> Outcome:
    """A refund's gateway state, forward only (CREATED → PROCESSED | FAILED); never above the capture.

    `reference`: the refund's notes.cerebrum_refund when it has one (refund_reference). A refund id we
    have not recorded yet is first matched to our row reserved by refund_create while it waits for the
    gateway; only when there is none is it adopted as a refund made outside Cerebrum.
    """
    payment = _payment_lock(payment_id)
    refund = Refund.objects.select_for_update().filter(razorpay_refund_id=razorpay_refund_id).first()
    if refund is None:
        refund = _refund_reserved_match(payment, razorpay_refund_id, amount_paise, reference)
    if refund is None:
        refund = _refund_adopt(payment, razorpay_refund_id, amount_paise, event_id)
    before = payment.status
    moves = refund.status == Refund.Status.CREATED and target != Refund.Status.CREATED
    after = before
    if moves and target == Refund.Status.PROCESSED:
        after = status_after_refund(
            amount_paise=payment.amount_paise, refunded_paise=payment.refunded_paise + refund.amount_paise
        )
    if not _event_insert(payment, event_id, event_type, source, payload, before, after):
        return Outcome(payment=payment, duplicate=True)
    if not moves:
        return Outcome(payment=payment)
    refund.status = target
    refund.save(update_fields=["status", "updated_at"])
    if target == Refund.Status.PROCESSED:
        payment.refunded_paise += refund.amount_paise
        payment.status = after
        payment.save(update_fields=["refunded_paise", "status", "updated_at"])
        _on_refunded(payment, refund)
    return Outcome(payment=payment, changed=True)


def _on_refunded(payment: Payment, refund: Refund) -> None:
    """A processed refund: its credit note (when the payment was invoiced) and a message to the learner."""
    note = credit_note_issue(refund=refund, payment=payment)
    _payment_message(
        payment,
        template="refund_issued",
        context={
            "name": payment.user.name,
            "course": payment.enrollment.course.name,
            "amount": rupees(refund.amount_paise),
            "reference": note.number if note else refund.razorpay_refund_id,
        },
        key=f"refund_issued:{refund.pk}",
    )


def _refund_reserved_match(
    payment: Payment, razorpay_refund_id: str, amount_paise: int, reference: str
) -> Refund | None:
    """Our refund waiting for the gateway's answer (CREATED, no gateway id yet): the one the reference
    names, else the oldest of this payment with this amount. It takes the gateway's id now."""
    waiting = Refund.objects.select_for_update().filter(
        payment=payment, status=Refund.Status.CREATED, razorpay_refund_id=None, amount_paise=amount_paise
    )
    named = [pk for pk in waiting.values_list("pk", flat=True) if refund_reference(pk) == reference]
    refund = waiting.filter(pk__in=named).first() if named else waiting.order_by("pk").first()
    if refund is not None:
        refund.razorpay_refund_id = razorpay_refund_id
        refund.save(update_fields=["razorpay_refund_id", "updated_at"])
    return refund


def _refund_adopt(payment: Payment, razorpay_refund_id: str, amount_paise: int, event_id: str) -> Refund:
    """A refund made outside Cerebrum (the gateway's dashboard): recorded if it fits what is refundable."""
    if payment.status not in REFUNDABLE_STATUSES or amount_paise > refundable_paise(payment):
        raise reject(
            "refund_exceeds_capture",
            "The refund exceeds what was captured.",
            payment_id=payment.pk,
            refund_id=razorpay_refund_id,
            event_id=event_id,
        )
    refund = Refund(
        payment=payment, amount_paise=amount_paise, razorpay_refund_id=razorpay_refund_id, reason="Made at the gateway"
    )
    refund.full_clean(validate_constraints=False)
    refund.save()
    return refund
