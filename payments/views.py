"""Payment pages: checkout (Razorpay or the sandbox), the callback, the result, webhooks, staff revenue."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cerebrum.errors import DomainError, NotFound
from payments import forms, selectors, services, webhooks
from payments.gateways import gateway_for_payment
from payments.pdf import tax_document_pdf
from payments.sandbox import sandbox_checkout_complete

CHART_WIDTH, CHART_HEIGHT = 720, 200


def _refusal(request: HttpRequest, error: DomainError) -> HttpResponse:
    """A DomainError on a page: 404 stays a 404, the rest is explained with its status."""
    if isinstance(error, NotFound):
        raise Http404(error.message)
    return render(request, "payments/error.html", {"error": error}, status=error.status)


class CheckoutView(LoginRequiredMixin, View):
    """A PENDING enrollment of the learner's own or, for a parent, of a linked child (else 404); the order
    is created or reused here, the signed-in user its payer.

    POST applies a coupon and/or the learner's state through `payment_order_create` (the server prices
    the order); a refused coupon re-renders the page with the field error and its 4xx status.
    """

    def get(self, request: HttpRequest, enrollment_id: int) -> HttpResponse:
        return self._render(request, enrollment_id, forms.CheckoutOptionsForm())

    def post(self, request: HttpRequest, enrollment_id: int) -> HttpResponse:
        form = forms.CheckoutOptionsForm(request.POST)
        if not form.is_valid():
            return self._render(request, enrollment_id, form, status=400)
        return self._render(request, enrollment_id, form, options=form.cleaned_data)

    def _render(self, request, enrollment_id: int, form, *, options: dict | None = None, status: int = 200):
        try:
            enrollment = selectors.enrollment_get_payable(
                user=request.user, enrollment_id=enrollment_id, pending_only=True
            )
        except DomainError as error:
            return _refusal(request, error)
        try:
            payment = services.payment_order_create(user=request.user, enrollment=enrollment, **(options or {}))
        except DomainError as error:
            if not error.fields or error.status == 404:
                return _refusal(request, error)
            for field, messages in error.fields.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            status = error.status
            # Nothing is written for a refused choice: show the order the learner already has.
            payment = selectors.open_order_get(enrollment=enrollment) or services.payment_order_create(
                user=request.user, enrollment=enrollment
            )
        if options is None:
            form = forms.CheckoutOptionsForm(initial={"billing_state": payment.billing_state})
        context = {
            "enrollment": enrollment,
            "payment": payment,
            "form": form,
            "summary": selectors.checkout_summary(payment),
            "key_id": gateway_for_payment(payment.gateway).key_id,
            "is_sandbox": payment.gateway == payment.Gateway.SANDBOX,
            "checkout_options": _checkout_options(request, payment),
        }
        return render(request, "payments/checkout.html", context, status=status)


def _checkout_options(request: HttpRequest, payment) -> dict:
    """Razorpay Checkout's options; the amount and order come from the stored order, never the page."""
    return {
        "key": gateway_for_payment(payment.gateway).key_id,
        "amount": payment.amount_paise,
        "currency": payment.currency,
        "order_id": payment.razorpay_order_id,
        "name": "Cerebrum Biology Academy",
        "description": payment.enrollment.course.name,
        "prefill": {"name": request.user.name, "email": request.user.email or "", "contact": request.user.phone or ""},
    }


class SandboxCompleteView(LoginRequiredMixin, View):
    """The sandbox gateway's "Pay"/"Fail" buttons: Pay hands back a signed callback, like Checkout does."""

    def post(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        form = forms.SandboxOutcomeForm(request.POST)
        if not form.is_valid():
            return _refusal(request, DomainError("Choose Pay or Fail."))
        succeeded = form.cleaned_data["outcome"] == "pay"
        try:
            callback = sandbox_checkout_complete(user=request.user, payment_id=payment_id, succeeded=succeeded)
        except DomainError as error:
            return _refusal(request, error)
        if not succeeded:
            return redirect("payments:result", payment_id=payment_id)
        return render(request, "payments/sandbox_callback.html", {"callback": callback})


class VerifyView(LoginRequiredMixin, View):
    """Checkout's success handler posts here; the signature is checked against the stored order id."""

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.CheckoutCallbackForm(request.POST)
        if not form.is_valid():
            return _refusal(request, DomainError("The payment callback is incomplete.", fields=form.errors))
        try:
            payment = services.payment_verify_checkout(user=request.user, **form.cleaned_data)
        except DomainError as error:
            return _refusal(request, error)
        return redirect("payments:result", payment_id=payment.pk)


class ResultView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        try:
            payment = selectors.payment_get_for_user(user=request.user, payment_id=payment_id)
        except NotFound as error:
            raise Http404(error.message) from error
        context = {"payment": payment, "enrollment": payment.enrollment, "receipt": selectors.payment_receipt(payment)}
        return render(request, "payments/result.html", context)


class TaxDocumentView(LoginRequiredMixin, View):
    """A printable tax invoice (by payment id) or credit note (by refund id), or its PDF: the payer's own
    or, for staff, any (else 404)."""

    kind = "invoice"
    as_pdf = False

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            document = selectors.tax_document_for_user(user=request.user, kind=self.kind, pk=pk)
        except NotFound as error:
            raise Http404(error.message) from error
        context = selectors.tax_document_context(document)
        if self.as_pdf:
            response = HttpResponse(tax_document_pdf(context), content_type="application/pdf")
            filename = document.number.replace("/", "-")
            response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
            return response
        context["pdf_url"] = reverse(f"payments:{self.kind}_pdf", args=[pk])
        return render(request, "payments/tax_document.html", context)


@csrf_exempt
@require_POST
def razorpay_webhook(request: HttpRequest) -> JsonResponse:
    """Razorpay retries anything but 2xx, so a known duplicate is 200 and only bad input is 400."""
    try:
        outcome = webhooks.webhook_receive(
            body=request.body,
            signature=request.headers.get("X-Razorpay-Signature", ""),
            event_id=request.headers.get("X-Razorpay-Event-Id", "")[:100],
        )
    except services.PaymentRejected as error:
        return JsonResponse({"error": {"code": error.code, "message": error.message, "fields": {}}}, status=400)
    # An anomaly (money that could not be applied) is still a 200: it is recorded for a refund.
    state = "duplicate" if outcome.duplicate else "anomaly" if outcome.anomaly else "ok"
    return JsonResponse({"status": state})


@method_decorator(staff_member_required, name="dispatch")
class RevenueView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        # Always bound: empty dates mean the last 30 days (see RevenueRangeForm.clean).
        form = forms.RevenueRangeForm(request.GET)
        if not form.is_valid():
            return render(request, "payments/revenue.html", {"form": form}, status=400)
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        summary = selectors.revenue_summary(start=start, end=end)
        shown = forms.RevenueRangeForm(initial={"start": start, "end": end})  # the effective range, defaults filled
        return render(request, "payments/revenue.html", {"form": shown, "summary": summary, "bars": _bars(summary)})


def _bars(summary: dict) -> list[dict]:
    """Bar geometry for the inline SVG chart of net revenue per day."""
    days = summary["days"]
    peak = max((day["net_paise"] for day in days), default=0) or 1
    width = CHART_WIDTH / max(len(days), 1)
    return [
        {
            "x": round(index * width, 2),
            "width": round(max(width - 1, 1), 2),
            "height": round(CHART_HEIGHT * max(day["net_paise"], 0) / peak, 2),
            "y": round(CHART_HEIGHT - CHART_HEIGHT * max(day["net_paise"], 0) / peak, 2),
            "day": day,
        }
        for index, day in enumerate(days)
    ]
