"""Reads for payments, with the access rules: a learner sees only their own (404 otherwise)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.selectors import children_for_parent
from cerebrum.errors import NotFound
from cerebrum.money import gst_split
from courses.models import Enrollment
from payments.invoices import STATE_CODES, place_of_supply
from payments.models import CreditNote, Invoice, Payment
from payments.shapes import Receipt
from payments.states import OPEN_STATUSES, PAID_STATUSES


def payment_list_for_user(*, user) -> QuerySet[Payment]:
    """The payments a user may see: for their own enrollments, and those they paid (a parent's for a child)."""
    return Payment.objects.filter(Q(user=user) | Q(payer=user)).select_related("enrollment__course", "user")


def payment_get_for_user(*, user, payment_id: int) -> Payment:
    payment = payment_list_for_user(user=user).filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("Payment not found.")
    return payment


def enrollment_get_payable(*, user, enrollment_id: int, pending_only: bool = False) -> Enrollment:
    """An enrollment `user` may pay for: their own, or a linked child's when `user` is the child's parent
    (issue 19 item 3; the link is accounts' ParentLink). Any other id, a child not linked included, is 404."""
    enrollments = Enrollment.objects.select_related("course", "user").filter(pk=enrollment_id)
    enrollments = enrollments.filter(Q(user=user) | Q(user__in=children_for_parent(parent=user).values("pk")))
    if pending_only:
        enrollments = enrollments.filter(status=Enrollment.Status.PENDING)
    enrollment = enrollments.first()
    if enrollment is None:
        raise NotFound("Enrollment not found.")
    return enrollment


def payment_receipt(payment: Payment) -> Receipt | None:
    """The receipt of a paid payment (GST breakdown in paise); None before capture and for an anomaly
    (money that could not be applied is refunded, not receipted)."""
    if payment.status not in PAID_STATUSES or payment.anomaly:
        return None
    return {**payment_receipt_context(payment), "refunded_paise": payment.refunded_paise}


def payment_receipt_context(payment: Payment) -> dict:
    """What a receipt shows (message and API alike): amounts in integer paise with the GST split.

    Once invoiced, the invoice's frozen figures (its place of supply decides CGST + SGST or IGST).
    """
    invoice = Invoice.objects.filter(payment=payment).first()
    if invoice is None:
        split = gst_split(payment.amount_paise, intra_state=place_of_supply(payment) == settings.ACADEMY_STATE_CODE)
    else:
        split = {
            "total_paise": invoice.total_paise,
            "base_paise": invoice.taxable_paise,
            "gst_paise": invoice.cgst_paise + invoice.sgst_paise + invoice.igst_paise,
            "cgst_paise": invoice.cgst_paise,
            "sgst_paise": invoice.sgst_paise,
            "igst_paise": invoice.igst_paise,
            "gst_rate_percent": invoice.gst_rate_percent,
        }
    return {
        "receipt_number": payment.receipt_number,
        "name": payment.user.name,
        "course": payment.enrollment.course.name,
        "razorpay_payment_id": payment.razorpay_payment_id,
        "paid_at": timezone.localtime(payment.captured_at).isoformat() if payment.captured_at else None,
        "discount_paise": payment.discount_paise,
        "coupon_code": payment.coupon.code if payment.coupon_id else "",
        "has_invoice": invoice is not None,
        **split,
    }


def open_order_get(*, enrollment: Enrollment, gateway_name: str, coupon_code: str = "") -> Payment | None:
    """The newest open order of an enrollment that can still be paid as it is: at the course's current fee
    (list price), through `gateway_name`; with `coupon_code`, one carrying that coupon. The order
    service reuses it, and the checkout page shows it."""
    orders = (
        Payment.objects.filter(enrollment=enrollment, status__in=OPEN_STATUSES, gateway=gateway_name)
        .annotate(list_price=F("amount_paise") + F("discount_paise"))
        .filter(list_price=enrollment.course.fees_paise)
        .select_related("coupon", "enrollment__course")
        .order_by("-created_at")
    )
    if coupon_code:
        orders = orders.filter(coupon__code=coupon_code)
    return orders.first()


def checkout_summary(payment: Payment) -> dict:
    """What the learner will pay for an open order: list price, coupon, total, and its GST split (paise)."""
    return _checkout_prices(
        list_price_paise=payment.amount_paise + payment.discount_paise,
        discount_paise=payment.discount_paise,
        coupon_code=payment.coupon.code if payment.coupon_id else "",
        state=place_of_supply(payment),
    )


def checkout_quote(*, enrollment: Enrollment, payer) -> dict:
    """`checkout_summary`'s shape before any order exists: the course fee, no coupon, and the state the
    payer gave on their latest order (else the academy's), so the checkout's GET writes nothing."""
    return _checkout_prices(
        list_price_paise=enrollment.course.fees_paise,
        discount_paise=0,
        coupon_code="",
        state=billing_state_last(user=payer) or settings.ACADEMY_STATE_CODE,
    )


def _checkout_prices(*, list_price_paise: int, discount_paise: int, coupon_code: str, state: str) -> dict:
    return {
        "list_price_paise": list_price_paise,
        "discount_paise": discount_paise,
        "coupon_code": coupon_code,
        "billing_state": state,
        "place_of_supply": STATE_CODES.get(state, ""),
        **gst_split(list_price_paise - discount_paise, intra_state=state == settings.ACADEMY_STATE_CODE),
    }


def billing_state_last(*, user) -> str:
    """The state the payer gave on their latest order ("" if none): remembered for the next one's invoice."""
    orders = Payment.objects.filter(Q(payer=user) | Q(user=user, payer__isnull=True))
    latest = orders.exclude(billing_state="").order_by("-created_at").values_list("billing_state", flat=True).first()
    return latest or ""


def tax_document_for_user(*, user, kind: str, pk: int) -> Invoice | CreditNote:
    """An invoice (by payment id) or credit note (by refund id): the learner's or the payer's own, or any
    for staff; else 404."""
    if kind == "invoice":
        documents = Invoice.objects.select_related("payment").filter(payment_id=pk)
        payment = "payment"
    else:
        documents = CreditNote.objects.select_related("invoice", "refund").filter(refund_id=pk)
        payment = "invoice__payment"
    if not user.is_staff:
        documents = documents.filter(Q(**{f"{payment}__user": user}) | Q(**{f"{payment}__payer": user}))
    document = documents.first()
    if document is None:
        raise NotFound("No such document.")
    return document


def tax_document_context(document: Invoice | CreditNote) -> dict:
    """Everything a printed invoice or credit note shows: supplier, buyer, line, tax heads (paise)."""
    is_invoice = isinstance(document, Invoice)
    return {
        "document": document,
        "title": "Tax invoice" if is_invoice else "Credit note",
        "is_invoice": is_invoice,
        "supplier": {
            "name": settings.ACADEMY_LEGAL_NAME,
            "address": settings.ACADEMY_ADDRESS,
            "gstin": settings.ACADEMY_GSTIN,
            "state": f"{STATE_CODES.get(document.supplier_state, '')} ({document.supplier_state})",
        },
        "place_of_supply": f"{STATE_CODES.get(document.place_of_supply, '')} ({document.place_of_supply})",
        "against": None if is_invoice else document.invoice.number,
        "list_price_paise": document.list_price_paise if is_invoice else document.total_paise,
        "discount_paise": document.discount_paise if is_invoice else 0,
        "coupon_code": document.coupon_code if is_invoice else "",
        "half_rate": document.gst_rate_percent / 2,
    }


def revenue_summary(*, start: date, end: date) -> dict:
    """Captured revenue per IST day and per course between two dates (inclusive): two queries."""
    tz = timezone.get_current_timezone()
    paid = Payment.objects.filter(
        status__in=PAID_STATUSES,
        captured_at__gte=datetime.combine(start, time.min, tzinfo=tz),
        captured_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )
    totals = {"gross_paise": Sum("amount_paise"), "refunded_paise": Sum("refunded_paise"), "count": Count("id")}
    rows = paid.annotate(day=TruncDate("captured_at", tzinfo=tz)).values("day").annotate(**totals).order_by("day")
    by_day = {row["day"]: row for row in rows}
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        row = by_day.get(day, {"gross_paise": 0, "refunded_paise": 0, "count": 0})
        days.append(_net(day=day, **{key: row[key] for key in totals}))
    courses = [
        _net(
            course_id=row["enrollment__course_id"],
            course=row["enrollment__course__name"],
            **{k: row[k] for k in totals},
        )
        for row in paid.values("enrollment__course_id", "enrollment__course__name")
        .annotate(**totals)
        .order_by("-gross_paise")
    ]
    return {
        "start": start,
        "end": end,
        "days": days,
        "courses": courses,
        "net_paise": sum(day["net_paise"] for day in days),
        "count": sum(day["count"] for day in days),
    }


def _net(*, gross_paise: int | None, refunded_paise: int | None, count: int, **labels) -> dict:
    gross, refunded = gross_paise or 0, refunded_paise or 0
    return {**labels, "gross_paise": gross, "refunded_paise": refunded, "net_paise": gross - refunded, "count": count}
