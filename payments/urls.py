from django.conf import settings
from django.urls import path

from payments import apis, views

app_name = "payments"

# Pages, mounted at /payments/.
urlpatterns: list = [
    path("checkout/<int:enrollment_id>/", views.CheckoutView.as_view(), name="checkout"),
    path("checkout/verify/", views.VerifyView.as_view(), name="verify"),
    path("result/<int:payment_id>/", views.ResultView.as_view(), name="result"),
    path("invoices/<int:pk>/", views.TaxDocumentView.as_view(kind="invoice"), name="invoice"),
    path("invoices/<int:pk>/pdf/", views.TaxDocumentView.as_view(kind="invoice", as_pdf=True), name="invoice_pdf"),
    path("credit-notes/<int:pk>/", views.TaxDocumentView.as_view(kind="credit_note"), name="credit_note"),
    path(
        "credit-notes/<int:pk>/pdf/",
        views.TaxDocumentView.as_view(kind="credit_note", as_pdf=True),
        name="credit_note_pdf",
    ),
    path("webhooks/razorpay/", views.razorpay_webhook, name="razorpay_webhook"),
    path("staff/revenue/", views.RevenueView.as_view(), name="revenue"),
]

# The local sandbox gateway's Pay/Fail page exists only where the sandbox does (never in production).
if settings.PAYMENT_SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/<int:payment_id>/", views.SandboxCompleteView.as_view(), name="sandbox"))

# REST API, mounted under /api/v1/.
api_urlpatterns: list = [
    path("payments/orders", apis.PaymentOrderCreateApi.as_view(), name="payment-order-create"),
    path("payments/verify", apis.PaymentVerifyApi.as_view(), name="payment-verify"),
    path("payments", apis.PaymentListApi.as_view(), name="payment-list"),
    path("payments/<int:payment_id>", apis.PaymentDetailApi.as_view(), name="payment-detail"),
]
