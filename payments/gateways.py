"""Payment gateways: one small interface, Razorpay (official SDK) and a local sandbox.

Both verify signatures with the same algorithm Razorpay documents: HMAC-SHA256, hex digest, compared in
constant time. Checkout: over "{order_id}|{payment_id}" with the key secret. Webhooks: over the raw body
bytes with the webhook secret. The sandbox keeps the "gateway side" of its orders in the cache so that
reconciliation can ask it, like it asks Razorpay.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Protocol

import razorpay
import requests
from django.conf import settings

from cerebrum.errors import DomainError
from payments import caches

logger = logging.getLogger("payments")

# Razorpay's own vocabulary for a payment's status (fetch order payments, webhook payment entity).
GATEWAY_PAYMENT_STATUSES = ("created", "authorized", "captured", "failed", "refunded")


class GatewayError(DomainError):
    """The gateway refused or could not be reached; nothing was recorded on our side."""

    status = 502
    code = "gateway_error"


class PaymentGateway(Protocol):
    name: str
    key_id: str

    def create_order(self, amount_paise: int, receipt: str) -> str: ...

    def fetch_order(self, order_id: str) -> dict:
        """{"status": "created|attempted|paid", "payments": [{"id", "status", "amount", "error"}]}."""
        ...

    def refund(self, payment_id: str, amount_paise: int, *, reference: str = "") -> str:
        """The gateway's refund id. `reference` (ours, "cerebrum-refund-<Refund.pk>") travels as the refund's
        `receipt` and `notes.cerebrum_refund`, so its webhooks name our row."""
        ...

    def verify_checkout_signature(self, *, order_id: str, payment_id: str, signature: str) -> bool: ...

    def verify_webhook_signature(self, *, body: bytes, signature: str) -> bool: ...


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def get_gateway() -> PaymentGateway:
    """Razorpay when its keys are configured, else the local sandbox where it is enabled (never in production)."""
    if settings.RAZORPAY_KEY_ID and settings.RAZORPAY_KEY_SECRET:
        return RazorpayGateway(
            key_id=settings.RAZORPAY_KEY_ID,
            key_secret=settings.RAZORPAY_KEY_SECRET,
            webhook_secret=settings.RAZORPAY_WEBHOOK_SECRET,
        )
    if not settings.PAYMENT_SANDBOX_ENABLED:
        raise GatewayError("No payment gateway is configured on this server.")
    return SandboxGateway()


def gateway_for_payment(gateway_name: str) -> PaymentGateway:
    """The gateway a stored payment was made through (a sandbox order stays in the sandbox)."""
    if gateway_name == SandboxGateway.name:
        # The sandbox's secrets are public defaults: with real keys set, a leftover sandbox order must
        # never be "paid" by signing it locally.
        if settings.RAZORPAY_KEY_ID or not settings.PAYMENT_SANDBOX_ENABLED:
            raise GatewayError("Sandbox payments are disabled on this server.")
        return SandboxGateway()
    gateway = get_gateway()
    if gateway.name != gateway_name:
        raise GatewayError("This payment's gateway is not configured on this server.")
    return gateway


class RazorpayGateway:
    name = "RAZORPAY"
    # Razorpay answers within a second or two; a stuck call must not hold a payment row lock for long.
    timeout_seconds = 10

    def __init__(self, *, key_id: str, key_secret: str, webhook_secret: str):
        self.key_id = key_id
        self.webhook_secret = webhook_secret
        self.client = razorpay.Client(auth=(key_id, key_secret))
        self.client.set_app_details({"title": "Cerebrum", "version": "1.0"})

    def create_order(self, amount_paise: int, receipt: str) -> str:
        order = self._call(
            self.client.order.create,
            {"amount": amount_paise, "currency": "INR", "receipt": receipt, "payment_capture": 1},
        )
        return order["id"]

    def fetch_order(self, order_id: str) -> dict:
        order = self._call(self.client.order.fetch, order_id)
        payments = self._call(self.client.order.payments, order_id)
        return {
            "status": order["status"],
            "payments": [
                {"id": p["id"], "status": p["status"], "amount": p["amount"], "error": p.get("error_description") or ""}
                for p in payments.get("items", [])
            ],
        }

    def refund(self, payment_id: str, amount_paise: int, *, reference: str = "") -> str:
        data = {"amount": amount_paise}
        if reference:
            data.update(receipt=reference, notes={"cerebrum_refund": reference})
        refund = self._call(self.client.payment.refund, payment_id, data)
        return refund["id"]

    def verify_checkout_signature(self, *, order_id: str, payment_id: str, signature: str) -> bool:
        params = {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id, "razorpay_signature": signature}
        try:
            return bool(self.client.utility.verify_payment_signature(params))
        except razorpay.errors.SignatureVerificationError:
            return False

    def verify_webhook_signature(self, *, body: bytes, signature: str) -> bool:
        if not self.webhook_secret:
            return False
        try:
            text = body.decode("utf-8")
            return bool(self.client.utility.verify_webhook_signature(text, signature, self.webhook_secret))
        except (UnicodeDecodeError, razorpay.errors.SignatureVerificationError):
            return False

    def _call(self, method, *args):
        try:
            return method(*args, timeout=self.timeout_seconds)
        except (razorpay.errors.BadRequestError, razorpay.errors.ServerError, razorpay.errors.GatewayError) as exc:
            logger.warning("razorpay refused %s: %s", method.__qualname__, exc)
            raise GatewayError(f"The payment gateway refused the request: {exc}") from exc
        except requests.RequestException as exc:
            logger.warning("razorpay unreachable for %s: %s", method.__qualname__, exc)
            raise GatewayError("The payment gateway could not be reached. Please try again.") from exc


class SandboxGateway:
    """A local stand-in for Razorpay: same ids' shapes, same signatures, with local secrets."""

    name = "SANDBOX"
    key_id = "rzp_test_sandbox"

    def create_order(self, amount_paise: int, receipt: str) -> str:
        order_id = f"order_SBX{secrets.token_hex(7)}"
        caches.sandbox_order_set(order_id, {"status": "created", "amount": amount_paise, "payments": []})
        return order_id

    def fetch_order(self, order_id: str) -> dict:
        state = caches.sandbox_order_get(order_id)
        if state is None:
            raise GatewayError(f"Sandbox order {order_id} is unknown.")
        return {"status": state["status"], "payments": list(state["payments"])}

    def refund(self, payment_id: str, amount_paise: int, *, reference: str = "") -> str:
        return f"rfnd_SBX{secrets.token_hex(7)}"

    def verify_checkout_signature(self, *, order_id: str, payment_id: str, signature: str) -> bool:
        expected = self.sign_checkout(order_id=order_id, payment_id=payment_id)
        return hmac.compare_digest(expected, str(signature))

    def verify_webhook_signature(self, *, body: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.sign_webhook(body), str(signature))

    # The "gateway side": what the learner did on the sandbox checkout page.
    def record_attempt(self, *, order_id: str, amount_paise: int, succeeded: bool) -> dict:
        payment = {
            "id": f"pay_SBX{secrets.token_hex(7)}",
            "status": "captured" if succeeded else "failed",
            "amount": amount_paise,
            "error": "" if succeeded else "Payment declined in the sandbox.",
        }
        state = caches.sandbox_order_get(order_id) or {"status": "created", "amount": amount_paise, "payments": []}
        state["payments"].append(payment)
        state["status"] = "paid" if succeeded else "attempted"
        caches.sandbox_order_set(order_id, state)
        return payment

    def sign_checkout(self, *, order_id: str, payment_id: str) -> str:
        return hmac_sha256_hex(settings.SANDBOX_KEY_SECRET, f"{order_id}|{payment_id}".encode())

    def sign_webhook(self, body: bytes) -> str:
        return hmac_sha256_hex(settings.SANDBOX_WEBHOOK_SECRET, body)
