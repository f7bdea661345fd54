from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AnalyticsEvent(models.Model):
    class Type(models.TextChoices):
        PAGE_VIEW = "PAGE_VIEW", "Page view"
        CLICK = "CLICK", "Click"
        LANDING = "LANDING", "Landing"
        FREE_TEST = "FREE_TEST", "Free test"
        SIGNUP = "SIGNUP", "Sign-up"
        LOGIN = "LOGIN", "Login"
        ENROLLMENT = "ENROLLMENT", "Enrollment"
        PAYMENT = "PAYMENT", "Payment"
        TEST_START = "TEST_START", "Test start"
        TEST_SUBMIT = "TEST_SUBMIT", "Test submit"
        NOTE_VIEW = "NOTE_VIEW", "Note view"

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, help_text="made by the client; dedupes retries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    anonymous_id = models.CharField(max_length=64, blank=True, default="")
    event_type = models.CharField(max_length=12, choices=Type.choices)
    event_name = models.CharField(max_length=100)
    properties = models.JSONField(default=dict, blank=True)
    utm_source = models.CharField(max_length=100, null=True, blank=True)
    utm_medium = models.CharField(max_length=100, null=True, blank=True)
    utm_campaign = models.CharField(max_length=150, null=True, blank=True)
    path = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "analytics_events"
        indexes = [
            models.Index(fields=["user", "event_type", "-created_at"], name="idx_analytics_events_user_type"),
            models.Index(
                fields=["utm_source", "created_at"],
                name="idx_analytics_events_utm_source",
                condition=Q(utm_source__isnull=False),
            ),
            models.Index(fields=["created_at"], name="idx_analytics_events_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type}:{self.event_name} @ {self.created_at:%Y-%m-%d %H:%M}"
