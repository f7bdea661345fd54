"""Staff: the payments admin (filters, refund form through the gateway) and the revenue page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communications.models import CommunicationLog
from payments.models import Payment, PaymentEvent, Refund
from tests.factories import CourseFactory, StaffFactory, UserFactory
from tests.payments.factories import PaymentFactory

pytestmark = pytest.mark.django_db
S = Payment.Status


def _captured(**kwargs) -> Payment:
    n = Payment.objects.count()
    return PaymentFactory(
        status=S.CAPTURED,
        razorpay_payment_id=f"pay_ADM{n}_{timezone.now().timestamp()}",
        captured_at=timezone.now(),
        **kwargs,
    )


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def test_changelist_filters_by_status_date_and_course(staff_client):
    course = CourseFactory()
    _captured(enrollment__course=course)
    PaymentFactory()
    # The "Today" link of the date filter: aware local midnights.
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)

    response = staff_client.get(
        reverse("admin:payments_payment_changelist"),
        {
            "status__exact": "CAPTURED",
            "enrollment__course__id__exact": course.pk,
            "created_at__gte": str(midnight),
            "created_at__lt": str(midnight + timedelta(days=1)),
        },
    )

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_changelist_queries_do_not_grow_with_rows(staff_client, django_assert_max_num_queries):
    _captured()
    with django_assert_max_num_queries(20) as one:
        staff_client.get(reverse("admin:payments_payment_changelist"))
    for _ in range(49):
        _captured()

    with django_assert_max_num_queries(len(one.captured_queries)):
        response = staff_client.get(reverse("admin:payments_payment_changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("rupees", "refunded", "status"), [("100.00", 10_000, S.PARTIALLY_REFUNDED), (None, None, S.REFUNDED)]
)
def test_refund_form_refunds_through_the_gateway(
    staff_client, django_capture_on_commit_callbacks, rupees, refunded, status
):
    payment = _captured()
    amount = rupees or f"{payment.amount_paise / 100:.2f}"
    url = reverse("admin:payments_payment_refund", args=[payment.pk])

    review = staff_client.post(url, {"amount_rupees": amount, "reason": "Batch moved"})
    assert review.status_code == 200
    assert review.templates[0].name == "admin/payments/payment/refund_confirm.html"
    assert "This cannot be undone" in review.content.decode()
    assert not Refund.objects.exists()  # nothing happens before the confirmation

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"amount_rupees": amount, "reason": "Batch moved", "confirm": "yes"})

    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_paise) == (status, refunded or payment.amount_paise)
    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.reason, refund.created_by.is_staff) == (Refund.Status.PROCESSED, "Batch moved", True)
    assert PaymentEvent.objects.filter(payment=payment, event_type="refund.requested", source="STAFF").count() == 1
    told = CommunicationLog.objects.filter(template="refund_issued", user=payment.user)
    assert sorted(told.values_list("channel", flat=True)) == ["EMAIL", "WHATSAPP"]
    assert told.first().params["reference"] == refund.razorpay_refund_id  # not invoiced: no credit note


def test_refund_form_refuses_more_than_was_paid(staff_client):
    payment = _captured()

    response = staff_client.post(
        reverse("admin:payments_payment_refund", args=[payment.pk]),
        {"amount_rupees": f"{payment.amount_paise / 100 + 1:.2f}"},
    )

    assert response.status_code == 200
    assert "amount_rupees" in response.context["form"].errors
    assert not Refund.objects.exists()


def test_refund_action_with_one_payment_opens_the_form(staff_client):
    payment = _captured()

    response = staff_client.post(
        reverse("admin:payments_payment_changelist"), {"action": "refund_selected", "_selected_action": [payment.pk]}
    )

    assert response.status_code == 302
    assert response.url == reverse("admin:payments_payment_refund", args=[payment.pk])


def test_payment_change_page_is_read_only(staff_client):
    payment = _captured()

    response = staff_client.post(reverse("admin:payments_payment_change", args=[payment.pk]), {"amount_paise": 1})

    payment.refresh_from_db()
    assert response.status_code == 403
    assert payment.amount_paise != 1


# --- Revenue page ----------------------------------------------------------------------------------
REVENUE = reverse("payments:revenue")


def test_revenue_totals_by_day_and_course(staff_client):
    biology, crash = CourseFactory(name="Biology 12"), CourseFactory(name="Crash course")
    _captured(enrollment__course=biology, amount_paise=1_000_000)
    _captured(enrollment__course=biology, amount_paise=500_000, refunded_paise=100_000)
    _captured(enrollment__course=crash, amount_paise=300_000)
    PaymentFactory(enrollment__course=crash, amount_paise=999_999)  # never paid

    response = staff_client.get(REVENUE)

    summary = response.context["summary"]
    assert response.status_code == 200
    assert (summary["net_paise"], summary["count"]) == (1_700_000, 3)
    assert summary["days"][-1]["net_paise"] == 1_700_000
    assert [(c["course"], c["net_paise"]) for c in summary["courses"]] == [
        ("Biology 12", 1_400_000),
        ("Crash course", 300_000),
    ]
    assert b"<svg" in response.content
    assert "₹17,000.00".encode() in response.content


def test_revenue_range_excludes_other_days(staff_client):
    payment = _captured()
    Payment.objects.filter(pk=payment.pk).update(captured_at=timezone.now() - timedelta(days=3))
    today = timezone.localdate()

    response = staff_client.get(REVENUE, {"start": today.isoformat(), "end": today.isoformat()})

    assert response.context["summary"]["net_paise"] == 0
    assert len(response.context["summary"]["days"]) == 1


def test_revenue_queries_are_the_same_for_1_and_50_payments(staff_client, django_assert_max_num_queries):
    _captured()
    with django_assert_max_num_queries(20) as one:
        staff_client.get(REVENUE)
    for _ in range(49):
        _captured()

    with django_assert_max_num_queries(len(one.captured_queries)):
        response = staff_client.get(REVENUE)

    assert response.context["summary"]["count"] == 50


@pytest.mark.parametrize(
    "params",
    [{"start": "2026-02-01", "end": "2026-01-01"}, {"start": "2020-01-01", "end": "2026-01-01"}, {"start": "x"}],
)
def test_revenue_bad_range_is_400(staff_client, params):
    response = staff_client.get(REVENUE, params)

    assert response.status_code == 400
    assert response.context["form"].errors


def test_revenue_is_staff_only(client):
    client.force_login(UserFactory())

    response = client.get(REVENUE)

    assert response.status_code == 302
    assert "/admin/login/" in response.url
