"""Payments admin: read-only money records; refunds go through `refund_create` (the gateway), never an edit."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from cerebrum.admin_tools import BigTableAdmin
from cerebrum.errors import DomainError
from cerebrum.models import UTM_KEYS
from cerebrum.money import format_inr
from payments.coupons import coupon_save
from payments.forms import CouponAdminForm, RefundForm
from payments.models import Coupon, CreditNote, Invoice, Payment, PaymentEvent, PaymentToRefund, Refund
from payments.services import REFUNDABLE_STATUSES, refund_create, refundable_paise


class ReadOnlyAdminMixin:
    """Money rows change only through services (append-only events, gateway-backed refunds)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PaymentEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PaymentEvent
    fields = ["created_at", "event_type", "source", "from_status", "to_status", "provider_event_id"]
    readonly_fields = fields
    ordering = ["created_at"]
    extra = 0


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Refund
    fields = ["created_at", "amount", "status", "razorpay_refund_id", "reason", "created_by"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="Amount")
    def amount(self, refund: Refund) -> str:
        return format_inr(refund.amount_paise, always_paise=True)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, BigTableAdmin):
    list_display = ["id", "user", "course", "amount", "refunded", "status", "anomaly", "gateway", "created_at"]
    list_filter = [
        "status",
        "anomaly",
        ("created_at", admin.DateFieldListFilter),
        ("enrollment__course", admin.RelatedOnlyFieldListFilter),
        "gateway",
    ]
    search_fields = ["=razorpay_order_id", "=razorpay_payment_id", "=receipt_number", "=user__email", "=user__phone"]
    list_select_related = ["user", "enrollment__course"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "user", "payer", "enrollment", "amount_paise", "refunded_paise", "currency", "status", "gateway",
        "razorpay_order_id", "razorpay_payment_id", "receipt_number", "failure_reason", "anomaly", "order_payment",
        "captured_at",
        *UTM_KEYS, "created_at", "updated_at",
        "discount_paise", "coupon", "billing_state", "invoice_link", "refund_link",
    ]  # fmt: skip
    inlines = [RefundInline, PaymentEventInline]
    actions = ["refund_selected"]

    @admin.display(ordering="enrollment__course__name")
    def course(self, payment: Payment) -> str:
        return payment.enrollment.course.name

    @admin.display(description="Amount", ordering="amount_paise")
    def amount(self, payment: Payment) -> str:
        return format_inr(payment.amount_paise, always_paise=True)

    @admin.display(description="Refunded", ordering="refunded_paise")
    def refunded(self, payment: Payment) -> str:
        return format_inr(payment.refunded_paise, always_paise=True)

    @admin.display(description="Tax invoice")
    def invoice_link(self, payment: Payment) -> str:
        invoice = Invoice.objects.filter(payment=payment).first()
        if invoice is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("payments:invoice", args=[payment.pk]), invoice.number)

    @admin.display(description="Refund")
    def refund_link(self, payment: Payment) -> str:
        if payment.status not in REFUNDABLE_STATUSES:
            return "—"
        return format_html(
            '<a class="button" href="{}">Refund…</a>', reverse("admin:payments_payment_refund", args=[payment.pk])
        )

    @admin.action(description="Refund the selected payment (full or partial)…")
    def refund_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one payment to refund.", messages.WARNING)
            return None
        return redirect("admin:payments_payment_refund", queryset.get().pk)

    def get_urls(self):
        refund = path(
            "<int:payment_id>/refund/", self.admin_site.admin_view(self.refund_view), name="payments_payment_refund"
        )
        return [refund, *super().get_urls()]

    def refund_view(self, request, payment_id: int):
        if not request.user.has_perm("payments.add_refund"):
            raise PermissionDenied
        payment = get_object_or_404(Payment.objects.select_related("user", "enrollment__course"), pk=payment_id)
        left = refundable_paise(payment)
        form = RefundForm(request.POST or None, refundable_paise=left)
        if request.method == "POST" and form.is_valid() and request.POST.get("confirm") != "yes":
            # Step 2: say exactly what will happen before any money moves.
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "payment": payment,
                "form": form,
                "amount_paise": form.amount_paise,
                "full": form.amount_paise == left,
                "title": f"Confirm the refund of payment {payment.pk}",
            }
            return TemplateResponse(request, "admin/payments/payment/refund_confirm.html", context)
        if request.method == "POST" and form.is_valid():
            try:
                refund = refund_create(
                    payment=payment,
                    amount_paise=form.amount_paise,
                    reason=form.cleaned_data["reason"],
                    created_by=request.user,
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request, f"Refund {refund.razorpay_refund_id} of ₹{refund.amount_paise / 100:,.2f} requested."
                )
                return redirect("admin:payments_payment_change", payment.pk)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "payment": payment, "form": form,
                   "title": f"Refund payment {payment.pk}"}  # fmt: skip
        return TemplateResponse(request, "admin/payments/payment/refund.html", context)


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdminMixin, BigTableAdmin):
    list_display = ["created_at", "event_type", "source", "payment", "from_status", "to_status", "provider_event_id"]
    # "Payment: empty" with a capture event type: money captured on an order Cerebrum does not know.
    list_filter = ["source", "event_type", ("payment", admin.EmptyFieldListFilter)]
    search_fields = ["=provider_event_id", "=payment__razorpay_order_id"]
    list_select_related = ["payment"]
    raw_id_fields = ["payment"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "payment", "amount", "status", "razorpay_refund_id", "credit_note", "created_by"]
    list_filter = ["status"]
    search_fields = ["=razorpay_refund_id", "=payment__razorpay_payment_id"]
    list_select_related = ["payment", "created_by", "credit_note"]
    raw_id_fields = ["payment", "created_by"]

    @admin.display(description="Amount", ordering="amount_paise")
    def amount(self, refund: Refund) -> str:
        return format_inr(refund.amount_paise, always_paise=True)

    @admin.display(description="Credit note")
    def credit_note(self, refund: Refund) -> str:
        note = getattr(refund, "credit_note", None)
        if note is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("payments:credit_note", args=[refund.pk]), note.number)


@admin.register(PaymentToRefund)
class PaymentToRefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Money captured that could not be applied (issue 14 item 6), until it is refunded in full.

    "Refund in full" (a row's button or the action for several) shows a confirmation page first, then
    calls `refund_create` for each: the same service and gateway call as any staff refund.
    """

    list_display = [
        "id", "user", "course", "anomaly", "amount", "refundable", "razorpay_payment_id", "order_payment_link",
        "captured_at", "refund_button",
    ]  # fmt: skip
    list_filter = ["anomaly", "gateway"]
    search_fields = ["=razorpay_payment_id", "=user__email", "=user__phone"]
    list_select_related = ["user", "enrollment__course", "order_payment"]
    ordering = ["-created_at"]
    actions = ["refund_in_full"]

    def get_queryset(self, request) -> QuerySet:
        pending = (
            Refund.objects.filter(payment=OuterRef("pk"), status=Refund.Status.CREATED)
            .values("payment")
            .annotate(total=Sum("amount_paise"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .exclude(anomaly=Payment.Anomaly.NONE)
            .filter(status__in=REFUNDABLE_STATUSES)
            .annotate(pending_refund_paise=Coalesce(Subquery(pending), 0))
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("payments.view_payment")

    @admin.display(ordering="enrollment__course__name")
    def course(self, payment: Payment) -> str:
        return payment.enrollment.course.name

    @admin.display(description="Amount", ordering="amount_paise")
    def amount(self, payment: Payment) -> str:
        return format_inr(payment.amount_paise, always_paise=True)

    @admin.display(description="Left to refund")
    def refundable(self, payment: Payment) -> str:
        left = payment.amount_paise - payment.refunded_paise - payment.pending_refund_paise
        return format_inr(left, always_paise=True)

    @admin.display(description="Order's payment")
    def order_payment_link(self, payment: Payment) -> str:
        target = payment.order_payment or payment
        return format_html('<a href="{}">{}</a>', reverse("admin:payments_payment_change", args=[target.pk]), target.pk)

    @admin.display(description="Refund")
    def refund_button(self, payment: Payment) -> str:
        if payment.amount_paise - payment.refunded_paise - payment.pending_refund_paise <= 0:
            return "in flight"
        url = reverse("admin:payments_paymenttorefund_refund", args=[payment.pk])
        return format_html('<a class="button" href="{}">Refund in full…</a>', url)

    @admin.action(description="Refund the selected payments in full…", permissions=["refund"])
    def refund_in_full(self, request, queryset):
        return self._refund_in_full(request, queryset, confirm_url=None)

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm("payments.add_refund")

    def get_urls(self):
        refund = path(
            "<int:payment_id>/refund/",
            self.admin_site.admin_view(self.refund_one_view),
            name="payments_paymenttorefund_refund",
        )
        return [refund, *super().get_urls()]

    def refund_one_view(self, request, payment_id: int):
        if not self.has_refund_permission(request):
            raise PermissionDenied
        queryset = self.get_queryset(request).filter(pk=payment_id)
        if not queryset.exists():
            self.message_user(request, "That payment has nothing left to refund.", messages.WARNING)
            return redirect("admin:payments_paymenttorefund_changelist")
        return self._refund_in_full(request, queryset, confirm_url=request.path)

    def _refund_in_full(self, request, queryset, *, confirm_url: str | None):
        """First a confirmation page listing what will be refunded; on "post" the refunds, one per payment."""
        payments = list(queryset.select_related("user", "enrollment__course").order_by("pk"))
        # refund_create checks the amount again under the payment's lock.
        plans = [
            (payment, payment.amount_paise - payment.refunded_paise - payment.pending_refund_paise)
            for payment in payments
        ]
        plans = [(payment, amount) for payment, amount in plans if amount > 0]
        if request.POST.get("post") == "yes":
            return self._refund_confirmed(request, plans)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Refund in full?",
            "plans": plans,
            "total_paise": sum(amount for _, amount in plans),
            "confirm_url": confirm_url,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/payments/paymenttorefund/refund_confirm.html", context)

    def _refund_confirmed(self, request, plans):
        for payment, amount in plans:
            try:
                refund = refund_create(
                    payment=payment,
                    amount_paise=amount,
                    reason=f"Anomaly: {payment.get_anomaly_display()}",
                    created_by=request.user,
                )
            except DomainError as error:
                self.message_user(request, f"Payment {payment.pk}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Payment {payment.pk}: refund {refund.razorpay_refund_id} of {format_inr(amount, always_paise=True)} requested.",
                )
        return redirect("admin:payments_paymenttorefund_changelist")


class TaxDocumentAdmin(ReadOnlyAdminMixin, BigTableAdmin):
    """Invoices and credit notes are issued by the capture and refund services, never typed in."""

    search_fields = ["=number", "=buyer_contact"]
    list_filter = ["financial_year_start", "place_of_supply"]
    date_hierarchy = "issued_at"

    @admin.display(description="Total", ordering="total_paise")
    def total(self, document) -> str:
        return format_inr(document.total_paise, always_paise=True)

    @admin.display(description="Taxable value")
    def taxable(self, document) -> str:
        return format_inr(document.taxable_paise, always_paise=True)

    @admin.display(description="GST")
    def gst(self, document) -> str:
        if document.igst_paise:
            return f"IGST {format_inr(document.igst_paise, always_paise=True)}"
        cgst, sgst = (
            format_inr(document.cgst_paise, always_paise=True),
            format_inr(document.sgst_paise, always_paise=True),
        )
        return f"CGST {cgst} + SGST {sgst}"


@admin.register(Invoice)
class InvoiceAdmin(TaxDocumentAdmin):
    list_display = ["number", "issued_at", "buyer_name", "place_of_supply", "total", "taxable", "gst", "pdf"]
    list_select_related = ["payment"]
    raw_id_fields = ["payment"]

    @admin.display(description="PDF")
    def pdf(self, invoice: Invoice) -> str:
        return format_html('<a href="{}">PDF</a>', reverse("payments:invoice_pdf", args=[invoice.payment_id]))


@admin.register(CreditNote)
class CreditNoteAdmin(TaxDocumentAdmin):
    list_display = ["number", "issued_at", "buyer_name", "invoice", "total", "taxable", "gst", "pdf"]
    list_select_related = ["invoice", "refund"]
    raw_id_fields = ["invoice", "refund"]

    @admin.display(description="PDF")
    def pdf(self, note: CreditNote) -> str:
        return format_html('<a href="{}">PDF</a>', reverse("payments:credit_note_pdf", args=[note.refund_id]))


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    """Staff create and edit coupons; uses are counted by the order service (`times_used` is read-only)."""

    form = CouponAdminForm
    list_display = ["code", "discount", "valid_from", "valid_until", "uses", "max_uses_per_learner", "is_active"]
    list_filter = ["is_active", "kind"]
    search_fields = ["^code"]
    readonly_fields = ["times_used", "created_at", "updated_at"]
    fields = [
        "code", "kind", "percent_off", "amount_off_rupees", "valid_from", "valid_until", "max_uses",
        "max_uses_per_learner", "is_active", "times_used", "created_at", "updated_at",
    ]  # fmt: skip

    @admin.display(description="Discount")
    def discount(self, coupon: Coupon) -> str:
        if coupon.kind == Coupon.Kind.PERCENT:
            return f"{coupon.percent_off}% off"
        return f"{format_inr(coupon.amount_off_paise, always_paise=True)} off"

    @admin.display(description="Used")
    def uses(self, coupon: Coupon) -> str:
        return f"{coupon.times_used} / {coupon.max_uses}" if coupon.max_uses is not None else str(coupon.times_used)

    def save_model(self, request, obj: Coupon, form, change) -> None:
        coupon_save(coupon=obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # A used coupon is referenced by its orders and invoices: deactivate it instead.
        return obj is None or obj.times_used == 0
