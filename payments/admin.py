"""Payments admin: read-only money records; refunds go through `refund_create` (the gateway), never an edit."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from cerebrum.admin_tools import BigTableAdmin
from cerebrum.errors import DomainError
from payments.forms import RefundForm
from payments.models import Payment, PaymentEvent, Refund
from payments.services import refund_create, refundable_paise


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
    fields = ["created_at", "amount_paise", "status", "razorpay_refund_id", "reason", "created_by"]
    readonly_fields = fields
    extra = 0


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, BigTableAdmin):
    list_display = ["id", "user", "course", "amount_paise", "refunded_paise", "status", "gateway", "created_at"]
    list_filter = [
        "status",
        ("created_at", admin.DateFieldListFilter),
        ("enrollment__course", admin.RelatedOnlyFieldListFilter),
        "gateway",
    ]
    search_fields = ["=razorpay_order_id", "=razorpay_payment_id", "=receipt_number", "=user__email", "=user__phone"]
    list_select_related = ["user", "enrollment__course"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "user", "enrollment", "amount_paise", "refunded_paise", "currency", "status", "gateway",
        "razorpay_order_id", "razorpay_payment_id", "receipt_number", "failure_reason", "captured_at",
        "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "created_at", "updated_at",
        "refund_link",
    ]  # fmt: skip
    inlines = [RefundInline, PaymentEventInline]
    actions = ["refund_selected"]

    @admin.display(ordering="enrollment__course__name")
    def course(self, payment: Payment) -> str:
        return payment.enrollment.course.name

    @admin.display(description="Refund")
    def refund_link(self, payment: Payment) -> str:
        if payment.status not in (Payment.Status.CAPTURED, Payment.Status.PARTIALLY_REFUNDED):
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
        form = RefundForm(request.POST or None, refundable_paise=refundable_paise(payment))
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
    list_filter = ["source", "event_type"]
    search_fields = ["=provider_event_id", "=payment__razorpay_order_id"]
    list_select_related = ["payment"]
    raw_id_fields = ["payment"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "payment", "amount_paise", "status", "razorpay_refund_id", "created_by"]
    list_filter = ["status"]
    search_fields = ["=razorpay_refund_id", "=payment__razorpay_payment_id"]
    list_select_related = ["payment", "created_by"]
    raw_id_fields = ["payment", "created_by"]
