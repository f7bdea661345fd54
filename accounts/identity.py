"""The one place a typed email or phone number becomes an account key.

Sign-up, web login, API token login, password reset (email and OTP), phone OTP, the login lockout
counters (django-axes' AXES_USERNAME_CALLABLE and the per-account cap) and the per-address throttles
all call `identity_normalize`, so "Asha@Example.com" and "asha@example.com", or "09876510943" and
"+91-98765-10943", are one account everywhere, never two counters or two lookups.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError

INDIA_CODE = 91
# An Indian mobile number is 10 digits starting with 6, 7, 8 or 9 (TRAI's National Numbering Plan);
# phonenumbers alone also accepts landlines such as 5123456789.
INDIAN_MOBILE = re.compile(r"^[6-9]\d{9}$")
PHONE_HINT = "Enter a 10-digit Indian mobile number starting with 6, 7, 8 or 9, e.g. 98123 45678."
# The same rule as a pattern for API schemas: an optional +91 / 0091 / 91 / 0, then the 10 digits, with
# single spaces or dashes between them. Every string it matches passes `phone_normalize`.
PHONE_INPUT_PATTERN = r"^ *(?:\+91|0091|91|0)?[ -]*[6-9](?:[ -]?[0-9]){9} *$"


def identity_normalize(raw: str | None) -> str:
    """The account key for what a person typed as their login: an email or an Indian mobile number.

    Emails are trimmed and lower-cased ("Asha@Example.COM" → "asha@example.com"; str.lower, not
    casefold, which would turn "ß" into "ss", another mailbox). Phones become E.164: 09876510943,
    9876510943, 919876510943, +91-98765-10943 and 00919876510943 are all "+919876510943". Anything
    else comes back trimmed, so it matches no account but still counts as one key for lockouts.
    """
    text = (raw or "").strip()
    if "@" in text:
        return email_normalize(text) or ""
    try:
        return phone_normalize(text)
    except ValueError:
        return text


def email_normalize(email: str | None) -> str | None:
    """Trimmed and lower-cased, or None when empty."""
    email = (email or "").strip().lower()
    return email or None


def phone_normalize(phone: str | None) -> str:
    """E.164 for an Indian mobile (+91XXXXXXXXXX); raises ValueError with a message a person can act on."""
    try:
        number = phonenumbers.parse((phone or "").strip(), "IN")
    except phonenumbers.NumberParseException as error:
        raise ValueError(PHONE_HINT) from error
    national = str(number.national_number)
    if number.country_code != INDIA_CODE or not INDIAN_MOBILE.match(national):
        raise ValueError(PHONE_HINT)
    if not phonenumbers.is_valid_number(number):
        raise ValueError(PHONE_HINT)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_email(identity: str) -> bool:
    return "@" in identity


def indian_mobile_validator(value: str) -> None:
    """Model-field validator: a stored phone is already E.164 for an Indian mobile (the admin, shells)."""
    try:
        normalized = phone_normalize(value)
    except ValueError as error:
        raise ValidationError(str(error), code="invalid_phone") from error
    if normalized != value:
        raise ValidationError(f"Store the number as {normalized}.", code="phone_not_e164")
