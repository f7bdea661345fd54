from __future__ import annotations

import contextlib
import logging

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cerebrum.errors import Conflict, DomainError, NotFound
from communications.models import CommunicationLog
from courses.models import Enrollment
from payments import services, webhooks
from payments.gateways import GatewayError
from payments.models import Payment, PaymentEvent, Refund
from payments.states import next_status
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
from tests.payments.conftest import checkout_signature, new_event_id, payment_webhook, refund_webhook
from tests.payments.factories import PaymentFactory

S = Payment.Status
RANK = {S.CREATED: 0, S.ATTEMPTED: 1, S.AUTHORIZED: 2, S.CAPTURED: 3, S.PARTIALLY_REFUNDED: 4, S.REFUNDED: 5}


# --- Pure parts ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        (S.CREATED, S.CAPTURED, S.CAPTURED),
        (S.CREATED, S.FAILED, S.FAILED),
        (S.AUTHORIZED, S.FAILED, S.FAILED),
        (S.CAPTURED, S.FAILED, S.CAPTURED),
        (S.CAPTURED, S.AUTHORIZED, S.CAPTURED),
        (S.FAILED, S.CAPTURED, S.CAPTURED),
        (S.FAILED, S.ATTEMPTED, S.FAILED),
        (S.REFUNDED, S.CAPTURED, S.REFUNDED),
        (S.PARTIALLY_REFUNDED, S.FAILED, S.PARTIALLY_REFUNDED),
    ],
)
def test_next_status_is_forward_only(current, target, expected):
    assert next_status(current, target) == expected


@given(st.lists(st.sampled_from([S.ATTEMPTED, S.AUTHORIZED, S.CAPTURED, S.FAILED]), max_size=12))
def test_next_status_never_leaves_a_capture(targets):
    status = S.CREATED
    for target in targets:
        after = next_status(status, target)
        if status == S.CAPTURED:
            assert after == S.CAPTURED
        if after != S.FAILED and status != S.FAILED:
            assert RANK[after] >= RANK[status]
        status = after
    assert status == (S.CAPTURED if S.CAPTURED in targets else status)


# --- Orders ----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_order_create_takes_the_amount_and_utm_from_the_server():
    enrollment = EnrollmentFactory(course__fees_paise=1_180_000, utm_source="instagram", utm_campaign="neet27")

    payment = services.payment_order_create(user=enrollment.user, enrollment=enrollment)

    assert (payment.amount_paise, payment.status, payment.gateway) == (1_180_000, S.CREATED, "SANDBOX")
    assert payment.razorpay_order_id.startswith("order_SBX")
    assert (payment.utm_source, payment.utm_campaign) == ("instagram", "neet27")
    assert list(payment.events.values_list("event_type", flat=True)) == ["order.created"]


RAZORPAY_ORDERS = "https://api.razorpay.com/v1/orders"


@pytest.fixture
def razorpay_keys(settings):
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_test_key", "secret"


@pytest.mark.django_db
@responses.activate
def test_order_create_calls_razorpay_with_no_transaction_of_its_own_open(razorpay_keys):
    # Issue 16 item 4: no row lock is held across the gateway's network call. The test itself runs in a
    # transaction, so the depth at the call is compared with the depth around the service.
    enrollment = EnrollmentFactory(course__fees_paise=1_180_000)
    depth = len(connection.atomic_blocks)
    seen = []

    def create(request):
        seen.append(len(connection.atomic_blocks))
        return 200, {}, '{"id": "order_NOLOCK", "status": "created"}'

    responses.add_callback(responses.POST, RAZORPAY_ORDERS, callback=create)

    payment = services.payment_order_create(user=enrollment.user, enrollment=enrollment)

    assert seen == [depth]
    assert (payment.razorpay_order_id, payment.amount_paise) == ("order_NOLOCK", 1_180_000)


@pytest.mark.django_db
@responses.activate
def test_a_double_tap_while_the_gateway_answers_records_one_order(razorpay_keys):
    # The second tap's order is recorded while the first one waits for Razorpay: the first then finds
    # it under the lock and returns it, leaving its own gateway order unused (nothing is charged).
    enrollment = EnrollmentFactory(course__fees_paise=1_180_000)
    orders = iter(["order_FIRST", "order_SECOND"])
    second = []

    def create(request):
        order_id = next(orders)
        if order_id == "order_FIRST":
            second.append(services.payment_order_create(user=enrollment.user, enrollment=enrollment))
        return 200, {}, f'{{"id": "{order_id}", "status": "created"}}'

    responses.add_callback(responses.POST, RAZORPAY_ORDERS, callback=create)

    first = services.payment_order_create(user=enrollment.user, enrollment=enrollment)

    assert first == second[0]
    assert list(Payment.objects.values_list("razorpay_order_id", flat=True)) == ["order_SECOND"]
    assert len(responses.calls) == 2


@pytest.mark.django_db
@responses.activate
def test_order_create_when_razorpay_is_down_writes_nothing(razorpay_keys):
    enrollment = EnrollmentFactory(course__fees_paise=1_180_000)
    responses.post(RAZORPAY_ORDERS, status=502, json={"error": {"code": "SERVER_ERROR", "description": "down"}})

    with pytest.raises(GatewayError):
        services.payment_order_create(user=enrollment.user, enrollment=enrollment)

    assert (Payment.objects.count(), PaymentEvent.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_order_create_twice_reuses_the_open_order():
    enrollment = EnrollmentFactory()

    first = services.payment_order_create(user=enrollment.user, enrollment=enrollment)
    second = services.payment_order_create(user=enrollment.user, enrollment=enrollment)

    assert first.pk == second.pk
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_order_create_refuses_someone_elses_enrollment():
    enrollment = EnrollmentFactory()

    with pytest.raises(NotFound):
        services.payment_order_create(user=UserFactory(), enrollment=enrollment)
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_order_create_refuses_while_a_payment_is_authorized():
    authorized = PaymentFactory(status=S.AUTHORIZED)

    with pytest.raises(Conflict):
        services.payment_order_create(user=authorized.user, enrollment=authorized.enrollment)
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_order_create_after_a_failure_makes_a_new_order():
    failed = PaymentFactory(status=S.FAILED)

    retry = services.payment_order_create(user=failed.user, enrollment=failed.enrollment)

    assert retry.pk != failed.pk
    assert retry.status == S.CREATED


@pytest.mark.django_db
def test_order_create_refuses_an_active_enrollment():
    enrollment = EnrollmentFactory(status=Enrollment.Status.ACTIVE)

    with pytest.raises(Conflict):
        services.payment_order_create(user=enrollment.user, enrollment=enrollment)
    assert Payment.objects.count() == 0


# --- Checkout callback -----------------------------------------------------------------------------
def _verify(payment, *, user=None, payment_id="pay_OK1", signature=None, **extra):
    return services.payment_verify_checkout(
        user=user or payment.user,
        razorpay_order_id=payment.razorpay_order_id,
        razorpay_payment_id=payment_id,
        razorpay_signature=signature or checkout_signature(payment.razorpay_order_id, payment_id),
        **extra,
    )


@pytest.mark.django_db
def test_verify_captures_activates_and_sends_one_receipt(payment):
    result = _verify(payment)

    payment.refresh_from_db()
    assert (result.pk, payment.status, payment.razorpay_payment_id) == (payment.pk, S.CAPTURED, "pay_OK1")
    assert payment.receipt_number == payment.invoice.number  # the tax invoice's number
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == Enrollment.Status.ACTIVE
    receipts = CommunicationLog.objects.filter(template="payment_receipt", user=payment.user)
    assert sorted(receipts.values_list("channel", flat=True)) == ["EMAIL", "WHATSAPP"]
    assert receipts.first().params["receipt"] == payment.receipt_number


@pytest.mark.django_db
def test_replayed_callback_changes_nothing(payment):
    _verify(payment)

    again = _verify(payment)

    assert again.status == S.CAPTURED
    assert PaymentEvent.objects.filter(payment=payment, to_status=S.CAPTURED).count() == 1
    assert CommunicationLog.objects.filter(template="payment_receipt").count() == 2


@pytest.mark.parametrize(
    ("case", "code"),
    [("tampered", "bad_signature"), ("other_user", "unknown_order"), ("amount", "amount_mismatch")],
)
@pytest.mark.django_db
def test_bad_callbacks_are_rejected_logged_and_change_nothing(payment, caplog, case, code):
    kwargs = {
        "tampered": {"signature": "0" * 64},
        "other_user": {"user": UserFactory()},
        "amount": {"amount_paise": payment.amount_paise - 100},
    }[case]

    with caplog.at_level(logging.WARNING, logger="payments"), pytest.raises(services.PaymentRejected) as error:
        _verify(payment, **kwargs)

    assert error.value.code == code
    assert code in caplog.text
    payment.refresh_from_db()
    assert (payment.status, payment.razorpay_payment_id) == (S.CREATED, None)
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == Enrollment.Status.PENDING
    assert not CommunicationLog.objects.exists()


@pytest.mark.django_db
def test_capture_locks_only_its_own_rows(payment):
    """Every buyer of a course shares its row: a capture locks the payment, the enrollment and the invoice
    series counter, never the course."""
    with CaptureQueriesContext(connection) as queries:
        _verify(payment)

    locks = [query["sql"] for query in queries.captured_queries if "FOR UPDATE" in query["sql"]]
    assert len(locks) == 3
    assert all(" FOR UPDATE OF " in sql for sql in locks[:2])
    assert 'FROM "payment_document_series"' in locks[2]
    assert all('"courses"' not in sql.split("FOR UPDATE")[1] for sql in locks)


@pytest.mark.django_db
def test_capture_of_a_cancelled_enrollment_is_still_recorded(payment):
    Enrollment.objects.filter(pk=payment.enrollment_id).update(status=Enrollment.Status.CANCELLED)

    _verify(payment)

    payment.refresh_from_db()
    assert payment.status == S.CAPTURED
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == Enrollment.Status.CANCELLED


# --- Refunds ---------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(("amount", "status"), [(100_000, S.PARTIALLY_REFUNDED), (None, S.REFUNDED)])
def test_sandbox_refund_settles_through_its_webhook(payment, django_capture_on_commit_callbacks, amount, status):
    _verify(payment)
    staff = UserFactory(is_staff=True)

    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_create(payment=payment, amount_paise=amount or payment.amount_paise, created_by=staff)

    payment.refresh_from_db()
    refund.refresh_from_db()
    assert (refund.status, payment.status) == (Refund.Status.PROCESSED, status)
    assert payment.refunded_paise == (amount or payment.amount_paise)


@pytest.mark.django_db
def test_refund_cannot_exceed_what_is_left(payment):
    _verify(payment)
    services.refund_create(payment=payment, amount_paise=payment.amount_paise - 500)

    with pytest.raises(DomainError) as error:
        services.refund_create(payment=payment, amount_paise=501)

    assert "amount_paise" in error.value.fields
    assert Refund.objects.count() == 1


@pytest.mark.django_db
def test_refund_of_an_unpaid_payment_is_refused(payment):
    with pytest.raises(Conflict):
        services.refund_create(payment=payment, amount_paise=100)


# --- The state machine under any order of events (hypothesis) --------------------------------------
PAYMENT_EVENTS = ["payment.authorized", "payment.captured", "payment.failed", "order.paid"]
event_strategy = st.one_of(
    st.tuples(st.sampled_from(PAYMENT_EVENTS), st.sampled_from(["pay_A", "pay_B"])),
    st.tuples(
        st.sampled_from(["refund.created", "refund.processed", "refund.failed"]),
        st.sampled_from(["rfnd_1", "rfnd_2", "rfnd_3"]),
    ),
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(st.tuples(event_strategy, st.booleans()), min_size=1, max_size=14))
def test_any_order_of_events_ends_valid_and_never_regresses(events):
    """Given any sequence (with redeliveries) of signed webhooks, the payment only moves forward."""
    payment = PaymentFactory(enrollment__course=CourseFactory(fees_paise=300_000))
    refund_amounts = {"rfnd_1": 100_000, "rfnd_2": 150_000, "rfnd_3": 120_000}
    delivered: list[tuple[bytes, str, str]] = []
    seen = [S.CREATED]
    for (event_type, ident), redeliver in events:
        if redeliver and delivered:
            body, signature, event_id = delivered[-1]
        elif event_type.startswith("refund."):
            body, signature = refund_webhook(
                event_type, refund_id=f"{ident}_{payment.pk}", gateway_payment_id=payment.razorpay_payment_id or "pay_none",
                amount=refund_amounts[ident],
            )  # fmt: skip
            event_id = new_event_id()
        else:
            body, signature = payment_webhook(event_type, payment, gateway_payment_id=f"{ident}_{payment.pk}")
            event_id = new_event_id()
        delivered.append((body, signature, event_id))
        # A refund for an unpaid payment or above the capture is refused and changes nothing.
        with contextlib.suppress(services.PaymentRejected):
            webhooks.webhook_receive(body=body, signature=signature, event_id=event_id)
        payment.refresh_from_db()
        before = seen[-1]
        if before in (S.CAPTURED, S.PARTIALLY_REFUNDED, S.REFUNDED):
            assert RANK.get(payment.status, -1) >= RANK[before]
        seen.append(payment.status)

    processed = sum(r.amount_paise for r in payment.refunds.filter(status=Refund.Status.PROCESSED))
    assert payment.refunded_paise == processed <= payment.amount_paise
    captured = any(s in (S.CAPTURED, S.PARTIALLY_REFUNDED, S.REFUNDED) for s in seen)
    enrollment = Enrollment.objects.get(pk=payment.enrollment_id)
    assert enrollment.status == (Enrollment.Status.ACTIVE if captured else Enrollment.Status.PENDING)
    receipts = CommunicationLog.objects.filter(template="payment_receipt", user=payment.user).count()
    assert receipts == (2 if captured else 0)


@pytest.mark.django_db
def test_a_leftover_sandbox_order_cannot_be_paid_once_real_keys_are_set(payment, settings):
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_live_key", "live-secret"

    with pytest.raises(services.PaymentRejected) as error:
        _verify(payment)  # signed with the sandbox's public default secret

    assert error.value.code == "gateway_disabled"
    payment.refresh_from_db()
    assert payment.status == S.CREATED
