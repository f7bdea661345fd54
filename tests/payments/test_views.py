"""Checkout pages with the sandbox gateway, through Django's test client."""

from __future__ import annotations

import pytest
import responses
from django.urls import reverse

from courses.models import Enrollment
from payments.models import Payment
from tests.factories import EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Payment.Status


@pytest.fixture
def enrollment():
    return EnrollmentFactory(course__fees_paise=1_180_000)


RAZORPAY_ORDERS = "https://api.razorpay.com/v1/orders"


def _checkout(client, enrollment):
    """The learner presses "Continue to payment": the order is created by this POST."""
    client.force_login(enrollment.user)
    return client.post(reverse("payments:checkout", args=[enrollment.pk]), {"coupon_code": "", "billing_state": ""})


def test_checkout_get_shows_the_amount_with_gst_and_writes_nothing(client, enrollment):
    client.force_login(enrollment.user)

    response = client.get(reverse("payments:checkout", args=[enrollment.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    for amount in ("₹11,800.00", "₹10,000.00", "₹900.00"):  # total, taxable value, each of CGST and SGST
        assert amount in html
    assert 'data-testid="continue"' in html
    assert 'value="pay"' not in html  # no order yet, so nothing to pay
    assert not Payment.objects.exists()


def test_checkout_post_creates_the_order_and_shows_the_sandbox_buttons(client, enrollment):
    response = _checkout(client, enrollment)

    assert response.status_code == 200
    html = response.content.decode()
    assert "₹11,800.00" in html
    assert 'value="pay"' in html
    assert 'value="fail"' in html
    assert "checkout.razorpay.com" not in html  # the outside world only with real keys
    assert Payment.objects.get().enrollment_id == enrollment.pk


def test_checkout_get_shows_the_open_order_ready_to_pay(client, enrollment):
    _checkout(client, enrollment)

    html = client.get(reverse("payments:checkout", args=[enrollment.pk])).content.decode()

    assert Payment.objects.get().razorpay_order_id in html
    assert 'value="pay"' in html


@responses.activate
def test_checkout_with_real_keys_creates_the_razorpay_order_on_post_only(client, enrollment, settings):
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_test_key", "secret"
    create = responses.post(RAZORPAY_ORDERS, json={"id": "order_RZPpage", "status": "created"})
    client.force_login(enrollment.user)

    page = client.get(reverse("payments:checkout", args=[enrollment.pk]))

    assert page.status_code == 200
    assert (create.call_count, Payment.objects.count()) == (0, 0)

    html = _checkout(client, enrollment).content.decode()
    again = _checkout(client, enrollment)  # a double tap reuses the open order

    assert again.status_code == 200
    assert (create.call_count, Payment.objects.count()) == (1, 1)
    assert "https://checkout.razorpay.com/v1/checkout.js" in html
    assert '"order_id": "order_RZPpage"' in html or '"order_id":"order_RZPpage"' in html


@responses.activate
def test_checkout_when_razorpay_refuses_is_502_and_writes_nothing(client, enrollment, settings):
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_test_key", "secret"
    responses.post(RAZORPAY_ORDERS, status=500, json={"error": {"code": "SERVER_ERROR", "description": "down"}})

    response = _checkout(client, enrollment)

    assert response.status_code == 502
    assert "could not" in response.content.decode()
    assert not Payment.objects.exists()


@pytest.mark.parametrize("case", ["other_user", "active"])
def test_checkout_is_404_unless_my_pending_enrollment(client, enrollment, case):
    if case == "active":
        Enrollment.objects.filter(pk=enrollment.pk).update(status=Enrollment.Status.ACTIVE)
        client.force_login(enrollment.user)
    else:
        client.force_login(UserFactory())

    response = client.get(reverse("payments:checkout", args=[enrollment.pk]))

    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_sandbox_pay_then_callback_activates(client, enrollment, django_capture_on_commit_callbacks):
    _checkout(client, enrollment)
    payment = Payment.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("payments:sandbox", args=[payment.pk]), {"outcome": "pay"})
    callback = page.context["callback"]
    result = client.post(
        reverse("payments:verify"),
        {key: callback[key] for key in ("razorpay_order_id", "razorpay_payment_id", "razorpay_signature")},
    )

    assert result.status_code == 302
    assert result.url == reverse("payments:result", args=[payment.pk])
    final = client.get(result.url)
    assert "Active" in final.content.decode()
    payment.refresh_from_db()
    assert (payment.status, payment.razorpay_payment_id) == (S.CAPTURED, callback["razorpay_payment_id"])
    assert payment.events.filter(source="WEBHOOK").count() == 2  # payment.captured and order.paid


def test_sandbox_fail_keeps_the_enrollment_pending(client, enrollment, django_capture_on_commit_callbacks):
    _checkout(client, enrollment)
    payment = Payment.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("payments:sandbox", args=[payment.pk]), {"outcome": "fail"})

    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "Pending payment" in page
    assert "Try again" in page
    payment.refresh_from_db()
    assert payment.status == S.FAILED


def test_sandbox_for_someone_elses_payment_is_404(client, enrollment):
    _checkout(client, enrollment)
    client.force_login(UserFactory())

    response = client.post(reverse("payments:sandbox", args=[Payment.objects.get().pk]), {"outcome": "pay"})

    assert response.status_code == 404


def test_verify_page_with_a_tampered_signature_is_400(client, enrollment):
    _checkout(client, enrollment)
    payment = Payment.objects.get()

    response = client.post(
        reverse("payments:verify"),
        {
            "razorpay_order_id": payment.razorpay_order_id,
            "razorpay_payment_id": "pay_X",
            "razorpay_signature": "0" * 64,
        },
    )

    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.status == S.CREATED


def test_result_of_someone_elses_payment_is_404(client, enrollment):
    _checkout(client, enrollment)
    client.force_login(UserFactory())

    assert client.get(reverse("payments:result", args=[Payment.objects.get().pk])).status_code == 404


def test_sandbox_buttons_are_refused_once_real_keys_are_set(client, enrollment, settings):
    _checkout(client, enrollment)
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_live_key", "live-secret"

    response = client.post(reverse("payments:sandbox", args=[Payment.objects.get().pk]), {"outcome": "pay"})

    assert response.status_code == 502
    assert Payment.objects.get().status == S.CREATED


def test_anonymous_checkout_redirects_to_login(client, enrollment):
    response = client.get(reverse("payments:checkout", args=[enrollment.pk]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert not Payment.objects.exists()
