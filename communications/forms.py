from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from communications.models import Channel


class ChannelPreferencesForm(forms.Form):
    EMAIL = forms.BooleanField(
        required=False, label=_("Email"), help_text=_("Receipts, results and reminders by email")
    )
    WHATSAPP = forms.BooleanField(
        required=False, label=_("WhatsApp"), help_text=_("Sent between 09:00 and 21:00 IST; login codes always arrive")
    )
    EMAIL_MARKETING = forms.BooleanField(
        required=False,
        label=_("Study nudges and offers by email"),
        help_text=_("Weekly digests, reminders to practise"),
    )
    WHATSAPP_MARKETING = forms.BooleanField(
        required=False, label=_("Study nudges and offers on WhatsApp"), help_text=_("Never between 21:00 and 09:00 IST")
    )

    def choices(self) -> dict[str, tuple[bool, bool]]:
        """channel → (accepts the channel, accepts marketing on it)."""
        data = self.cleaned_data
        return {channel: (data[channel], data[f"{channel}_MARKETING"]) for channel in (Channel.EMAIL, Channel.WHATSAPP)}


class BounceWebhookForm:
    """Validates the bounce webhook's JSON body: {"events": [{"type", "bounce_type", "email", "detail"}]}."""

    TYPES = {"bounce", "complaint"}
    MAX_EVENTS = 500

    def __init__(self, payload):
        self.payload = payload
        self.errors: dict[str, list[str]] = {}
        self._events: list[dict] = []

    def is_valid(self) -> bool:
        events = self.payload.get("events") if isinstance(self.payload, dict) else None
        if not isinstance(events, list) or not 0 < len(events) <= self.MAX_EVENTS:
            self.errors["events"] = [f"Send a list of 1 to {self.MAX_EVENTS} events."]
            return False
        for index, event in enumerate(events):
            problem = self._problem(event)
            if problem:
                self.errors[f"events[{index}]"] = [problem]
            else:
                self._events.append(self._normalized(event))
        return not self.errors

    def events(self) -> list[dict]:
        return self._events

    def _problem(self, event) -> str:
        if not isinstance(event, dict) or not isinstance(event.get("type"), str) or event["type"] not in self.TYPES:
            return "Each event needs a type: bounce or complaint."
        if event.get("type") == "bounce" and event.get("bounce_type", "hard") not in ("hard", "soft"):
            return "bounce_type is hard or soft."
        try:
            if not isinstance(event.get("email"), str):
                raise ValidationError("not text")
            validate_email(event["email"])
        except ValidationError:
            return "Enter a valid email address."
        return ""

    def _normalized(self, event: dict) -> dict:
        kind = "complaint" if event["type"] == "complaint" else f"{event.get('bounce_type', 'hard')}_bounce"
        return {"email": str(event["email"]), "kind": kind, "detail": str(event.get("detail", ""))[:500]}
