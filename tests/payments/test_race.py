"""Verify and webhooks for one payment at the same moment, from threads on separate PostgreSQL connections."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from cerebrum.celery import app as celery_app
from communications.models import CommunicationLog
from courses.models import Enrollment
from payments import services, webhooks
from payments.models import Payment, PaymentEvent
from tests.payments.conftest import checkout_signature, new_event_id, payment_webhook
from tests.payments.factories import PaymentFactory

S = Payment.Status


def _run_together(*calls) -> list[BaseException]:
    """Start every call at the same instant (a barrier), each on its own database connection."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        # Celery's current app is per thread; without this a new thread would fall back to an
        # unconfigured default app (not eager, no broker) for the tasks enqueued after commit.
        celery_app.set_current()
        try:
            barrier.wait(timeout=10)
            call()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def _verify(payment: Payment):
    return lambda: services.payment_verify_checkout(
        user=payment.user,
        razorpay_order_id=payment.razorpay_order_id,
        razorpay_payment_id="pay_RACE",
        razorpay_signature=checkout_signature(payment.razorpay_order_id, "pay_RACE"),
    )


def _webhook(body: bytes, signature: str, event_id: str):
    return lambda: webhooks.webhook_receive(body=body, signature=signature, event_id=event_id)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_verify_and_order_paid_at_once_capture_once(round_):
    payment = PaymentFactory()
    body, signature = payment_webhook("order.paid", payment, gateway_payment_id="pay_RACE")
    event_id = new_event_id()

    errors = _run_together(_verify(payment), _webhook(body, signature, event_id), _webhook(body, signature, event_id))

    assert errors == []
    payment.refresh_from_db()
    assert (payment.status, payment.razorpay_payment_id) == (S.CAPTURED, "pay_RACE")
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == Enrollment.Status.ACTIVE
    assert PaymentEvent.objects.filter(payment=payment, from_status=S.CREATED, to_status=S.CAPTURED).count() == 1
    assert PaymentEvent.objects.filter(provider_event_id=event_id).count() == 1
    assert CommunicationLog.objects.filter(template="payment_receipt", user=payment.user).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_same_webhook_from_three_nodes_at_once_applies_once():
    payment = PaymentFactory()
    body, signature = payment_webhook("payment.captured", payment, gateway_payment_id="pay_RACE")
    event_id = new_event_id()

    errors = _run_together(*[_webhook(body, signature, event_id) for _ in range(3)])

    assert errors == []
    assert PaymentEvent.objects.filter(provider_event_id=event_id).count() == 1
    assert CommunicationLog.objects.filter(template="payment_receipt", user=payment.user).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_second_capture_reported_by_three_events_at_once_is_one_payment_to_refund():
    payment = PaymentFactory()
    body, signature = payment_webhook("payment.captured", payment, gateway_payment_id="pay_FIRST")
    webhooks.webhook_receive(body=body, signature=signature, event_id=new_event_id())
    deliveries = []
    for event_type in ("payment.captured", "order.paid", "payment.captured"):
        body, signature = payment_webhook(event_type, payment, gateway_payment_id="pay_SECOND")
        deliveries.append(_webhook(body, signature, new_event_id()))

    errors = _run_together(*deliveries)

    assert errors == []
    stray = Payment.objects.get(order_payment=payment)
    assert (stray.razorpay_payment_id, stray.anomaly) == ("pay_SECOND", Payment.Anomaly.DUPLICATE_CAPTURE)
    assert PaymentEvent.objects.filter(payment=stray).count() == 3
    assert CommunicationLog.objects.filter(template="payment_anomaly", user=payment.user).count() == 2
