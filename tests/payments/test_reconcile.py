"""Reconciliation heals orders whose webhook never came, through the same state machine."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from communications.models import CommunicationLog
from courses.models import Enrollment
from payments.gateways import SandboxGateway
from payments.models import Payment, PaymentEvent
from payments.reconcile import payment_reconcile, payments_reconcile_stuck
from payments.tasks import payments_reconcile
from tests.conftest import wait_until
from tests.payments.factories import PaymentFactory

pytestmark = pytest.mark.django_db
S = Payment.Status


def _stuck_payment(minutes: int = 20, **kwargs) -> Payment:
    """A sandbox order created `minutes` ago that the sandbox gateway knows about."""
    payment = PaymentFactory(**kwargs)
    payment.razorpay_order_id = SandboxGateway().create_order(payment.amount_paise, "r")
    payment.save(update_fields=["razorpay_order_id"])
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    return payment


def test_reconcile_heals_a_payment_whose_webhook_never_came():
    payment = _stuck_payment()
    attempt = SandboxGateway().record_attempt(
        order_id=payment.razorpay_order_id, amount_paise=payment.amount_paise, succeeded=True
    )

    healed = payments_reconcile.apply().get()

    payment.refresh_from_db()
    assert healed == 1
    assert (payment.status, payment.razorpay_payment_id) == (S.CAPTURED, attempt["id"])
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == Enrollment.Status.ACTIVE
    event = PaymentEvent.objects.get(payment=payment, to_status=S.CAPTURED)
    assert (event.source, event.provider_event_id) == ("RECONCILE", f"reconcile:{payment.pk}:{attempt['id']}:captured")
    assert CommunicationLog.objects.filter(template="payment_receipt").count() == 2


def test_reconcile_twice_changes_nothing_the_second_time():
    payment = _stuck_payment()
    SandboxGateway().record_attempt(
        order_id=payment.razorpay_order_id, amount_paise=payment.amount_paise, succeeded=True
    )
    payment_reconcile(payment_id=payment.pk)

    assert payment_reconcile(payment_id=payment.pk) is False
    assert PaymentEvent.objects.filter(payment=payment, source="RECONCILE").count() == 1


def test_reconcile_leaves_recent_and_settled_payments_alone():
    recent = _stuck_payment(minutes=5)
    settled = _stuck_payment(status=S.CAPTURED)
    for payment in (recent, settled):
        SandboxGateway().record_attempt(
            order_id=payment.razorpay_order_id, amount_paise=payment.amount_paise, succeeded=True
        )

    assert payments_reconcile_stuck() == 0
    assert not PaymentEvent.objects.filter(source="RECONCILE").exists()


def test_a_failed_then_successful_attempt_reconciles_to_captured_without_a_failure_message():
    payment = _stuck_payment()
    sandbox = SandboxGateway()
    sandbox.record_attempt(order_id=payment.razorpay_order_id, amount_paise=payment.amount_paise, succeeded=False)
    sandbox.record_attempt(order_id=payment.razorpay_order_id, amount_paise=payment.amount_paise, succeeded=True)

    payment_reconcile(payment_id=payment.pk)

    payment.refresh_from_db()
    assert payment.status == S.CAPTURED
    assert not CommunicationLog.objects.filter(template="payment_failed").exists()


def test_only_failed_attempts_reconcile_to_failed():
    payment = _stuck_payment()
    SandboxGateway().record_attempt(
        order_id=payment.razorpay_order_id, amount_paise=payment.amount_paise, succeeded=False
    )

    payment_reconcile(payment_id=payment.pk)

    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == (S.FAILED, "Payment declined in the sandbox.")
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == Enrollment.Status.PENDING


@responses.activate
def test_reconcile_asks_razorpay_for_razorpay_orders(settings):
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_test_key", "secret"
    payment = PaymentFactory(gateway=Payment.Gateway.RAZORPAY, razorpay_order_id="order_RZP1")
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    responses.get("https://api.razorpay.com/v1/orders/order_RZP1", json={"id": "order_RZP1", "status": "paid"})
    responses.get(
        "https://api.razorpay.com/v1/orders/order_RZP1/payments",
        json={"entity": "collection", "count": 1, "items": [
            {"id": "pay_RZP1", "entity": "payment", "amount": payment.amount_paise, "status": "captured", "order_id": "order_RZP1"},
        ]},
    )  # fmt: skip

    assert payments_reconcile_stuck() == 1

    payment.refresh_from_db()
    assert (payment.status, payment.razorpay_payment_id) == (S.CAPTURED, "pay_RZP1")


@responses.activate
def test_an_unreachable_gateway_skips_the_payment(settings):
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_test_key", "secret"
    payment = PaymentFactory(gateway=Payment.Gateway.RAZORPAY, razorpay_order_id="order_RZP2")
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    responses.get("https://api.razorpay.com/v1/orders/order_RZP2", status=500, json={"error": {"code": "SERVER_ERROR"}})

    assert payments_reconcile_stuck() == 0
    payment.refresh_from_db()
    assert payment.status == S.CREATED


@pytest.mark.worker
def test_a_real_worker_runs_the_reconcile_task(celery_worker_factory):
    """The beat entry's task, on the payments queue of a real worker process, heals the payment."""
    celery_worker_factory(queues="payments", concurrency=1)
    payment = _stuck_payment()
    SandboxGateway().record_attempt(
        order_id=payment.razorpay_order_id, amount_paise=payment.amount_paise, succeeded=True
    )

    payments_reconcile.delay()

    assert wait_until(lambda: Payment.objects.get(pk=payment.pk).status == S.CAPTURED, timeout=60)
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == Enrollment.Status.ACTIVE
