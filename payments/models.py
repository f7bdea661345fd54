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
    # Who paid: the learner, or a parent linked to them (issue 19 item 3); the enrollment stays the
    # learner's. Null on payments made before payers were recorded: the learner paid.
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="payments_made"
    )
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
    razorpay_order_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    razorpay_payment_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    receipt_number = models.CharField(max_length=40, unique=True, null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True, default="")
    anomaly = models.CharField(max_length=30, choices=Anomaly.choices, blank=True, default=Anomaly.NONE)
    # A stray capture (second payment on an order, wrong amount) is its own row: this is the order's payment.
    order_payment = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="stray_captures"
    )
    # The course fee before a coupon; amount_paise = list_price_paise − discount_paise (GST inclusive).
    discount_paise = models.PositiveIntegerField(default=0)
    coupon = models.ForeignKey("Coupon", null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    # The payer's state (GST state code): the place of supply on the invoice; blank = the academy's state.
    billing_state = models.CharField(max_length=2, blank=True, default="")
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


class DocumentSeries(models.Model):
    """One gap-free counter per kind of tax document and financial year (April–March, IST), row-locked."""

    class Kind(models.TextChoices):
        INVOICE = "INVOICE", "Tax invoice"
        CREDIT_NOTE = "CREDIT_NOTE", "Credit note"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    financial_year_start = models.PositiveSmallIntegerField(help_text="2026 for April 2026 – March 2027")
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "payment_document_series"
        constraints = [
            models.UniqueConstraint(fields=["kind", "financial_year_start"], name="document_series_one_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.financial_year_start}: {self.last_serial}"


class TaxDocumentFields(models.Model):
    """What a GST tax invoice or credit note states, frozen when it is issued (amounts in paise)."""

    number = models.CharField(max_length=16, unique=True)
    financial_year_start = models.PositiveSmallIntegerField()
    serial = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    buyer_name = models.CharField(max_length=150)
    buyer_contact = models.CharField(max_length=254, blank=True, default="")
    place_of_supply = models.CharField(max_length=2, help_text="GST state code of the buyer")
    supplier_state = models.CharField(max_length=2)
    description = models.CharField(max_length=200)
    sac_code = models.CharField(max_length=8)
    gst_rate_percent = models.PositiveSmallIntegerField()
    total_paise = models.PositiveIntegerField()
    taxable_paise = models.PositiveIntegerField()
    cgst_paise = models.PositiveIntegerField()
    sgst_paise = models.PositiveIntegerField()
    igst_paise = models.PositiveIntegerField()

    class Meta:
        abstract = True

    @property
    def intra_state(self) -> bool:
        return self.place_of_supply == self.supplier_state


class Invoice(TaxDocumentFields):
    """The GST tax invoice of a captured payment: issued once, at capture, never renumbered."""

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="invoice")
    list_price_paise = models.PositiveIntegerField()
    discount_paise = models.PositiveIntegerField(default=0)
    coupon_code = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        db_table = "payment_invoices"
        constraints = [
            models.UniqueConstraint(fields=["financial_year_start", "serial"], name="invoices_serial_unique_per_year")
        ]

    def __str__(self) -> str:
        return self.number


class CreditNote(TaxDocumentFields):
    """A GST credit note for one processed refund of an invoiced payment."""

    refund = models.OneToOneField(Refund, on_delete=models.PROTECT, related_name="credit_note")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")

    class Meta:
        db_table = "payment_credit_notes"
        constraints = [
            models.UniqueConstraint(
                fields=["financial_year_start", "serial"], name="credit_notes_serial_unique_per_year"
            )
        ]

    def __str__(self) -> str:
        return self.number


class Coupon(models.Model):
    """A discount code applied by the server when an order is created (docs/payments.md, Coupons)."""

    class Kind(models.TextChoices):
        PERCENT = "PERCENT", "Percentage off"
        FIXED = "FIXED", "Fixed amount off"

    code = models.CharField(max_length=32, unique=True, help_text="Stored upper-case; learners may type any case")
    kind = models.CharField(max_length=7, choices=Kind.choices)
    percent_off = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1–100, for a percentage")
    amount_off_paise = models.PositiveIntegerField(null=True, blank=True, help_text="For a fixed amount, in paise")
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit")
    max_uses_per_learner = models.PositiveIntegerField(default=1)
    times_used = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "coupons"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="PERCENT", percent_off__gte=1, percent_off__lte=100, amount_off_paise__isnull=True)
                    | Q(kind="FIXED", amount_off_paise__gte=1, percent_off__isnull=True)
                ),
                name="coupons_kind_matches_value",
            ),
            models.CheckConstraint(condition=Q(valid_until__gt=models.F("valid_from")), name="coupons_window"),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(times_used__lte=models.F("max_uses")), name="coupons_within_cap"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class CouponRedemption(models.Model):
    """One use of a coupon: written with the order it discounts, under the coupon's row lock."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="coupon_redemption")
    discount_paise = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "coupon_redemptions"
        indexes = [models.Index(fields=["coupon", "user"], name="idx_coupon_redemptions_user")]

    def __str__(self) -> str:
        return f"{self.coupon_id} by {self.user_id}"
