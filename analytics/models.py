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
            # The sign-in join: a device's anonymous events that no learner owns yet.
            models.Index(
                fields=["anonymous_id"],
                name="idx_analytics_events_anon",
                condition=Q(user__isnull=True) & ~Q(anonymous_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type}:{self.event_name} @ {self.created_at:%Y-%m-%d %H:%M}"


class AttributionTouch(models.Model):
    """One attributed visit: a landing that carried utm_* parameters, on one device (`anonymous_id`).

    Written at once by the UTM middleware (not through the event buffer), so a payment made seconds
    after landing already sees it. `user` is set when the visitor was signed in, or later when they
    sign in on that device (`attribution.visitor_join`). First and last touch of a conversion are
    read from here (`attribution.touches_for_user`).
    """

    anonymous_id = models.CharField(max_length=64, blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    utm_source = models.CharField(max_length=100, blank=True, default="")
    utm_medium = models.CharField(max_length=100, blank=True, default="")
    utm_campaign = models.CharField(max_length=150, blank=True, default="")
    utm_term = models.CharField(max_length=150, blank=True, default="")
    utm_content = models.CharField(max_length=150, blank=True, default="")
    path = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "analytics_touches"
        indexes = [
            models.Index(fields=["user", "created_at"], name="idx_touches_user_created"),
            models.Index(fields=["anonymous_id"], name="idx_touches_anon", condition=Q(user__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.utm_source}/{self.utm_campaign} @ {self.created_at:%Y-%m-%d %H:%M}"


class Campaign(models.Model):
    """An ad campaign as staff know it: its UTM source + campaign and what it cost, for cost per enrollment."""

    utm_source = models.CharField(max_length=100)
    utm_campaign = models.CharField(max_length=150)
    name = models.CharField(max_length=150, blank=True, default="")
    cost_paise = models.PositiveBigIntegerField(default=0, help_text="total spend in paise (₹1 = 100 paise)")
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "analytics_campaigns"
        constraints = [
            models.UniqueConstraint(fields=["utm_source", "utm_campaign"], name="analytics_campaign_unique"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.utm_source} / {self.utm_campaign}"


class DailyMetric(models.Model):
    """One number per IST day, metric and dimension (e.g. a campaign or a topic); rebuilt by the rollup task.

    The dashboards read only this table, so they cost the same with ten events or ten million.
    """

    class Metric(models.TextChoices):
        ACTIVE_LEARNERS = "active_learners", "Active learners"
        VISITS = "visits", "Visitors"
        FREE_TESTS = "free_tests", "Free-test takers"
        SIGNUPS = "signups", "Sign-ups"
        LEADS = "leads", "Leads"
        ENROLLMENTS = "enrollments", "Enrollments"
        PAYMENTS = "payments", "Paid enrollments"
        REVENUE_PAISE = "revenue_paise", "Revenue (paise)"
        ATTEMPTS = "attempts", "Tests submitted"
        TOPIC_SCORE_SUM = "topic_score_sum", "Topic score sum"
        TOPIC_ATTEMPTS = "topic_attempts", "Topic attempts"
        # Per campaign by the payment's (or enrollment's) first or last touch; "(direct)" for none.
        PAYMENTS_FIRST = "payments_first", "Paid enrollments (first touch)"
        PAYMENTS_LAST = "payments_last", "Paid enrollments (last touch)"
        REVENUE_FIRST_PAISE = "revenue_first_paise", "Revenue, first touch (paise)"
        REVENUE_LAST_PAISE = "revenue_last_paise", "Revenue, last touch (paise)"
        ENROLLMENTS_LAST = "enrollments_last", "Enrollments (last touch)"

    date = models.DateField()
    metric = models.CharField(max_length=20, choices=Metric.choices)
    dimension = models.CharField(max_length=300, blank=True, default="", help_text="'' for the day's total")
    value = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "analytics_daily_metrics"
        constraints = [
            models.UniqueConstraint(fields=["date", "metric", "dimension"], name="analytics_daily_metric_unique"),
        ]
        indexes = [models.Index(fields=["metric", "date"], name="idx_daily_metrics_metric_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.metric}[{self.dimension}] = {self.value}"


class RollupDay(models.Model):
    """When an IST day's rollups were last computed. A day without rows in DailyMetric may be a quiet
    day or one never computed; this tells them apart, so a dashboard can compute what is missing."""

    date = models.DateField(primary_key=True)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_rollup_days"

    def __str__(self) -> str:
        return f"{self.date} computed {self.computed_at:%Y-%m-%d %H:%M} UTC"


class DeadLetterEvent(models.Model):
    """A buffered event the flusher could not write, set aside so the rest of its batch is stored.

    `payload` is the event as it travelled through the buffer, JSON-encoded (a NUL appears as the six
    characters \\u0000, which PostgreSQL text accepts); staff see these in the admin.
    """

    payload = models.TextField()
    error = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "analytics_dead_letter_events"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"dead letter {self.pk} @ {self.created_at:%Y-%m-%d %H:%M}: {self.error[:60]}"
