"""GST tax invoices and credit notes (issue 19 item 4): one GST function, place of supply, gap-free numbers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from cerebrum.money import gst_split
from communications.models import CommunicationLog
from courses.selectors import fees_breakdown
from payments import services, webhooks
from payments.checks import gst_settings_check
from payments.invoices import document_number, financial_year_start
from payments.models import CreditNote, DocumentSeries, Invoice, Payment
from tests.factories import StaffFactory, UserFactory
from tests.payments.conftest import new_event_id, payment_webhook
from tests.payments.factories import PaymentFactory
from tests.payments.test_race import _run_together

URL = reverse("payments:razorpay_webhook")
IST = ZoneInfo("Asia/Kolkata")
S = Payment.Status


def _capture(client, payment: Payment, gateway_payment_id: str = "pay_INV") -> Payment:
    body, signature = payment_webhook("payment.captured", payment, gateway_payment_id=gateway_payment_id)
    response = client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_RAZORPAY_SIGNATURE=signature,
        HTTP_X_RAZORPAY_EVENT_ID=new_event_id(),
    )
    assert response.status_code == 200
    payment.refresh_from_db()
    return payment


# --- One GST function -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("total", "base", "cgst", "sgst"),
    [(11_800, 10_000, 900, 900), (4_999_900, 4_237_203, 381_348, 381_349), (1, 1, 0, 0), (59, 50, 4, 5)],
)
def test_gst_split_is_inclusive_integer_paise_within_the_state(total, base, cgst, sgst):
    split = gst_split(total, rate_percent=18)

    assert (split["base_paise"], split["cgst_paise"], split["sgst_paise"], split["igst_paise"]) == (base, cgst, sgst, 0)
    assert split["base_paise"] + split["cgst_paise"] + split["sgst_paise"] == total


@pytest.mark.parametrize("total", [11_800, 4_999_900, 59])
def test_gst_split_is_all_igst_across_states(total):
    split = gst_split(total, intra_state=False, rate_percent=18)

    assert (split["cgst_paise"], split["sgst_paise"]) == (0, 0)
    assert split["base_paise"] + split["igst_paise"] == total
    assert split["igst_paise"] == gst_split(total, rate_percent=18)["gst_paise"]


def test_course_page_and_payments_use_the_same_split(settings):
    settings.GST_RATE_PERCENT = 5  # the rate comes from settings everywhere

    assert fees_breakdown(10_500) == {"total": 10_500, "base": 10_000, "gst": 500, "gst_percent": 5}
    assert gst_split(10_500)["base_paise"] == 10_000


# --- Numbers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "year"),
    [
        (datetime(2027, 3, 31, 23, 59, 59, tzinfo=IST), 2026),
        (datetime(2027, 4, 1, 0, 0, tzinfo=IST), 2027),
        (datetime(2027, 3, 31, 18, 30, tzinfo=ZoneInfo("UTC")), 2027),  # 00:00 IST on 1 April
        (datetime(2027, 1, 15, 12, 0, tzinfo=IST), 2026),
    ],
)
def test_financial_year_runs_april_to_march_in_ist(moment, year):
    assert financial_year_start(moment) == year


def test_document_numbers_fit_gst_rule_46():
    numbers = [document_number(kind, 2026, 999_999) for kind in DocumentSeries.Kind.values]

    assert numbers == ["CB/26-27/999999", "CBC/26-27/999999"]
    assert all(len(number) <= 16 for number in numbers)


@pytest.mark.django_db
def test_invoice_is_issued_once_at_capture_with_the_legal_details(client, payment):
    _capture(client, payment)
    _capture(client, payment)  # the same capture reported again

    invoice = Invoice.objects.get(payment=payment)
    year = financial_year_start(timezone.now())
    assert (invoice.number, invoice.serial, payment.receipt_number) == (
        document_number("INVOICE", year, 1),
        1,
        invoice.number,
    )
    assert (invoice.sac_code, invoice.total_paise, invoice.description) == (
        "999293",
        payment.amount_paise,
        payment.enrollment.course.name,
    )
    assert invoice.buyer_name == payment.user.name
    assert Invoice.objects.count() == 1


@pytest.mark.django_db
def test_a_rolled_back_capture_leaves_no_gap(client, monkeypatch):
    first, second = PaymentFactory(), PaymentFactory()

    def boom(**kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(services, "message_enqueue", boom)
    body, signature = payment_webhook("payment.captured", first, gateway_payment_id="pay_X1")
    with pytest.raises(RuntimeError):
        webhooks.webhook_receive(body=body, signature=signature, event_id=new_event_id())
    monkeypatch.undo()

    _capture(client, second, "pay_X2")

    assert not Invoice.objects.filter(payment=first).exists()
    assert Invoice.objects.get(payment=second).serial == 1


@pytest.mark.django_db
def test_an_anomaly_gets_no_invoice(client, payment):
    _capture(client, payment, "pay_A")
    _capture(client, payment, "pay_B")

    assert list(Invoice.objects.values_list("payment__razorpay_payment_id", flat=True)) == ["pay_A"]


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_captures_get_unique_gap_free_numbers():
    payments = [PaymentFactory() for _ in range(20)]
    calls = []
    for index, payment in enumerate(payments):
        body, signature = payment_webhook("payment.captured", payment, gateway_payment_id=f"pay_C{index}")
        event_id = new_event_id()
        calls.append(lambda b=body, s=signature, e=event_id: webhooks.webhook_receive(body=b, signature=s, event_id=e))

    errors = _run_together(*calls)

    assert errors == []
    serials = sorted(Invoice.objects.values_list("serial", flat=True))
    assert serials == list(range(1, 21))
    assert len(set(Invoice.objects.values_list("number", flat=True))) == 20
    assert DocumentSeries.objects.get(kind="INVOICE").last_serial == 20
    assert set(Payment.objects.values_list("receipt_number", flat=True)) == set(
        Invoice.objects.values_list("number", flat=True)
    )


# --- Place of supply ------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("billing_state", "place", "igst"), [("08", "08", False), ("", "08", False), ("27", "27", True), ("07", "07", True)]
)
def test_place_of_supply_decides_cgst_sgst_or_igst(client, billing_state, place, igst):
    payment = PaymentFactory(billing_state=billing_state, amount_paise=11_800)

    _capture(client, payment)

    invoice = payment.invoice
    assert (invoice.place_of_supply, invoice.supplier_state, invoice.taxable_paise) == (place, "08", 10_000)
    assert (invoice.igst_paise, invoice.cgst_paise, invoice.sgst_paise) == ((1_800, 0, 0) if igst else (0, 900, 900))
    receipt = CommunicationLog.objects.get(template="payment_receipt", channel="EMAIL").params["amount"]
    assert ("IGST" in receipt, "CGST" in receipt) == (igst, not igst)


# --- Pages and PDF ---------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_invoice_page_and_pdf_for_the_payer_only(client, payment):
    payment.billing_state = "27"
    payment.save(update_fields=["billing_state"])
    _capture(client, payment)
    client.force_login(payment.user)

    result = client.get(reverse("payments:result", args=[payment.pk]))
    page = client.get(reverse("payments:invoice", args=[payment.pk]))
    pdf = client.get(reverse("payments:invoice_pdf", args=[payment.pk]))

    assert reverse("payments:invoice", args=[payment.pk]) in result.content.decode()

    content = page.content.decode()
    assert page.status_code == 200
    for text in (payment.invoice.number, "08AABCC1234D1ZB", "999293", "Maharashtra (27)", "IGST 18%", "Tax invoice"):
        assert text in content
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")

    client.force_login(UserFactory())
    assert client.get(reverse("payments:invoice", args=[payment.pk])).status_code == 404
    assert client.get(reverse("payments:invoice_pdf", args=[payment.pk])).status_code == 404
    client.force_login(StaffFactory())
    assert client.get(reverse("payments:invoice", args=[payment.pk])).status_code == 200


# --- Credit notes ------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_each_processed_refund_gets_a_credit_note_and_the_learner_is_told(
    client, payment, django_capture_on_commit_callbacks
):
    payment.billing_state = "27"
    payment.save(update_fields=["billing_state"])
    _capture(client, payment)

    with django_capture_on_commit_callbacks(execute=True):
        first = services.refund_create(payment=payment, amount_paise=11_800)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.refund_create(payment=payment, amount_paise=5_900)

    notes = list(CreditNote.objects.order_by("serial"))
    year = financial_year_start(timezone.now())
    assert [(n.refund_id, n.number) for n in notes] == [
        (first.pk, document_number("CREDIT_NOTE", year, 1)),
        (second.pk, document_number("CREDIT_NOTE", year, 2)),
    ]
    assert (notes[0].taxable_paise, notes[0].igst_paise, notes[0].invoice.payment_id) == (10_000, 1_800, payment.pk)
    told = CommunicationLog.objects.filter(template="refund_issued", channel="EMAIL").order_by("pk")
    assert [row.params["reference"] for row in told] == [note.number for note in notes]

    client.force_login(payment.user)
    page = client.get(reverse("payments:credit_note", args=[first.pk]))
    assert "Credit note" in page.content.decode()
    assert payment.invoice.number in page.content.decode()
    assert client.get(reverse("payments:credit_note_pdf", args=[first.pk])).content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("overrides", "ids"),
    [
        ({}, []),
        ({"ACADEMY_GSTIN": "08AABCC1234D1ZA"}, ["payments.E002"]),  # wrong check digit
        ({"ACADEMY_STATE_CODE": "27"}, ["payments.E003"]),
        ({"ACADEMY_STATE_CODE": "00"}, ["payments.E001", "payments.E003"]),
    ],
)
def test_gst_settings_are_checked(settings, overrides, ids):
    for name, value in overrides.items():
        setattr(settings, name, value)

    assert [error.id for error in gst_settings_check(None)] == ids


@pytest.mark.django_db
def test_staff_see_invoices_in_rupees_and_the_payment_links_its_invoice(client, payment):
    _capture(client, payment)
    client.force_login(StaffFactory())

    listing = client.get(reverse("admin:payments_invoice_changelist")).content.decode()
    change = client.get(reverse("admin:payments_payment_change", args=[payment.pk])).content.decode()

    assert payment.invoice.number in listing
    assert "₹49,999.00" in listing
    assert reverse("payments:invoice", args=[payment.pk]) in change
