"""Sending one outbox row through its channel. Providers raise TemporaryError (retry) or PermanentError.

Email goes through Django's email backends (SMTP in production, console in the embedded default) with a
deterministic Message-ID per row, so a resend after a crash is recognisable as the same message.
WhatsApp goes through the WhatsApp Business Cloud API as a template message; without credentials it
prints to the console. SMS has no gateway yet and prints to the console.
"""

from __future__ import annotations

import logging
import smtplib
from email.utils import parseaddr

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from communications.catalog import template_get
from communications.models import Category, Channel, CommunicationLog
from communications.unsubscribe import list_unsubscribe_headers, unsubscribe_token, unsubscribe_url

logger = logging.getLogger(__name__)

# Cloud API error codes that mean "slow down / try later" even though the HTTP status is 400.
WHATSAPP_TEMPORARY_CODES = {1, 2, 4, 80007, 130429, 131000, 131016, 131056}


class TemporaryError(Exception):
    """The provider may accept the message later (timeout, 5xx, 429)."""


class PermanentError(Exception):
    """The provider will never accept this message (invalid number, refused address).

    `kind` tells the outbox what else the refusal means: HARD_BOUNCE (the address does not exist:
    suppress it), MARKETING_STOPPED (the WhatsApp user stopped marketing messages: an opt-out).
    """

    HARD_BOUNCE = "hard_bounce"
    MARKETING_STOPPED = "marketing_stopped"

    def __init__(self, message: str, *, kind: str = ""):
        super().__init__(message)
        self.kind = kind


# Cloud API error 131050: "the user has chosen to stop receiving marketing messages".
WHATSAPP_MARKETING_STOPPED_CODE = 131050


def send(row: CommunicationLog) -> str:
    """Send `row` and return the provider's message id."""
    if row.channel == Channel.EMAIL:
        return send_email(row)
    if row.channel == Channel.WHATSAPP:
        if settings.WHATSAPP_TOKEN and settings.WHATSAPP_PHONE_NUMBER_ID:
            return send_whatsapp(row)
        return send_console(row)
    return send_console(row)


def email_message_id(row: CommunicationLog) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "cerebrum.academy"
    return f"<outbox.{row.pk}.{int(row.created_at.timestamp())}@{domain}>"


def send_email(row: CommunicationLog) -> str:
    """One SMTP delivery of the row's email (HTML with a plain-text alternative, see `email_message`)."""
    message = email_message(row)
    message.connection = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        replies = list(exc.recipients.values())
        if not all(500 <= code < 600 for code, _ in replies):
            raise TemporaryError(f"recipient refused: {exc.recipients}") from exc
        hard = any(_is_hard_bounce(code, text) for code, text in replies)
        kind = PermanentError.HARD_BOUNCE if hard else ""
        raise PermanentError(f"recipient refused: {exc.recipients}", kind=kind) from exc
    except smtplib.SMTPResponseException as exc:
        # 5xx is a final answer from the server; 4xx asks to come back later. A refused sender is
        # our own problem, never the recipient's.
        if not 500 <= exc.smtp_code < 600:
            raise TemporaryError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
        hard = not isinstance(exc, smtplib.SMTPSenderRefused) and _is_hard_bounce(exc.smtp_code, exc.smtp_error)
        kind = PermanentError.HARD_BOUNCE if hard else ""
        raise PermanentError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", kind=kind) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryError(f"SMTP unavailable: {exc}") from exc
    return message.extra_headers["Message-ID"]


def email_message(row: CommunicationLog) -> EmailMultiAlternatives:
    """The row's email: the plain text from the template's body file, and an HTML part rendered from
    the same text in templates/emails/base.html. Marketing mail adds a visible unsubscribe link to both
    parts and the List-Unsubscribe / List-Unsubscribe-Post (one-click, RFC 8058) headers."""
    template = template_get(row.template)
    headers = {"Message-ID": email_message_id(row)}
    link = ""
    if row.category == Category.MARKETING:
        token = unsubscribe_token(channel=Channel.EMAIL, user_id=row.user_id, address=row.recipient)
        link = unsubscribe_url(token)
        headers.update(list_unsubscribe_headers(token))
    # In the learner's language (outbox.message_language; a row written before it had none: English).
    with translation.override(row.language or settings.LANGUAGE_CODE):
        text = template.render_body(row.params).strip()
        footer = "\n\n--\n" + gettext("You get this because you study with Cerebrum. Unsubscribe: %(url)s") % {
            "url": link
        }
        footer = footer if link else ""
        subject = one_line(template.render_subject(row.params))
        html = render_to_string("emails/base.html", {"subject": subject, "body": text, "unsubscribe_url": link})
    message = EmailMultiAlternatives(subject=subject, body=text + footer + "\n", to=[row.recipient], headers=headers)
    message.attach_alternative(html, "text/html")
    return message


def _is_hard_bounce(code: int, text) -> bool:
    """A permanent failure that says the address itself is bad (RFC 3463 enhanced codes 5.1.x and
    5.2.1, or a bare 550/551/553 without an enhanced code); policy refusals (5.7.x) are not."""
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    if "5.7." in text:
        return False
    if any(status in text for status in ("5.1.", "5.2.1")):
        return True
    return code in (550, 551, 553) and "5." not in text[:6]


def send_whatsapp(row: CommunicationLog) -> str:
    url = f"{settings.WHATSAPP_API_URL}/{settings.WHATSAPP_PHONE_NUMBER_ID}/messages"
    try:
        response = requests.post(
            url,
            json=whatsapp_payload(row),
            headers={"Authorization": f"Bearer {settings.WHATSAPP_TOKEN}"},
            timeout=settings.WHATSAPP_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise TemporaryError(f"WhatsApp unreachable: {exc}") from exc
    body = _json_or_empty(response)
    if response.ok:
        try:
            return body["messages"][0]["id"]
        except (KeyError, IndexError, TypeError) as exc:
            raise TemporaryError(f"WhatsApp answered without a message id: {body!r}") from exc
    error = body.get("error", {}) if isinstance(body, dict) else {}
    detail = f"WhatsApp {response.status_code} code {error.get('code')}: {error.get('message', response.text[:200])}"
    if response.status_code == 429 or response.status_code >= 500 or error.get("code") in WHATSAPP_TEMPORARY_CODES:
        raise TemporaryError(detail)
    kind = PermanentError.MARKETING_STOPPED if error.get("code") == WHATSAPP_MARKETING_STOPPED_CODE else ""
    raise PermanentError(detail, kind=kind)


def whatsapp_payload(row: CommunicationLog) -> dict:
    template = template_get(row.template)
    parameters = [{"type": "text", "text": one_line(str(row.params.get(key, "")))} for key in template.params]
    return {
        "messaging_product": "whatsapp",
        "to": row.recipient.lstrip("+"),
        "type": "template",
        "template": {
            "name": template.whatsapp_name,
            "language": {"code": "en"},
            "components": [{"type": "body", "parameters": parameters}],
        },
    }


def one_line(text: str) -> str:
    """`text` with every run of whitespace (line breaks, tabs) made one space: a mail header may not
    hold a line break (Django raises BadHeaderError), and WhatsApp refuses a template parameter with a
    line break, a tab or more than 4 spaces in a row (Cloud API error 132018). A learner's name or a
    course name typed with one must not cost the learner the message."""
    return " ".join(text.split())


def send_console(row: CommunicationLog) -> str:
    template = template_get(row.template)
    logger.info("%s to %s: %s", row.channel, row.recipient, template.render_body(row.params).strip())
    return f"console-{row.channel.lower()}-{row.pk}"


def _json_or_empty(response: requests.Response) -> dict:
    try:
        return response.json()
    except ValueError:
        return {}
