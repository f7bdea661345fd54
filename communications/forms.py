from __future__ import annotations

from django import forms


class ChannelPreferencesForm(forms.Form):
    EMAIL = forms.BooleanField(required=False, label="Email", help_text="Receipts, results and reminders by email")
    WHATSAPP = forms.BooleanField(
        required=False, label="WhatsApp", help_text="Sent between 09:00 and 21:00 IST; login codes always arrive"
    )
