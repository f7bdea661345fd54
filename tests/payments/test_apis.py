"""The payments API over HTTP: order creation (Idempotency-Key), verify, my payments, the schema."""

from __future__ import annotations

import pytest
from django.urls import reverse

from courses.models import Enrollment
from payments.models import Payment
from tests.factories import EnrollmentFactory, UserFactory
from tests.payments.conftest import checkout_signature
from tests.payments.factories import PaymentFactory

pytestmark = pytest.mark.django_db
S = Payment.Status
ORDERS = "/api/v1/payments/orders"
VERIFY = "/api/v1/payments/verify"
LIST = "/api/v1/payments"


@pytest.fixture
def enrollment(db):
    return EnrollmentFactory(course__fees_paise=2_360_000)


def _callback(payment: Payment, payment_id: str = "pay_API1", **overrides) -> dict:
    body = {
        "razorpay_order_id": payment.razorpay_order_id,
        "razorpay_payment_id": payment_id,
        "razorpay_signature": checkout_signature(payment.razorpay_order_id, payment_id),
    }
    return {**body, **overrides}


def test_create_order_uses_the_course_fee(api_client, enrollment):
    api_client.force_authenticate(enrollment.user)

    response = api_client.post(ORDERS, {"enrollment_id": enrollment.pk}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount_paise"], body["currency"], body["status"], body["gateway"]) == (
        2_360_000,
        "INR",
        "CREATED",
        "SANDBOX",
    )
    assert body["razorpay_order_id"] == Payment.objects.get().razorpay_order_id
    assert body["checkout_url"].endswith(reverse("payments:checkout", args=[enrollment.pk]))


def test_create_order_with_the_same_idempotency_key_replays(api_client, enrollment):
    api_client.force_authenticate(enrollment.user)

    first = api_client.post(ORDERS, {"enrollment_id": enrollment.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api_client.post(ORDERS, {"enrollment_id": enrollment.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid"),
        ({"enrollment_id": "x"}, 400, "invalid"),
        ({"enrollment_id": 1, "amount_paise": 1}, 400, "invalid"),  # the amount is never the client's
        ({"enrollment_id": 999_999}, 404, "not_found"),
    ],
)
def test_create_order_bad_input(api_client, enrollment, body, status, code):
    api_client.force_authenticate(enrollment.user)

    response = api_client.post(ORDERS, body, format="json")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert Payment.objects.count() == 0


def test_create_order_for_someone_elses_enrollment_is_404(api_client, enrollment):
    api_client.force_authenticate(UserFactory())

    response = api_client.post(ORDERS, {"enrollment_id": enrollment.pk}, format="json")

    assert response.status_code == 404
    assert Payment.objects.count() == 0


def test_create_order_for_an_active_enrollment_is_409(api_client):
    enrollment = EnrollmentFactory(status=Enrollment.Status.ACTIVE)
    api_client.force_authenticate(enrollment.user)

    response = api_client.post(ORDERS, {"enrollment_id": enrollment.pk}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_anonymous_is_refused(api_client, enrollment):
    response = api_client.post(ORDERS, {"enrollment_id": enrollment.pk}, format="json")

    assert response.status_code == 401
    assert "error" in response.json()


def test_verify_captures_and_returns_the_receipt(api_client, payment):
    api_client.force_authenticate(payment.user)

    response = api_client.post(VERIFY, _callback(payment), format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["razorpay_payment_id"]) == ("CAPTURED", "pay_API1")
    receipt = body["receipt"]
    assert receipt["total_paise"] == payment.amount_paise
    assert receipt["base_paise"] + receipt["cgst_paise"] + receipt["sgst_paise"] == payment.amount_paise
    assert receipt["receipt_number"] == Payment.objects.get().receipt_number
    assert Enrollment.objects.get(pk=payment.enrollment_id).status == Enrollment.Status.ACTIVE


@pytest.mark.parametrize(
    ("case", "code"),
    [("tampered", "bad_signature"), ("amount", "amount_mismatch"), ("other_user", "unknown_order")],
)
def test_verify_rejections_are_400_with_the_error_shape(api_client, payment, case, code):
    overrides = {"tampered": {"razorpay_signature": "f" * 64}, "amount": {"amount_paise": 100}}.get(case, {})
    api_client.force_authenticate(UserFactory() if case == "other_user" else payment.user)

    response = api_client.post(VERIFY, _callback(payment, **overrides), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["fields"]
    payment.refresh_from_db()
    assert payment.status == S.CREATED


def test_list_shows_only_mine_with_the_same_queries_for_1_and_50(api_client, django_assert_max_num_queries):
    mine = PaymentFactory()
    PaymentFactory()  # someone else's
    api_client.force_authenticate(mine.user)
    # One SELECT with its joins; the accounts middleware may add its throttled last-active UPDATE.
    with django_assert_max_num_queries(2):
        one = api_client.get(LIST)
    for _ in range(49):
        PaymentFactory(user=mine.user, enrollment__user=mine.user)

    with django_assert_max_num_queries(2):
        many = api_client.get(LIST, {"page_size": 50})

    assert [row["id"] for row in one.json()["results"]] == [mine.pk]
    assert len(many.json()["results"]) == 50
    assert {row["course_name"] for row in many.json()["results"]} >= {mine.enrollment.course.name}


def test_detail_of_someone_elses_payment_is_404(api_client, payment):
    api_client.force_authenticate(UserFactory())

    response = api_client.get(f"{LIST}/{payment.pk}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_detail_has_no_receipt_before_capture(api_client, payment):
    api_client.force_authenticate(payment.user)

    response = api_client.get(f"{LIST}/{payment.pk}")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["receipt"]) == (payment.pk, None)


def test_schema_lists_the_payment_endpoints(api_client, db):
    response = api_client.get("/api/schema/", {"format": "json"})

    paths = response.json()["paths"]
    assert set(paths["/api/v1/payments/orders"]) == {"post"}
    assert set(paths["/api/v1/payments/verify"]) == {"post"}
    assert set(paths["/api/v1/payments"]) == {"get"}
    assert set(paths["/api/v1/payments/{payment_id}"]) == {"get"}
    assert "receipt" in response.json()["components"]["schemas"]["PaymentDetail"]["properties"]
