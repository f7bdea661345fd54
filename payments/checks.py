"""System checks for the GST invoice settings: a wrong GSTIN or state would print on every invoice."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register
from stdnum.in_ import gstin

from payments.invoices import STATE_CODES


@register()
def gst_settings_check(app_configs, **kwargs) -> list[Error]:
    """ACADEMY_GSTIN is a valid GSTIN (format and check digit) of ACADEMY_STATE_CODE, a GST state code."""
    errors = []
    if settings.ACADEMY_STATE_CODE not in STATE_CODES:
        errors.append(Error("ACADEMY_STATE_CODE is not a GST state code.", id="payments.E001"))
    if not gstin.is_valid(settings.ACADEMY_GSTIN):
        errors.append(Error("ACADEMY_GSTIN is not a valid GSTIN (format or check digit).", id="payments.E002"))
    elif settings.ACADEMY_GSTIN[:2] != settings.ACADEMY_STATE_CODE:
        errors.append(Error("ACADEMY_GSTIN belongs to another state than ACADEMY_STATE_CODE.", id="payments.E003"))
    return errors
