"""Coupons (issue 19 item 6): priced by the server at order creation, caps that hold under concurrency,
refusals that are clear 4xx with field errors and write nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cerebrum.errors import DomainError
from payments import services
from payments.models import Coupon, CouponRedemption, Invoice, Payment
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory
from tests.payments.conftest import new_event_id, payment_webhook
from tests.payments.test_race import _run_together

ORDERS = "/api/v1/payments/orders"
FEE = 1_180_000  # ₹11,800


def _coupon(**overrides) -> Coupon:
    now = timezone.now()
    fields = {
        "code": "NEET10",
        "kind": Coupon.Kind.PERCENT,
        "percent_off": 10,
        "valid_from": now - timedelta(days=1),
        "valid_until": now + timedelta(days=1),
        "max_uses": 100,
        "max_uses_per_learner": 1,
        **overrides,
    }
    return Coupon.objects.create(**fields)


def _enrollment(user=None):
    kwargs = {"course__fees_paise": FEE}
    if user is not None:
        kwargs["user"] = user
    return EnrollmentFactory(**kwargs)


def _order(api_client, enrollment, **body):
    api_client.force_authenticate(enrollment.user)
    return api_client.post(ORDERS, {"enrollment_id": enrollment.pk, **body}, format="json")


def _written() -> tuple:
    return (Payment.objects.count(), CouponRedemption.objects.count(), list(Coupon.objects.values_list("times_used")))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "discount"),
    [
        ({}, 118_000),
        ({"kind": Coupon.Kind.FIXED, "percent_off": None, "amount_off_paise": 50_000}, 50_000),
        ({"kind": Coupon.Kind.FIXED, "percent_off": None, "amount_off_paise": 5_000_000}, FEE - 100),  # ₹1 stays
        ({"percent_off": 100}, FEE - 100),
    ],
    ids=["percent", "fixed", "fixed_above_the_fee", "hundred_percent"],
)
def test_api_order_applies_the_coupon_on_the_server(api_client, overrides, discount):
    coupon = _coupon(**overrides)
    enrollment = _enrollment()

    response = _order(api_client, enrollment, coupon_code=" neet10 ")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount_paise"], body["discount_paise"]) == (FEE - discount, discount)
    payment = Payment.objects.get()
    assert (payment.coupon_id, payment.amount_paise + payment.discount_paise) == (coupon.pk, FEE)
    redemption = CouponRedemption.objects.get()
    assert (redemption.user_id, redemption.payment_id, redemption.discount_paise) == (
        enrollment.user_id,
        payment.pk,
        discount,
    )
    coupon.refresh_from_db()
    assert coupon.times_used == 1


@pytest.mark.django_db
def test_retrying_the_same_order_reuses_it_and_counts_the_coupon_once(api_client):
    coupon = _coupon()
    enrollment = _enrollment()

    first = _order(api_client, enrollment, coupon_code="NEET10")
    again = _order(api_client, enrollment, coupon_code="NEET10")
    plain = _order(api_client, enrollment)  # the checkout page reloaded: the discounted order stays

    assert first.json()["payment_id"] == again.json()["payment_id"] == plain.json()["payment_id"]
    coupon.refresh_from_db()
    assert (coupon.times_used, CouponRedemption.objects.count()) == (1, 1)


def _expired():
    now = timezone.now()
    _coupon(valid_from=now - timedelta(days=10), valid_until=now - timedelta(days=1))
    return _enrollment()


def _not_yet_valid():
    now = timezone.now()
    _coupon(valid_from=now + timedelta(hours=1), valid_until=now + timedelta(days=1))
    return _enrollment()


def _used_up():
    coupon = _coupon(max_uses=1)
    services.payment_order_create(user=(other := _enrollment()).user, enrollment=other, coupon_code=coupon.code)
    return _enrollment()


def _applied_twice():
    _coupon()
    learner = UserFactory()
    first = _enrollment(user=learner)
    services.payment_order_create(user=learner, enrollment=first, coupon_code="NEET10")
    return _enrollment(user=learner)


def _unknown():
    return _enrollment()


def _inactive():
    _coupon(is_active=False)
    return _enrollment()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arrange", "status", "code"),
    [
        (_expired, 422, "coupon_expired"),
        (_not_yet_valid, 422, "coupon_expired"),
        (_used_up, 409, "coupon_used_up"),
        (_applied_twice, 409, "coupon_already_used"),
        (_unknown, 422, "coupon_invalid"),
        (_inactive, 422, "coupon_invalid"),
    ],
    ids=["past_its_window", "before_its_window", "over_its_cap", "applied_twice", "unknown", "inactive"],
)
def test_bad_coupons_are_a_clear_4xx_and_write_nothing(api_client, arrange, status, code):
    enrollment = arrange()
    before = _written()

    response = _order(api_client, enrollment, coupon_code="NEET10")

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert list(error["fields"]) == ["coupon_code"]
    assert _written() == before


@pytest.mark.django_db
def test_unknown_billing_state_is_refused(api_client):
    response = _order(api_client, _enrollment(), billing_state="99")

    assert response.status_code == 400
    assert "billing_state" in response.json()["error"]["fields"]
    assert not Payment.objects.exists()


# --- Concurrency (threads, each on its own PostgreSQL connection) ------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_coupon_cap_holds_under_concurrent_checkouts():
    coupon = _coupon(max_uses=5)
    enrollments = [_enrollment() for _ in range(12)]
    outcomes: list[str] = []

    def checkout(enrollment):
        try:
            services.payment_order_create(user=enrollment.user, enrollment=enrollment, coupon_code="NEET10")
            outcomes.append("ok")
        except DomainError as error:
            outcomes.append(error.code)

    errors = _run_together(*[lambda e=e: checkout(e) for e in enrollments])

    assert errors == []
    assert sorted(outcomes) == ["coupon_used_up"] * 7 + ["ok"] * 5
    coupon.refresh_from_db()
    assert (coupon.times_used, CouponRedemption.objects.count(), Payment.objects.count()) == (5, 5, 5)


@pytest.mark.django_db(transaction=True)
def test_the_per_learner_cap_holds_under_concurrent_checkouts():
    _coupon(max_uses_per_learner=1)
    learner = UserFactory()
    enrollments = [EnrollmentFactory(user=learner, course=CourseFactory(fees_paise=FEE)) for _ in range(4)]
    outcomes: list[str] = []

    def checkout(enrollment):
        try:
            services.payment_order_create(user=learner, enrollment=enrollment, coupon_code="NEET10")
            outcomes.append("ok")
        except DomainError as error:
            outcomes.append(error.code)

    errors = _run_together(*[lambda e=e: checkout(e) for e in enrollments])

    assert errors == []
    assert sorted(outcomes) == ["coupon_already_used"] * 3 + ["ok"]
    assert CouponRedemption.objects.filter(user=learner).count() == 1


# --- The checkout page and the invoice -----------------------------------------------------------------------
@pytest.mark.django_db
def test_checkout_page_applies_a_coupon_and_shows_the_discount(client):
    _coupon()
    enrollment = _enrollment()
    client.force_login(enrollment.user)
    url = reverse("payments:checkout", args=[enrollment.pk])
    client.post(url)  # "Continue to payment" without a coupon: an order at the full fee

    response = client.post(url, {"coupon_code": "neet10", "billing_state": "27"})

    assert response.status_code == 200
    payment = response.context["payment"]
    assert (payment.amount_paise, payment.discount_paise, payment.billing_state) == (FEE - 118_000, 118_000, "27")
    content = response.content.decode()
    assert 'data-testid="discount"' in content
    assert "IGST" in content


@pytest.mark.django_db
def test_checkout_page_refuses_a_bad_coupon_with_the_field_error(client):
    enrollment = _enrollment()
    client.force_login(enrollment.user)
    url = reverse("payments:checkout", args=[enrollment.pk])
    client.post(url)
    before = _written()

    response = client.post(url, {"coupon_code": "NOPE"})

    assert response.status_code == 422
    assert response.context["form"].errors["coupon_code"] == ["No such coupon."]
    assert _written() == before


@pytest.mark.django_db
def test_the_invoice_shows_the_coupon(client, api_client):
    _coupon()
    enrollment = _enrollment()
    _order(api_client, enrollment, coupon_code="NEET10")
    payment = Payment.objects.get()
    body, signature = payment_webhook("payment.captured", payment, gateway_payment_id="pay_CPN")
    client.post(
        reverse("payments:razorpay_webhook"),
        data=body,
        content_type="application/json",
        HTTP_X_RAZORPAY_SIGNATURE=signature,
        HTTP_X_RAZORPAY_EVENT_ID=new_event_id(),
    )

    invoice = Invoice.objects.get(payment=payment)
    assert (invoice.list_price_paise, invoice.discount_paise, invoice.coupon_code, invoice.total_paise) == (
        FEE,
        118_000,
        "NEET10",
        FEE - 118_000,
    )
    client.force_login(enrollment.user)
    page = client.get(reverse("payments:invoice", args=[payment.pk])).content.decode()
    assert "Coupon NEET10" in page


# --- Staff ----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_staff_create_a_coupon_in_rupees_in_the_admin(client):
    client.force_login(StaffFactory())
    now = timezone.localtime()

    response = client.post(
        reverse("admin:payments_coupon_add"),
        {
            "code": "diwali500",
            "kind": "FIXED",
            "amount_off_rupees": "500.00",
            "valid_from_0": f"{now:%Y-%m-%d}",
            "valid_from_1": "00:00:00",
            "valid_until_0": f"{now + timedelta(days=7):%Y-%m-%d}",
            "valid_until_1": "23:59:00",
            "max_uses": "200",
            "max_uses_per_learner": "1",
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    coupon = Coupon.objects.get()
    assert (coupon.code, coupon.amount_off_paise, coupon.percent_off) == ("DIWALI500", 50_000, None)
    listing = client.get(reverse("admin:payments_coupon_changelist")).content.decode()
    assert "₹500.00 off" in listing


@pytest.mark.django_db
def test_the_learners_state_is_remembered_for_the_next_order(api_client):
    learner = UserFactory()
    _order(api_client, _enrollment(user=learner), billing_state="27")

    response = _order(api_client, _enrollment(user=learner))

    assert response.json()["billing_state"] == "27"


@pytest.mark.django_db
def test_editing_a_coupon_in_the_admin_keeps_its_use_count(client):
    coupon = _coupon(times_used=3)
    client.force_login(StaffFactory())
    url = reverse("admin:payments_coupon_change", args=[coupon.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    data.update(
        {
            "code": "neet10",
            "valid_from_0": f"{timezone.localtime(coupon.valid_from):%Y-%m-%d}",
            "valid_from_1": f"{timezone.localtime(coupon.valid_from):%H:%M:%S}",
            "valid_until_0": f"{timezone.localtime(coupon.valid_until):%Y-%m-%d}",
            "valid_until_1": f"{timezone.localtime(coupon.valid_until):%H:%M:%S}",
            "percent_off": "15",
            "is_active": "on",
        }
    )
    data.pop("valid_from", None)
    data.pop("valid_until", None)

    response = client.post(url, data)

    assert response.status_code == 302
    coupon.refresh_from_db()
    assert (coupon.code, coupon.percent_off, coupon.times_used) == ("NEET10", 15, 3)
