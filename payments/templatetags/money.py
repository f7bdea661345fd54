"""`{{ amount_paise|rupees }}` → "₹1,04,999.00": integer paise shown with Indian digit grouping."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def rupees(paise: int | None) -> str:
    if paise is None:
        return ""
    sign = "-" if paise < 0 else ""
    whole, fraction = divmod(abs(int(paise)), 100)
    digits = str(whole)
    head, tail = digits[:-3], digits[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return f"{sign}₹{','.join([*groups, tail])}.{fraction:02d}"
