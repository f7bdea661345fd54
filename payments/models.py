from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cerebrum.models import UTMFields


class Payment(UTMFields):
    class Status(models.TextChoices):
        CREATED = "CREATED", "Created"
        ATTEMPTED = "ATTEMPTED", "Attempted"
        AUTHORIZED = "AUTHORIZED", "Authorized"
        CAPTURED = "CAPTURED", "Captured"
        FAILED = "FAILED", "Failed"
        PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED", "Partially refunded"
        REFUNDED = "REFUNDED", "Refunded"

    class Gateway(models.TextChoices):
        RAZORPAY = "RAZORPAY", "Razorpay"
        SANDBOX = "SANDBOX", "Local sandbox"

    class Anomaly(models.TextChoices):
        """Why money the gateway captured could not be applied: staff refund it (docs/payments.md)."""

        NONE = "", "None"
        DUPLICATE_CAPTURE = "DUPLICATE_CAPTURE", "Second capture for an order already paid"
        AMOUNT_MISMATCH = "AMOUNT_MISMATCH", "Captured amount differs from the order"
        ENROLLMENT_NOT_PENDING = "ENROLLMENT_NOT_PENDING", "Enrollment cancelled or not awaiting payment"
        ENROLLMENT_ALREADY_PAID = "ENROLLMENT_ALREADY_PAID", "Enrollment already paid by another order"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    enrollment = models.ForeignKey("courses.Enrollment", on_delete=models.PROTECT, related_name="payments")
    amount_paise = models.PositiveIntegerField()
    refunded_paise = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="INR")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED)
    gateway = models.CharField(max_length=10, choices=Gateway.choices, default=Gateway.SANDBOX)
    # The learner's first and last attributed visits (any device) when the order was made, the moment
    # the learner chose to pay (analytics.attribution.touches_for_user); {} when none.
    first_touch = models.JSONField(default=dict, blank=True)
    last_touch = models.JSONField(default=dict, blank=True)
    # The learner's first and last attributed visits (any device) when the order was made, the moment
    # the learner chose to pay (analytics.attribution.touches_for_user); {} when none.
    first_touch = models.JSONField(default=dict, blank=True)
    last_touch = models.JSONField(default=dict, blank=True)
    razorpay_order_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    razorpay_payment_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    receipt_number = models.CharField(max_length=40, unique=True, null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True, default="")
    anomaly = models.CharField(max_length=30, choices=Anomaly.choices, blank=True, default=Anomaly.NONE)
    # A stray capture (second payment on an order, wrong amount) is its own row: this is the order's payment.
    order_payment = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="stray_captures"
    )
    captured_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "payments"
        constraints = [
            models.CheckConstraint(condition=Q(amount_paise__gt=0), name="payments_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_paise__lte=models.F("amount_paise")), name="payments_refund_within_amount"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status"], name="idx_payments_user_status"),
            models.Index(fields=["status", "-created_at"], name="idx_payments_status_created"),
            models.Index(
                fields=["razorpay_order_id"],
                name="idx_payments_razorpay_order",
                condition=Q(razorpay_order_id__isnull=False),
            ),
            # The staff's "to refund" list: anomalies are rare, so the partial index stays tiny.
            models.Index(fields=["status", "-created_at"], name="idx_payments_anomalies", condition=~Q(anomaly="")),
        ]

    def __str__(self) -> str:
        return f"₹{self.amount_paise / 100:,.2f} {self.status} ({self.razorpay_order_id or self.pk})"


class PaymentEvent(models.Model):
    """Append-only: every state change and every gateway event, keyed by the provider's event id."""

    class Source(models.TextChoices):
        WEBHOOK = "WEBHOOK", "Webhook"
        CHECKOUT = "CHECKOUT", "Checkout callback"
        RECONCILE = "RECONCILE", "Reconciliation"
        STAFF = "STAFF", "Staff"
        SYSTEM = "SYSTEM", "System"

    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    provider_event_id = models.CharField(max_length=100, unique=True)
    event_type = models.CharField(max_length=50)
    source = models.CharField(max_length=10, choices=Source.choices)
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payment_events"
        indexes = [models.Index(fields=["payment", "created_at"], name="idx_payment_events_payment")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.provider_event_id}"


class Refund(models.Model):
    class Status(models.TextChoices):
        CREATED = "CREATED", "Created"
        PROCESSED = "PROCESSED", "Processed"
        FAILED = "FAILED", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_paise = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    razorpay_refund_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "refunds"
        constraints = [models.CheckConstraint(condition=Q(amount_paise__gt=0), name="refunds_amount_positive")]

    def __str__(self) -> str:
        return f"Refund ₹{self.amount_paise / 100:,.2f} of payment {self.payment_id} ({self.status})"


class PaymentToRefund(Payment):
    """The staff's "Payments to refund" list: captures flagged with an anomaly that still hold money."""

    class Meta:
        proxy = True
        verbose_name = "payment to refund"
        verbose_name_plural = "payments to refund"
