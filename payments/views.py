"""Payment pages: checkout (Razorpay or the sandbox), the callback, the result, webhooks, staff revenue."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.forms import form_add_domain_error
from cerebrum.errors import DomainError
from payments import forms, selectors, services, webhooks
from payments.gateways import gateway_for_payment, get_gateway
from payments.pdf import tax_document_pdf
from payments.sandbox import sandbox_checkout_complete

CHART_WIDTH, CHART_HEIGHT = 720, 200


class CheckoutView(LoginRequiredMixin, View):
    """A PENDING enrollment of the learner's own or, for a parent, of a linked child (else 404).

    GET writes nothing and calls no gateway (issue 16 item 4): it shows the open order when there is one
    (with its Pay button), else the price the course would cost, the coupon and state form, and a
    button that POSTs. POST creates or reuses the order through `payment_order_create` (the server
    prices it, the signed-in user is its payer) and shows it, ready to pay; a refused coupon or state
    re-renders the page with the field error and its 4xx status, writing nothing.
    """

    def get(self, request: HttpRequest, enrollment_id: int) -> HttpResponse:
        enrollment = selectors.enrollment_get_payable(user=request.user, enrollment_id=enrollment_id, pending_only=True)
        payment = selectors.open_order_get(enrollment=enrollment, gateway_name=get_gateway().name)
        return _checkout_page(request, enrollment, payment, form=None)

    def post(self, request: HttpRequest, enrollment_id: int) -> HttpResponse:
        enrollment = selectors.enrollment_get_payable(user=request.user, enrollment_id=enrollment_id, pending_only=True)
        form = forms.CheckoutOptionsForm(request.POST)
        if not form.is_valid():
            payment = selectors.open_order_get(enrollment=enrollment, gateway_name=get_gateway().name)
            return _checkout_page(request, enrollment, payment, form=form, status=400)
        try:
            payment = services.payment_order_create(user=request.user, enrollment=enrollment, **form.cleaned_data)
        except DomainError as error:
            if not error.fields or error.status == 404:
                raise  # the pages' mapping (cerebrum.middleware.DomainErrorMiddleware)
            form_add_domain_error(form, error)
            # Nothing is written for a refused choice: show the order the learner already has, if any.
            payment = selectors.open_order_get(enrollment=enrollment, gateway_name=get_gateway().name)
            return _checkout_page(request, enrollment, payment, form=form, status=error.status)
        return _checkout_page(request, enrollment, payment, form=None)


def _checkout_page(request: HttpRequest, enrollment, payment, *, form, status: int = 200) -> HttpResponse:
    """The checkout: an open order's summary and Pay buttons, or (no order yet) the quote and the form."""
    if payment is None:
        summary = selectors.checkout_quote(enrollment=enrollment, payer=request.user)
        context = {"summary": summary}
    else:
        summary = selectors.checkout_summary(payment)
        context = {
            "summary": summary,
            "payment": payment,
            "key_id": gateway_for_payment(payment.gateway).key_id,
            "is_sandbox": payment.gateway == payment.Gateway.SANDBOX,
            "checkout_options": _checkout_options(request, payment),
        }
    if form is None:
        form = forms.CheckoutOptionsForm(initial={"billing_state": summary["billing_state"]})
    context |= {"enrollment": enrollment, "form": form}
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
            raise DomainError("Choose Pay or Fail.")
        succeeded = form.cleaned_data["outcome"] == "pay"
        callback = sandbox_checkout_complete(user=request.user, payment_id=payment_id, succeeded=succeeded)
        if not succeeded:
            return redirect("payments:result", payment_id=payment_id)
        return render(request, "payments/sandbox_callback.html", {"callback": callback})


class VerifyView(LoginRequiredMixin, View):
    """Checkout's success handler posts here; the signature is checked against the stored order id."""

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.CheckoutCallbackForm(request.POST)
        if not form.is_valid():
            raise DomainError("The payment callback is incomplete.", fields=form.errors)
        payment = services.payment_verify_checkout(user=request.user, **form.cleaned_data)
        return redirect("payments:result", payment_id=payment.pk)


class ResultView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        payment = selectors.payment_get_for_user(user=request.user, payment_id=payment_id)
        context = {"payment": payment, "enrollment": payment.enrollment, "receipt": selectors.payment_receipt(payment)}
        return render(request, "payments/result.html", context)


class TaxDocumentView(LoginRequiredMixin, View):
    """A printable tax invoice (by payment id) or credit note (by refund id), or its PDF: the payer's own
    or, for staff, any (else 404)."""

    kind = "invoice"
    as_pdf = False

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        document = selectors.tax_document_for_user(user=request.user, kind=self.kind, pk=pk)
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
