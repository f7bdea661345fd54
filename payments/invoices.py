"""GST tax invoices and credit notes: numbered from gap-free series, issued inside the money transaction.

Rules and their sources:
- A tax invoice is issued for every applied capture (CGST Rules, rule 46): supplier's legal name,
  address and GSTIN, a serial number unique per financial year of at most 16 characters (letters,
  digits, "/" and "-"), the date, the buyer's name, the place of supply, SAC, taxable value, rate and
  tax. Fees are GST-inclusive; the split is `cerebrum.money.gst_split`.
- Place of supply for services to an unregistered buyer is the buyer's location where it is on record,
  else the supplier's (IGST Act s. 12(2)(b)): `Payment.billing_state`, else the academy's state. The
  same state as the academy's gives CGST + SGST, another state IGST.
- A credit note for each processed refund of an invoiced payment (CGST Act s. 34), split the same way.
- The financial year runs April to March, in IST.

Numbers come from `DocumentSeries` rows locked with SELECT … FOR UPDATE in the capture's or refund's
transaction: a rolled-back capture also rolls back its number, so the series has no gaps, and a number is
never issued twice. Lock order: the Payment row (caller), then the Enrollment, then the series row.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from cerebrum.money import gst_split
from payments.models import CreditNote, DocumentSeries, Invoice, Payment, Refund

# GST state codes (GSTN's list; 26 is the merged Dadra and Nagar Haveli and Daman and Diu, 97 "Other Territory").
STATE_CODES = {
    "01": "Jammu and Kashmir", "02": "Himachal Pradesh", "03": "Punjab", "04": "Chandigarh", "05": "Uttarakhand",
    "06": "Haryana", "07": "Delhi", "08": "Rajasthan", "09": "Uttar Pradesh", "10": "Bihar", "11": "Sikkim",
    "12": "Arunachal Pradesh", "13": "Nagaland", "14": "Manipur", "15": "Mizoram", "16": "Tripura",
    "17": "Meghalaya", "18": "Assam", "19": "West Bengal", "20": "Jharkhand", "21": "Odisha", "22": "Chhattisgarh",
    "23": "Madhya Pradesh", "24": "Gujarat", "26": "Dadra and Nagar Haveli and Daman and Diu", "27": "Maharashtra",
    "29": "Karnataka", "30": "Goa", "31": "Lakshadweep", "32": "Kerala", "33": "Tamil Nadu", "34": "Puducherry",
    "35": "Andaman and Nicobar Islands", "36": "Telangana", "37": "Andhra Pradesh", "38": "Ladakh",
    "97": "Other Territory",
}  # fmt: skip
STATE_CHOICES = sorted(STATE_CODES.items(), key=lambda item: item[1])
CREDIT_NOTE_MARK = "C"  # "CBC/26-27/000001": the credit notes' own series, still ≤ 16 characters


def financial_year_start(moment: datetime) -> int:
    """2026 for any moment from 1 April 2026 00:00 IST to 31 March 2027 23:59:59 IST."""
    day = timezone.localtime(moment, timezone.get_fixed_timezone(330)).date()
    return day.year if day.month >= 4 else day.year - 1


def document_number(kind: str, year_start: int, serial: int) -> str:
    """ "CB/26-27/000123" (invoice) or "CBC/26-27/000007" (credit note): unique per kind and year."""
    prefix = settings.INVOICE_NUMBER_PREFIX + (CREDIT_NOTE_MARK if kind == DocumentSeries.Kind.CREDIT_NOTE else "")
    return f"{prefix}/{year_start % 100:02d}-{(year_start + 1) % 100:02d}/{serial:06d}"


def place_of_supply(payment: Payment) -> str:
    """The buyer's GST state code when on record (the payment's billing state), else the academy's."""
    return payment.billing_state or settings.ACADEMY_STATE_CODE


def invoice_issue(*, payment: Payment) -> Invoice:
    """The tax invoice of a captured payment, in its capture transaction (the caller holds its row lock).

    Issued once: a payment that has one keeps it (its number is never reused or changed).
    """
    existing = Invoice.objects.filter(payment=payment).first()
    if existing is not None:
        return existing
    issued_at = payment.captured_at or timezone.now()
    year = financial_year_start(issued_at)
    serial = _next_serial(DocumentSeries.Kind.INVOICE, year)
    coupon_code = payment.coupon.code if payment.coupon_id else ""
    invoice = Invoice(
        payment=payment,
        list_price_paise=payment.amount_paise + payment.discount_paise,
        discount_paise=payment.discount_paise,
        coupon_code=coupon_code,
        **_document_fields(payment, DocumentSeries.Kind.INVOICE, year, serial, issued_at, payment.amount_paise),
    )
    invoice.full_clean(validate_constraints=False)
    invoice.save()
    return invoice


def credit_note_issue(*, refund: Refund, payment: Payment) -> CreditNote | None:
    """The credit note of a processed refund, in the refund's transaction; None when nothing was invoiced."""
    invoice = Invoice.objects.filter(payment=payment).first()
    if invoice is None:  # an anomaly: money refunded that was never invoiced
        return None
    existing = CreditNote.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    issued_at = timezone.now()
    year = financial_year_start(issued_at)
    serial = _next_serial(DocumentSeries.Kind.CREDIT_NOTE, year)
    fields = _document_fields(payment, DocumentSeries.Kind.CREDIT_NOTE, year, serial, issued_at, refund.amount_paise)
    # The credit note repeats the invoice's place of supply: it corrects that supply.
    fields["place_of_supply"] = invoice.place_of_supply
    fields["supplier_state"] = invoice.supplier_state
    fields.update(_tax_heads(refund.amount_paise, intra_state=invoice.intra_state, rate=invoice.gst_rate_percent))
    note = CreditNote(refund=refund, invoice=invoice, **fields)
    note.full_clean(validate_constraints=False)
    note.save()
    return note


def _next_serial(kind: str, year_start: int) -> int:
    """The next number of a series: the counter row is created if missing, then locked until commit."""
    DocumentSeries.objects.bulk_create(
        [DocumentSeries(kind=kind, financial_year_start=year_start)], ignore_conflicts=True
    )
    series = DocumentSeries.objects.select_for_update().get(kind=kind, financial_year_start=year_start)
    series.last_serial += 1
    series.save(update_fields=["last_serial"])
    return series.last_serial


def _document_fields(payment: Payment, kind: str, year: int, serial: int, issued_at, total_paise: int) -> dict:
    supply = place_of_supply(payment)
    supplier = settings.ACADEMY_STATE_CODE
    buyer = payment.payer or payment.user
    return {
        "number": document_number(kind, year, serial),
        "financial_year_start": year,
        "serial": serial,
        "issued_at": issued_at,
        # The buyer is the payer (a parent paying for a child), else the learner (issue 19 item 3).
        "buyer_name": buyer.name or buyer.email or buyer.phone or f"Learner {buyer.pk}",
        "buyer_contact": buyer.email or buyer.phone or "",
        "place_of_supply": supply,
        "supplier_state": supplier,
        "description": _description(payment),
        "sac_code": settings.GST_SAC_CODE,
        **_tax_heads(total_paise, intra_state=supply == supplier, rate=settings.GST_RATE_PERCENT),
    }


def _description(payment: Payment) -> str:
    """The course; when a parent paid, also the learner it is for (the enrollment is the learner's)."""
    course = payment.enrollment.course.name
    if payment.payer_id and payment.payer_id != payment.user_id:
        return f"{course} (learner: {payment.user.name or payment.user_id})"[:200]
    return course[:200]


def _tax_heads(total_paise: int, *, intra_state: bool, rate: int) -> dict:
    split = gst_split(total_paise, intra_state=intra_state, rate_percent=rate)
    return {
        "gst_rate_percent": rate,
        "total_paise": total_paise,
        "taxable_paise": split["base_paise"],
        "cgst_paise": split["cgst_paise"],
        "sgst_paise": split["sgst_paise"],
        "igst_paise": split["igst_paise"],
    }
