from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone

MAX_REVENUE_DAYS = 366


class CheckoutCallbackForm(forms.Form):
    """The fields Razorpay Checkout hands to the page's success handler."""

    razorpay_order_id = forms.CharField(max_length=64)
    razorpay_payment_id = forms.CharField(max_length=64)
    razorpay_signature = forms.CharField(max_length=128)


class SandboxOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("pay", "Pay"), ("fail", "Fail")])


class RefundForm(forms.Form):
    amount_rupees = forms.DecimalField(
        label="Amount (₹)", max_digits=10, decimal_places=2, min_value=Decimal("0.01"), help_text="GST inclusive"
    )
    reason = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, refundable_paise: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.refundable_paise = refundable_paise
        self.fields["amount_rupees"].initial = Decimal(refundable_paise) / 100
        self.fields["amount_rupees"].help_text = f"At most ₹{refundable_paise / 100:,.2f} (GST inclusive)"

    def clean_amount_rupees(self) -> Decimal:
        amount = self.cleaned_data["amount_rupees"]
        if int(amount * 100) > self.refundable_paise:
            raise forms.ValidationError(f"At most ₹{self.refundable_paise / 100:,.2f} can be refunded.")
        return amount

    @property
    def amount_paise(self) -> int:
        # Two decimal places are enforced by the field, so this is exact.
        return int(self.cleaned_data["amount_rupees"] * 100)


class RevenueRangeForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean(self) -> dict:
        cleaned = super().clean()
        end = cleaned.get("end") or timezone.localdate()
        start = cleaned.get("start") or end - timedelta(days=29)
        if start > end:
            self.add_error("start", "The start must not be after the end.")
        elif (end - start).days >= MAX_REVENUE_DAYS:
            self.add_error("start", f"At most {MAX_REVENUE_DAYS} days at once.")
        cleaned.update(start=start, end=end)
        return cleaned
