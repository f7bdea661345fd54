from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from payments.coupons import coupon_normalize
from payments.invoices import STATE_CHOICES
from payments.models import Coupon

MAX_REVENUE_DAYS = 366


class CheckoutCallbackForm(forms.Form):
    """The fields Razorpay Checkout hands to the page's success handler."""

    razorpay_order_id = forms.CharField(max_length=64)
    razorpay_payment_id = forms.CharField(max_length=64)
    razorpay_signature = forms.CharField(max_length=128)


class CheckoutOptionsForm(forms.Form):
    """The learner's choices before paying: a coupon code and their state (the invoice's place of supply)."""

    coupon_code = forms.CharField(max_length=32, required=False, label=_("Coupon code"))
    billing_state = forms.ChoiceField(
        choices=[("", _("Choose your state")), *STATE_CHOICES],
        required=False,
        label=_("Your state (for the GST invoice)"),
    )


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


class CouponAdminForm(forms.ModelForm):
    """A coupon as staff type it: the code in any case, a fixed amount in rupees (stored in paise)."""

    amount_off_rupees = forms.DecimalField(
        label="Amount off (₹)", max_digits=10, decimal_places=2, min_value=Decimal("0.01"), required=False
    )

    class Meta:
        model = Coupon
        fields = [
            "code", "kind", "percent_off", "valid_from", "valid_until", "max_uses", "max_uses_per_learner", "is_active",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.amount_off_paise:
            self.fields["amount_off_rupees"].initial = Decimal(self.instance.amount_off_paise) / 100

    def clean_code(self) -> str:
        return coupon_normalize(self.cleaned_data["code"])

    def clean(self) -> dict:
        cleaned = super().clean()
        kind, percent, rupees = cleaned.get("kind"), cleaned.get("percent_off"), cleaned.get("amount_off_rupees")
        if kind == Coupon.Kind.PERCENT and not (percent and 1 <= percent <= 100):
            self.add_error("percent_off", "A percentage between 1 and 100.")
        if kind == Coupon.Kind.FIXED and not rupees:
            self.add_error("amount_off_rupees", "An amount in rupees.")
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", "Must be after the start.")
        return cleaned

    def save(self, commit: bool = True) -> Coupon:
        coupon = super().save(commit=False)
        if coupon.kind == Coupon.Kind.PERCENT:
            coupon.amount_off_paise = None
        else:
            coupon.percent_off = None
            coupon.amount_off_paise = int(self.cleaned_data["amount_off_rupees"] * 100)
        if commit:
            coupon.save()
        return coupon
