"""The message catalog: every journey's WhatsApp template, its parameters and its email subject.

Email bodies are files under templates/communications/email/<name>.txt; staff read the whole catalog
in the admin (CommunicationLog → "Message templates"). WhatsApp templates are approved at Meta under
`whatsapp_name`; `params` are the context keys filling {{1}}, {{2}}, ... in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.template import Context, Template
from django.template.loader import render_to_string

from cerebrum.errors import DomainError
from communications.models import Category


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    description: str
    subject: str
    params: tuple[str, ...]
    # The default category (a caller may pass another, e.g. a reminder of an open test is marketing).
    category: str = Category.TRANSACTIONAL
    # OTP must reach the learner now: it ignores quiet hours and channel opt-outs.
    urgent: bool = False
    # Not worth sending after this long (a code that has expired); None: always worth sending.
    lifetime: timedelta | None = None
    # Redacted from the outbox row once it is sent or failed.
    secret_params: tuple[str, ...] = ()

    @property
    def whatsapp_name(self) -> str:
        return f"cerebrum_{self.name}"

    @property
    def body_path(self) -> str:
        return f"communications/email/{self.name}.txt"

    def render_subject(self, params: dict) -> str:
        """The subject in the active language: its msgid is the subject with `%(name)s` for `{{ name }}`."""
        source = "{% load i18n %}{% blocktranslate %}" + self.subject + "{% endblocktranslate %}"
        return Template(source).render(Context(params, autoescape=False)).strip()

    def render_body(self, params: dict) -> str:
        return render_to_string(self.body_path, params)


CATALOG: dict[str, MessageTemplate] = {
    t.name: t
    for t in (
        MessageTemplate("welcome", "After sign-up", "Welcome to Cerebrum, {{ name }}", ("name",)),
        MessageTemplate(
            "otp",
            "Phone verification code",
            "Your Cerebrum code is {{ code }}",
            ("code", "minutes"),
            urgent=True,
            lifetime=timedelta(minutes=5),
            secret_params=("code",),
        ),
        MessageTemplate(
            "password_reset",
            "A link to choose a new password (accounts.services.password_reset_request)",
            "Reset your Cerebrum password",
            ("name", "url"),
            urgent=True,
            lifetime=timedelta(hours=24),
            secret_params=("url",),
        ),
        MessageTemplate(
            "enrollment_confirmed", "Enrollment activated", "You are enrolled in {{ course }}", ("name", "course")
        ),
        MessageTemplate(
            "payment_receipt",
            "Payment captured",
            "Receipt {{ receipt }} for {{ course }}",
            ("name", "course", "amount", "receipt"),
        ),
        MessageTemplate(
            "payment_failed",
            "Payment failed, with a retry link",
            "Your payment for {{ course }} did not go through",
            ("name", "course", "retry_url"),
        ),
        MessageTemplate(
            "payment_anomaly",
            "Money received that could not be applied (a second payment, a wrong amount): it will be refunded",
            "We will refund {{ amount }} for {{ course }}",
            ("name", "course", "amount", "reason"),
        ),
        MessageTemplate(
            "refund_issued",
            "A refund was requested at the gateway",
            "Refund of {{ amount }} for {{ course }}",
            ("name", "course", "amount", "reference"),
        ),
        MessageTemplate(
            "test_result", "Test submitted", "Your result in {{ test }}: {{ score }}", ("name", "test", "score")
        ),
        MessageTemplate(
            "test_reminder",
            "One hour before a scheduled test",
            "{{ test }} starts at {{ starts_at }}",
            ("name", "test", "starts_at"),
        ),
        MessageTemplate(
            "parent_digest",
            "Weekly progress of a parent's children",
            "This week at Cerebrum",
            ("name", "summary", "url"),
            category=Category.MARKETING,
        ),
        MessageTemplate(
            "inactivity_nudge",
            "Learner inactive for 7 days",
            "We miss you, {{ name }}",
            ("name", "url"),
            category=Category.MARKETING,
        ),
        MessageTemplate(
            "marketing_optout_confirmed",
            "Confirms a WhatsApp STOP (or Meta's stop-promotions) once",
            "You will not get offers from Cerebrum on {{ channel }}",
            ("name", "channel"),
        ),
    )
}


def template_get(name: str) -> MessageTemplate:
    try:
        return CATALOG[name]
    except KeyError:
        raise DomainError(
            f"Unknown message template {name!r}.", fields={"template": [f"Choose one of {', '.join(CATALOG)}."]}
        ) from None
