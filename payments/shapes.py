"""The shapes of the dicts payments' selectors build, declared once; the API's serializers derive from them
(`cerebrum.shapes.serializer_for`)."""

from __future__ import annotations

from typing import TypedDict


class Receipt(TypedDict):
    """`selectors.payment_receipt`: what a receipt shows, amounts in integer paise (GST split from the
    invoice once issued). `has_invoice` is for the pages only."""

    receipt_number: str
    name: str
    course: str
    razorpay_payment_id: str
    paid_at: str | None  # ISO 8601 in IST
    total_paise: int
    base_paise: int
    gst_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    discount_paise: int
    coupon_code: str
    gst_rate_percent: int
    refunded_paise: int
    has_invoice: bool
