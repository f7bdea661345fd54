"""A parent pays for a linked child's course (issue 19 item 3): the enrollment stays the child's, the
payment and the invoice name the parent; a child not linked to the parent is a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from courses.models import Enrollment
from payments.models import Invoice, Payment
from tests.factories import EnrollmentFactory, ParentLinkFactory

pytestmark = pytest.mark.django_db
S = Payment.Status


@pytest.fixture
def link():
    return ParentLinkFactory(parent__name="Sunita Sharma", student__name="Riya Sharma")


def _pay_in_sandbox(client, payment, capture):
    with capture(execute=True):
        page = client.post(reverse("payments:sandbox", args=[payment.pk]), {"outcome": "pay"})
        callback = page.context["callback"]
        return client.post(
            reverse("payments:verify"),
            {key: callback[key] for key in ("razorpay_order_id", "razorpay_payment_id", "razorpay_signature")},
        )


def test_a_parent_pays_for_a_linked_childs_enrollment(client, link, django_capture_on_commit_callbacks):
    enrollment = EnrollmentFactory(user=link.student, course__fees_paise=1_180_000)
    client.force_login(link.parent)

    checkout = client.post(reverse("payments:checkout", args=[enrollment.pk]))
    payment = Payment.objects.get()
    result = _pay_in_sandbox(client, payment, django_capture_on_commit_callbacks)

    assert checkout.status_code == 200
    assert result.status_code == 302
    payment.refresh_from_db()
    enrollment.refresh_from_db()
    assert (payment.user, payment.payer, payment.status) == (link.student, link.parent, S.CAPTURED)
    assert enrollment.user == link.student
    assert enrollment.status == Enrollment.Status.ACTIVE
    invoice = Invoice.objects.get(payment=payment)
    assert invoice.buyer_name == "Sunita Sharma"
    assert "Riya Sharma" in invoice.description
    # Both see the result and the invoice; the payment is listed for both.
    assert client.get(result.url).status_code == 200
    assert client.get(reverse("payments:invoice", args=[payment.pk])).status_code == 200
    client.force_login(link.student)
    assert client.get(reverse("payments:invoice", args=[payment.pk])).status_code == 200


def test_a_parent_paying_for_a_child_not_linked_to_them_gets_404(client, api_client, link):
    other_child = EnrollmentFactory(course__fees_paise=1_180_000)
    client.force_login(link.parent)
    api_client.force_authenticate(link.parent)

    page = client.get(reverse("payments:checkout", args=[other_child.pk]))
    api = api_client.post("/api/v1/payments/orders", {"enrollment_id": other_child.pk}, format="json")

    assert page.status_code == 404
    assert api.status_code == 404
    assert not Payment.objects.exists()


def test_a_parent_creates_the_order_for_a_linked_child_through_the_api(api_client, link):
    enrollment = EnrollmentFactory(user=link.student, course__fees_paise=1_180_000)
    api_client.force_authenticate(link.parent)

    response = api_client.post("/api/v1/payments/orders", {"enrollment_id": enrollment.pk}, format="json")

    assert response.status_code == 201, response.content
    payment = Payment.objects.get()
    assert (payment.user, payment.payer, payment.enrollment) == (link.student, link.parent, enrollment)
    assert api_client.get(f"/api/v1/payments/{payment.pk}").status_code == 200  # the payer sees it


def test_the_service_refuses_an_unlinked_payer_even_when_handed_the_enrollment(link):
    from cerebrum.errors import NotFound
    from payments.services import payment_order_create

    enrollment = EnrollmentFactory(course__fees_paise=500_000)

    with pytest.raises(NotFound):
        payment_order_create(user=link.parent, enrollment=enrollment)
    assert not Payment.objects.exists()


def test_the_parents_child_page_links_a_pending_enrollment_to_its_checkout(client, link):
    enrollment = EnrollmentFactory(user=link.student, course__fees_paise=500_000)
    client.force_login(link.parent)

    page = client.get(reverse("courses:parent_child", args=[link.student.pk]))

    assert reverse("payments:checkout", args=[enrollment.pk]) in page.content.decode()


def test_the_parent_who_paid_gets_the_receipt_too(client, link, django_capture_on_commit_callbacks):
    # Review (issue 22 sibling, receipts always arrive): the receipt went to the learner only, so the
    # parent who paid, the invoice's buyer, got no word that the money arrived.
    from communications.models import CommunicationLog

    enrollment = EnrollmentFactory(user=link.student, course__fees_paise=1_180_000)
    client.force_login(link.parent)
    client.post(reverse("payments:checkout", args=[enrollment.pk]))
    payment = Payment.objects.get()

    _pay_in_sandbox(client, payment, django_capture_on_commit_callbacks)

    receipts = CommunicationLog.objects.filter(template="payment_receipt", channel="EMAIL")
    assert sorted(receipts.values_list("recipient", flat=True)) == sorted([link.student.email, link.parent.email])
    assert {row.params["receipt"] for row in receipts} == {Payment.objects.get().receipt_number}


def test_a_duplicate_capture_of_a_parents_payment_is_the_parents_and_the_parent_is_told(
    client, link, django_capture_on_commit_callbacks
):
    # Review (issue 14 item 6 sibling): the stray payment of a second capture had no payer, so the parent
    # whose card was charged twice could not see it, its credit note would name the learner as buyer,
    # and only the learner was told a refund was coming.
    from communications.models import CommunicationLog
    from tests.payments.conftest import new_event_id, payment_webhook

    enrollment = EnrollmentFactory(user=link.student, course__fees_paise=1_180_000)
    client.force_login(link.parent)
    client.post(reverse("payments:checkout", args=[enrollment.pk]))
    payment = Payment.objects.get()
    _pay_in_sandbox(client, payment, django_capture_on_commit_callbacks)

    body, signature = payment_webhook("payment.captured", payment, gateway_payment_id="pay_SECOND")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("payments:razorpay_webhook"),
            data=body,
            content_type="application/json",
            HTTP_X_RAZORPAY_SIGNATURE=signature,
            HTTP_X_RAZORPAY_EVENT_ID=new_event_id(),
        )

    assert response.json() == {"status": "anomaly"}
    stray = Payment.objects.get(razorpay_payment_id="pay_SECOND")
    assert (stray.user, stray.payer, stray.billing_state) == (link.student, link.parent, payment.billing_state)
    told = CommunicationLog.objects.filter(template="payment_anomaly", channel="EMAIL")
    assert sorted(told.values_list("recipient", flat=True)) == sorted([link.student.email, link.parent.email])
    assert client.get(reverse("payments:result", args=[stray.pk])).status_code == 200  # the payer sees it

    # And when staff refund it, both hear of the refund.
    from payments.services import refund_create

    with django_capture_on_commit_callbacks(execute=True):
        refund_create(payment=stray, amount_paise=stray.amount_paise, reason="duplicate capture")
    refunded = CommunicationLog.objects.filter(template="refund_issued", channel="EMAIL")
    assert sorted(refunded.values_list("recipient", flat=True)) == sorted([link.student.email, link.parent.email])


def test_the_parent_whose_payment_failed_is_told_too(client, link, django_capture_on_commit_callbacks):
    from communications.models import CommunicationLog
    from tests.payments.conftest import new_event_id, payment_webhook

    enrollment = EnrollmentFactory(user=link.student, course__fees_paise=1_180_000)
    client.force_login(link.parent)
    client.post(reverse("payments:checkout", args=[enrollment.pk]))
    payment = Payment.objects.get()

    body, signature = payment_webhook("payment.failed", payment, gateway_payment_id="pay_DECLINED")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("payments:razorpay_webhook"),
            data=body,
            content_type="application/json",
            HTTP_X_RAZORPAY_SIGNATURE=signature,
            HTTP_X_RAZORPAY_EVENT_ID=new_event_id(),
        )

    assert Payment.objects.get().status == S.FAILED
    told = CommunicationLog.objects.filter(template="payment_failed", channel="EMAIL")
    assert sorted(told.values_list("recipient", flat=True)) == sorted([link.student.email, link.parent.email])
