"""`{{ amount_paise|rupees }}` → "₹1,04,999.00": integer paise with Indian digit grouping, paise always shown."""

from __future__ import annotations

from django import template

from cerebrum.money import format_inr

register = template.Library()


@register.filter
def rupees(paise: int | None) -> str:
    return format_inr(paise, always_paise=True)
