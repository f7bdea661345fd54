"""Money that cannot be applied is surfaced, never absorbed (issue 14 item 6).

Every case goes through the webhook endpoint over HTTP with real signatures: the gateway gets 200, the
capture is its own flagged payment (or flags the order's payment), logged at ERROR, listed in the
admin's "Payments to refund" with a confirmed one-click refund, and the learner is told by the outbox.
"""

from __future__ import annotations

import logging

import pytest
import responses
from django.urls import reverse
from responses import matchers

from communications.models import CommunicationLog
from courses.models import Enrollment
from payments.gateways import SandboxGateway, hmac_sha256_hex
from payments.models import Payment, PaymentEvent, Refund
from payments.reconcile import payment_reconcile
from payments.sandbox import sandbox_webhook_body
from tests.factories import StaffFactory
from tests.payments.conftest import checkout_signature, new_event_id, payment_webhook
from tests.payments.factories import PaymentFactory

pytestmark = pytest.mark.django_db
URL = reverse("payments:razorpay_webhook")
TO_REFUND = reverse("admin:payments_paymenttorefund_changelist")
S = Payment.Status
A = Payment.Anomaly


def _post(client, event_type: str, payment: Payment, gateway_payment_id: str, **entity):
    body, signature = payment_webhook(event_type, payment, gateway_payment_id=gateway_payment_id, **entity)
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_RAZORPAY_SIGNATURE=signature,
        HTTP_X_RAZORPAY_EVENT_ID=new_event_id(),
    )


def _anomaly_messages(user) -> int:
    return CommunicationLog.objects.filter(template="payment_anomaly", user=user).count()


def test_second_capture_with_another_payment_id_is_its_own_payment_to_refund(client, payment, caplog):
    assert _post(client, "payment.captured", payment, "pay_A").json() == {"status": "ok"}

    with caplog.at_level(logging.ERROR, logger="payments"):
        response = _post(client, "payment.captured", payment, "pay_B")

    assert (response.status_code, response.json()) == (200, {"status": "anomaly"})
    payment.refresh_from_db()
    assert (payment.status, payment.razorpay_payment_id, payment.anomaly) == (S.CAPTURED, "pay_A", "")
    stray = Payment.objects.get(razorpay_payment_id="pay_B")
    assert (stray.status, stray.anomaly, stray.order_payment_id) == (S.CAPTURED, A.DUPLICATE_CAPTURE, payment.pk)
    assert (stray.amount_paise, stray.user_id, stray.enrollment_id) == (
        payment.amount_paise,
        payment.user_id,
        payment.enrollment_id,
    )
    assert stray.receipt_number is None
    assert [r.levelno for r in caplog.records if "DUPLICATE_CAPTURE" in r.getMessage()] == [logging.ERROR]
    assert _anomaly_messages(payment.user) == 2  # email and WhatsApp, through the outbox
    assert CommunicationLog.objects.filter(template="payment_receipt").count() == 2  # only pay_A's receipt
    assert PaymentEvent.objects.filter(payment=payment, event_type="anomaly.recorded").count() == 1


def test_the_same_stray_capture_reported_again_is_not_recorded_twice(client, payment):
    _post(client, "payment.captured", payment, "pay_A")
    _post(client, "payment.captured", payment, "pay_B")

    response = _post(client, "order.paid", payment, "pay_B")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert Payment.objects.filter(order_payment=payment).count() == 1
    assert PaymentEvent.objects.filter(payment__razorpay_payment_id="pay_B").count() == 2
    assert _anomaly_messages(payment.user) == 2


def _amount_mismatch(payment):
    return "pay_B", {"amount": payment.amount_paise - 100}


def _cancelled_enrollment(payment):
    Enrollment.objects.filter(pk=payment.enrollment_id).update(status=Enrollment.Status.CANCELLED)
    return "pay_A", {}


def _refunded_order(payment):
    Payment.objects.filter(pk=payment.pk).update(
        status=S.REFUNDED, razorpay_payment_id="pay_A", refunded_paise=payment.amount_paise
    )
    return "pay_B", {}


def _second_order_for_a_paid_enrollment(payment):
    first = PaymentFactory(enrollment=payment.enrollment, amount_paise=payment.amount_paise)
    first.razorpay_payment_id = "pay_FIRST"
    first.status = S.CAPTURED
    first.save()
    Enrollment.objects.filter(pk=payment.enrollment_id).update(status=Enrollment.Status.ACTIVE)
    return "pay_A", {}


@pytest.mark.parametrize(
    ("arrange", "anomaly", "stray"),
    [
        (_amount_mismatch, A.AMOUNT_MISMATCH, True),
        (_cancelled_enrollment, A.ENROLLMENT_NOT_PENDING, False),
        (_refunded_order, A.DUPLICATE_CAPTURE, True),
        (_second_order_for_a_paid_enrollment, A.ENROLLMENT_ALREADY_PAID, False),
    ],
    ids=["amount_mismatch", "cancelled_enrollment", "refunded_order", "enrollment_paid_by_another_order"],
)
def test_captures_that_cannot_be_applied_are_surfaced(client, payment, caplog, arrange, anomaly, stray):
    gateway_payment_id, entity = arrange(payment)
    enrollment_before = Enrollment.objects.get(pk=payment.enrollment_id).status

    with caplog.at_level(logging.ERROR, logger="payments"):
        response = _post(client, "payment.captured", payment, gateway_payment_id, **entity)

    assert (response.status_code, response.json()) == (200, {"status": "anomaly"})
    flagged = Payment.objects.get(razorpay_payment_id=gateway_payment_id)
    assert (flagged.status, flagged.anomaly) == (S.CAPTURED, anomaly)
    assert (flagged.pk != payment.pk) is stray
    assert flagged.amount_paise == entity.get("amount", payment.amount_paise)
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == enrollment_before
    assert any(r.levelno == logging.ERROR and anomaly in r.getMessage() for r in caplog.records)
    assert _anomaly_messages(payment.user) == 2
    assert not CommunicationLog.objects.filter(template__in=["payment_receipt", "enrollment_confirmed"]).exists()


def test_amount_mismatch_leaves_the_order_open_for_the_right_payment(client, payment):
    _post(client, "payment.captured", payment, "pay_WRONG", amount=payment.amount_paise + 1)

    response = _post(client, "payment.captured", payment, "pay_RIGHT")

    payment.refresh_from_db()
    assert response.json() == {"status": "ok"}
    assert (payment.status, payment.razorpay_payment_id, payment.anomaly) == (S.CAPTURED, "pay_RIGHT", "")
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == Enrollment.Status.ACTIVE


def test_capture_for_an_unknown_order_is_acknowledged_and_logged_at_error(client, payment, caplog):
    payment.razorpay_order_id = "order_not_ours"

    with caplog.at_level(logging.ERROR, logger="payments"):
        response = _post(client, "payment.captured", payment, "pay_X")

    assert response.status_code == 200
    assert any(r.levelno == logging.ERROR and "unknown order" in r.getMessage() for r in caplog.records)
    assert PaymentEvent.objects.filter(payment=None, event_type="payment.captured").count() == 1


def test_failed_event_with_another_amount_is_noted_and_acknowledged(client, payment):
    response = _post(client, "payment.failed", payment, "pay_F", amount=payment.amount_paise + 1)

    payment.refresh_from_db()
    assert (response.status_code, payment.status) == (200, S.CREATED)
    assert PaymentEvent.objects.filter(payment=payment, event_type="payment.failed", to_status=S.CREATED).exists()


def test_verified_checkout_callback_with_a_second_payment_id_is_surfaced(client, payment):
    _post(client, "payment.captured", payment, "pay_A")
    client.force_login(payment.user)

    response = client.post(
        reverse("payments:verify"),
        {
            "razorpay_order_id": payment.razorpay_order_id,
            "razorpay_payment_id": "pay_B",
            "razorpay_signature": checkout_signature(payment.razorpay_order_id, "pay_B"),
        },
        follow=True,
    )

    stray = Payment.objects.get(razorpay_payment_id="pay_B")
    assert stray.anomaly == A.DUPLICATE_CAPTURE
    assert response.redirect_chain[-1][0] == reverse("payments:result", args=[stray.pk])
    assert b'data-testid="anomaly"' in response.content
    assert response.context["receipt"] is None


def test_reconcile_surfaces_a_second_captured_attempt_and_a_wrong_amount(payment):
    gateway = SandboxGateway()
    payment.razorpay_order_id = gateway.create_order(payment.amount_paise, "r")
    payment.save(update_fields=["razorpay_order_id"])
    first = gateway.record_attempt(
        order_id=payment.razorpay_order_id, amount_paise=payment.amount_paise, succeeded=True
    )
    second = gateway.record_attempt(
        order_id=payment.razorpay_order_id, amount_paise=payment.amount_paise, succeeded=True
    )
    wrong = gateway.record_attempt(order_id=payment.razorpay_order_id, amount_paise=500, succeeded=True)

    assert payment_reconcile(payment_id=payment.pk) is True

    payment.refresh_from_db()
    assert (payment.status, payment.razorpay_payment_id) == (S.CAPTURED, first["id"])
    strays = dict(Payment.objects.filter(order_payment=payment).values_list("razorpay_payment_id", "anomaly"))
    assert strays == {second["id"]: A.DUPLICATE_CAPTURE, wrong["id"]: A.AMOUNT_MISMATCH}
    assert payment_reconcile(payment_id=payment.pk) is False  # nothing recorded twice
    assert Payment.objects.filter(order_payment=payment).count() == 2


# --- Staff: the "Payments to refund" list ------------------------------------------------------------
@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def _stray(client, payment) -> Payment:
    _post(client, "payment.captured", payment, f"pay_A{payment.pk}")
    _post(client, "payment.captured", payment, f"pay_B{payment.pk}")
    return Payment.objects.get(razorpay_payment_id=f"pay_B{payment.pk}")


def test_to_refund_list_shows_only_anomalies_with_money_left(client, staff_client):
    stray = _stray(client, PaymentFactory())
    PaymentFactory(status=S.CAPTURED, razorpay_payment_id="pay_fine")
    PaymentFactory(status=S.REFUNDED, anomaly=A.DUPLICATE_CAPTURE, razorpay_payment_id="pay_done")

    response = staff_client.get(TO_REFUND)

    assert response.status_code == 200
    assert [p.pk for p in response.context["cl"].result_list] == [stray.pk]
    content = response.content.decode()
    assert "Second capture for an order already paid" in content
    assert "₹" in content  # amounts in rupees
    assert reverse("admin:payments_paymenttorefund_refund", args=[stray.pk]) in content


def test_one_click_refund_asks_first_then_refunds_through_the_gateway(
    client, staff_client, django_capture_on_commit_callbacks
):
    stray = _stray(client, PaymentFactory())
    url = reverse("admin:payments_paymenttorefund_refund", args=[stray.pk])

    confirm = staff_client.get(url)
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.content.decode()
    assert not Refund.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    stray.refresh_from_db()
    refund = Refund.objects.get(payment=stray)
    assert (refund.amount_paise, refund.status, refund.created_by.is_staff) == (stray.amount_paise, "PROCESSED", True)
    assert (stray.status, stray.refunded_paise) == (S.REFUNDED, stray.amount_paise)
    assert stray.order_payment.status == S.CAPTURED  # the learner's real payment is untouched
    assert list(staff_client.get(TO_REFUND).context["cl"].result_list) == []


def test_refund_action_for_several_confirms_then_refunds_each(client, staff_client, django_capture_on_commit_callbacks):
    strays = [_stray(client, PaymentFactory()) for _ in range(2)]
    ids = [stray.pk for stray in strays]

    confirm = staff_client.post(TO_REFUND, {"action": "refund_in_full", "_selected_action": ids})
    assert confirm.status_code == 200
    assert confirm.context["total_paise"] == sum(stray.amount_paise for stray in strays)
    assert not Refund.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(TO_REFUND, {"action": "refund_in_full", "_selected_action": ids, "post": "yes"})

    assert sorted(Refund.objects.values_list("payment_id", flat=True)) == sorted(ids)
    assert set(Payment.objects.filter(pk__in=ids).values_list("status", flat=True)) == {S.REFUNDED}


def test_refunding_needs_the_refund_permission(client):
    stray = _stray(client, PaymentFactory())
    viewer = StaffFactory(is_superuser=False)
    client.force_login(viewer)

    response = client.post(reverse("admin:payments_paymenttorefund_refund", args=[stray.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert not Refund.objects.exists()


def test_to_refund_list_queries_do_not_grow_with_rows(client, staff_client, django_assert_max_num_queries):
    _stray(client, PaymentFactory())
    with django_assert_max_num_queries(20) as one:
        first = staff_client.get(TO_REFUND)
    queries_for_one = len(one.captured_queries)  # read now: the next requests reset the query log
    assert first.status_code == 200
    for _ in range(9):
        _stray(client, PaymentFactory())

    with django_assert_max_num_queries(queries_for_one):
        response = staff_client.get(TO_REFUND)

    assert response.context["cl"].result_count == 10


@responses.activate
def test_a_razorpay_double_payment_is_refunded_through_razorpay(client, settings):
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_test_key", "rzp_test_secret"
    settings.RAZORPAY_WEBHOOK_SECRET = "whsec_anomaly"
    payment = PaymentFactory(gateway=Payment.Gateway.RAZORPAY, razorpay_order_id="order_RZPdouble")

    def razorpay_post(event_type: str, payload: dict):
        body = sandbox_webhook_body(event_type=event_type, payload=payload)
        signature = hmac_sha256_hex("whsec_anomaly", body)
        return client.post(
            URL,
            data=body,
            content_type="application/json",
            HTTP_X_RAZORPAY_SIGNATURE=signature,
            HTTP_X_RAZORPAY_EVENT_ID=new_event_id(),
        )

    for pay_id in ("pay_RZPA", "pay_RZPB"):
        entity = {
            "id": pay_id,
            "entity": "payment",
            "amount": payment.amount_paise,
            "order_id": payment.razorpay_order_id,
        }
        assert razorpay_post("payment.captured", {"payment": entity}).status_code == 200
    stray = Payment.objects.get(razorpay_payment_id="pay_RZPB")
    refund_call = responses.post(
        "https://api.razorpay.com/v1/payments/pay_RZPB/refund",
        # strict_match=False: the body also carries our reference (receipt, notes.cerebrum_refund)
        match=[matchers.json_params_matcher({"amount": stray.amount_paise}, strict_match=False)],
        json={"id": "rfnd_RZPB", "entity": "refund", "amount": stray.amount_paise, "payment_id": "pay_RZPB"},
    )
    client.force_login(StaffFactory())

    client.post(reverse("admin:payments_paymenttorefund_refund", args=[stray.pk]), {"post": "yes"})
    refund_entity = {"id": "rfnd_RZPB", "entity": "refund", "amount": stray.amount_paise, "payment_id": "pay_RZPB"}
    razorpay_post("refund.processed", {"refund": refund_entity})

    assert refund_call.call_count == 1
    stray.refresh_from_db()
    assert (stray.status, stray.refunded_paise) == (S.REFUNDED, stray.amount_paise)
    told = CommunicationLog.objects.get(template="refund_issued", channel="EMAIL", user=payment.user)
    assert told.params["reference"] == "rfnd_RZPB"  # never invoiced, so no credit note
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_paise) == (S.CAPTURED, 0)
