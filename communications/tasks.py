"""FIRST VERSION — the communications issue completes this module."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from communications.models import Channel, CommunicationLog


@shared_task(name="communications.message_send")
def message_send(log_id: int) -> None:
    row = CommunicationLog.objects.filter(pk=log_id, status=CommunicationLog.Status.QUEUED).first()
    if row is None:
        return
    if row.channel == Channel.EMAIL:
        send_mail(row.template, str(row.params), settings.DEFAULT_FROM_EMAIL, [row.recipient])
    row.status = CommunicationLog.Status.SENT
    row.sent_at = timezone.now()
    row.save(update_fields=["status", "sent_at", "updated_at"])
