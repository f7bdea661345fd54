"""Showing integer paise as Indian rupees (₹1,04,999.00: lakh/crore grouping), through Babel's en_IN locale."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

WHOLE_RUPEES = "¤#,##,##0"


def format_inr(paise: int | None, *, always_paise: bool = False) -> str:
    """4999900 → "₹49,999" (or "₹49,999.00" with always_paise, as receipts show); 99 → "₹0.99"."""
    if paise is None:
        return ""
    amount = Decimal(int(paise)) / 100
    if not always_paise and amount == amount.to_integral_value():
        return format_currency(amount, "INR", format=WHOLE_RUPEES, locale="en_IN", currency_digits=False)
    return format_currency(amount, "INR", locale="en_IN")
