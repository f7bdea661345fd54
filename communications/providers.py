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
from django.core.mail import EmailMessage, get_connection

from communications.catalog import template_get
from communications.models import Channel, CommunicationLog

logger = logging.getLogger(__name__)

# Cloud API error codes that mean "slow down / try later" even though the HTTP status is 400.
WHATSAPP_TEMPORARY_CODES = {1, 2, 4, 80007, 130429, 131000, 131016, 131056}


class TemporaryError(Exception):
    """The provider may accept the message later (timeout, 5xx, 429)."""


class PermanentError(Exception):
    """The provider will never accept this message (invalid number, refused address)."""


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
    template = template_get(row.template)
    message_id = email_message_id(row)
    message = EmailMessage(
        subject=template.render_subject(row.params),
        body=template.render_body(row.params).strip() + "\n",
        to=[row.recipient],
        headers={"Message-ID": message_id},
        connection=get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT),
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = PermanentError if all(500 <= code < 600 for code in codes) else TemporaryError
        raise error(f"recipient refused: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        # 5xx is a final answer from the server; 4xx asks to come back later.
        error = PermanentError if 500 <= exc.smtp_code < 600 else TemporaryError
        raise error(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryError(f"SMTP unavailable: {exc}") from exc
    return message_id


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
    raise PermanentError(detail)


def whatsapp_payload(row: CommunicationLog) -> dict:
    template = template_get(row.template)
    parameters = [{"type": "text", "text": str(row.params.get(key, ""))} for key in template.params]
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


def send_console(row: CommunicationLog) -> str:
    template = template_get(row.template)
    logger.info("%s to %s: %s", row.channel, row.recipient, template.render_body(row.params).strip())
    return f"console-{row.channel.lower()}-{row.pk}"


def _json_or_empty(response: requests.Response) -> dict:
    try:
        return response.json()
    except ValueError:
        return {}
