"""Showing integer paise as Indian rupees (₹1,04,999.00: lakh/crore grouping), through Babel's en_IN locale."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from django.conf import settings

WHOLE_RUPEES = "¤#,##,##0"


def format_inr(paise: int | None, *, always_paise: bool = False) -> str:
    """4999900 → "₹49,999" (or "₹49,999.00" with always_paise, as receipts show); 99 → "₹0.99"."""
    if paise is None:
        return ""
    amount = Decimal(int(paise)) / 100
    if not always_paise and amount == amount.to_integral_value():
        return format_currency(amount, "INR", format=WHOLE_RUPEES, locale="en_IN", currency_digits=False)
    return format_currency(amount, "INR", locale="en_IN")


def rupees(paise: int | None) -> str:
    """1_04_99_900 → "₹1,04,999.00": integer paise with Indian digit grouping, paise always shown (receipts,
    messages; the `rupees` template filter of payments/templatetags/money.py)."""
    return format_inr(paise, always_paise=True)


def gst_split(total_paise: int, *, intra_state: bool = True, rate_percent: int | None = None) -> dict[str, int]:
    """The one GST computation: a GST-inclusive total in integer paise → taxable value and tax heads.

    taxable = round(total × 100 / (100 + rate)), half up; GST = total − taxable, so the parts always add up
    to the total. Within the supplier's state (intra_state) the GST is CGST + SGST halves, the odd paisa
    going to SGST; otherwise it is all IGST (CGST Act s. 9 / IGST Act s. 5; the rate is
    settings.GST_RATE_PERCENT, 18 % for coaching, SAC 999293).
    """
    rate = settings.GST_RATE_PERCENT if rate_percent is None else rate_percent
    divisor = 100 + rate
    taxable = (total_paise * 100 * 2 + divisor) // (2 * divisor)
    gst = total_paise - taxable
    cgst = gst // 2 if intra_state else 0
    sgst = gst - cgst if intra_state else 0
    return {
        "total_paise": total_paise,
        "base_paise": taxable,
        "gst_paise": gst,
        "cgst_paise": cgst,
        "sgst_paise": sgst,
        "igst_paise": 0 if intra_state else gst,
        "gst_rate_percent": rate,
    }
