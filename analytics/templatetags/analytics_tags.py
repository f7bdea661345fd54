from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def rupees(paise: int | None) -> str:
    """Integer paise shown as rupees, e.g. 4999900 → ₹49,999.00; blank for None."""
    if paise is None:
        return "—"
    return f"₹{paise / 100:,.2f}"


@register.filter
def or_dash(value) -> str:
    return "—" if value is None else str(value)
