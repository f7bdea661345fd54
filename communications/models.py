from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Channel(models.TextChoices):
    EMAIL = "EMAIL", "Email"
    WHATSAPP = "WHATSAPP", "WhatsApp"
    SMS = "SMS", "SMS"


class Category(models.TextChoices):
    """Why a message is sent, which decides the rules it obeys (docs/communications.md, "Categories").

    TRANSACTIONAL: what the learner did or asked for (receipts, enrollment, OTP, results, exam-time
    notices); never held by quiet hours, and sent even after a marketing opt-out. MARKETING: what the
    academy wants to say (nudges, digests, campaigns); obeys opt-outs, unsubscribes and quiet hours.
    """

    TRANSACTIONAL = "TRANSACTIONAL", "Transactional"
    MARKETING = "MARKETING", "Marketing"


class CommunicationLog(models.Model):
    """The outbox: written in the business transaction, sent by a Celery task after commit."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        SENT = "SENT", "Sent"
        DELIVERED = "DELIVERED", "Delivered"
        READ = "READ", "Read"
        FAILED = "FAILED", "Failed"
        # Consent decided at send time said no (opt-out, unsubscribe, suppressed address): never sent.
        SKIPPED = "SKIPPED", "Skipped"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="communications"
    )
    # The report's idx_communication_user_type names this column "type"; it is the channel.
    channel = models.CharField(max_length=10, choices=Channel.choices)
    template = models.CharField(max_length=60)
    category = models.CharField(max_length=13, choices=Category.choices, default=Category.TRANSACTIONAL)
    params = models.JSONField(default=dict, blank=True)
    # The interface language the email is written in (outbox.message_language); blank: settings.LANGUAGE_CODE.
    language = models.CharField(max_length=10, blank=True, default="")
    recipient = models.CharField(max_length=254)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="set while a worker sends it")
    provider_message_id = models.CharField(max_length=128, unique=True, null=True, blank=True)
    error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    # Quiet hours defer a marketing message to 09:00 IST; a retry defers it by its backoff.
    scheduled_for = models.DateTimeField(default=timezone.now, help_text="not sent before this time")
    # When a send task was last published (or will become due); the relay re-publishes stale ones.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "communication_logs"
        indexes = [
            models.Index(fields=["user", "channel"], name="idx_communication_user_type"),
            models.Index(fields=["status", "-sent_at"], name="idx_communication_status_sent"),
            models.Index(fields=["status", "created_at"], name="idx_communication_relay", condition=Q(status="QUEUED")),
            models.Index(fields=["scheduled_for"], name="idx_communication_due", condition=Q(status="QUEUED")),
            models.Index(fields=["recipient", "-created_at"], name="idx_communication_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.template} → {self.recipient} ({self.status})"


class ChannelPreference(models.Model):
    """A learner's or parent's choice for one channel; no row means opted in to everything.

    `opted_in` False: nothing on this channel, except transactional mail when no other channel is
    left (email is the fallback). `marketing_opted_in` False: no marketing on this channel (the
    preferences page, an email unsubscribe link, a WhatsApp STOP or Meta's "stop promotions").
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_preferences")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    opted_in = models.BooleanField(default=True)
    marketing_opted_in = models.BooleanField(default=True)
    # Where the last marketing change came from ("preferences", "one-click unsubscribe", "WhatsApp STOP", ...).
    marketing_source = models.CharField(max_length=40, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "channel_preferences"
        constraints = [models.UniqueConstraint(fields=["user", "channel"], name="channel_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.channel} {'in' if self.opted_in else 'out'}"


class Suppression(models.Model):
    """An address no message may go to (scope ALL: a hard bounce) or no marketing may go to.

    Consulted at send time for every row, whoever enqueued it. Email addresses are stored lower-case.
    """

    class Scope(models.TextChoices):
        ALL = "ALL", "All messages"
        MARKETING = "MARKETING", "Marketing only"

    class Reason(models.TextChoices):
        HARD_BOUNCE = "HARD_BOUNCE", "Hard bounce"
        COMPLAINT = "COMPLAINT", "Spam complaint"
        UNSUBSCRIBE = "UNSUBSCRIBE", "Unsubscribed"
        WHATSAPP_STOP = "WHATSAPP_STOP", "WhatsApp STOP"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254)
    scope = models.CharField(max_length=10, choices=Scope.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "communication_suppressions"
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="communication_suppression_unique")]

    def __str__(self) -> str:
        return f"{self.channel} {self.address} ({self.get_reason_display()}, {self.scope})"
