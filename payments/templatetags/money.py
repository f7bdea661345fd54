"""`{{ amount_paise|rupees }}` → "₹1,04,999.00": integer paise with Indian digit grouping, paise always shown."""

from __future__ import annotations

from django import template

from cerebrum import money

register = template.Library()
register.filter("rupees", money.rupees)
