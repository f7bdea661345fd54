"""Messages through the outbox. FIRST VERSION — the communications issue completes this module."""

from __future__ import annotations

from django.db import transaction

from communications.models import Channel, CommunicationLog


def message_enqueue(
    *,
    template: str,
    context: dict,
    idempotency_key: str,
    user=None,
    channels: list[str] | None = None,
    recipient: str | None = None,
) -> list[CommunicationLog]:
    """Write outbox rows in the caller's transaction; the send is enqueued after commit."""
    from communications.tasks import message_send

    wanted = channels or [Channel.EMAIL, Channel.WHATSAPP]
    rows = []
    for channel in wanted:
        to = recipient or _address(user, channel)
        if not to:
            continue
        row, created = CommunicationLog.objects.get_or_create(
            idempotency_key=f"{idempotency_key}:{channel}",
            defaults={"user": user, "channel": channel, "template": template, "params": context, "recipient": to},
        )
        if created:
            transaction.on_commit(lambda pk=row.pk: message_send.delay(pk))
        rows.append(row)
    return rows


def _address(user, channel: str) -> str:
    if user is None:
        return ""
    return (user.email if channel == Channel.EMAIL else user.phone) or ""
