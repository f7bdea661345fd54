"""Recipient addresses are checked when a message is created, never discovered bad by a retry loop."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, RegexValidator

from communications.models import Channel

# E.164 Indian mobile numbers: +91 then ten digits, the first 6-9.
indian_mobile = RegexValidator(
    r"^\+91[6-9]\d{9}\Z", "Enter an Indian mobile number as +91 followed by 10 digits (e.g. +919812345678)."
)
email_address = EmailValidator("Enter a valid email address.")


def recipient_error(channel: str, recipient: str) -> str:
    """The reason `recipient` cannot be used on `channel`, or "" when it can."""
    validator = email_address if channel == Channel.EMAIL else indian_mobile
    try:
        validator(recipient)
    except ValidationError as exc:
        return exc.messages[0]
    return ""
