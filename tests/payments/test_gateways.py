"""Gateways: Razorpay's documented signature algorithm, and the SDK's HTTP calls against recorded responses."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from payments.gateways import GatewayError, RazorpayGateway, SandboxGateway, get_gateway

KEY_ID, KEY_SECRET, WEBHOOK_SECRET = "rzp_test_1DP5mmOlF5G5ag", "EnLs21M47BllR3X8PSFtjtbd", "whsec_test_123"
ORDER_ID, PAYMENT_ID = "order_IEIaMR65cu6nz3", "pay_IH4NVgf4Dreq1l"
# HMAC-SHA256("order_IEIaMR65cu6nz3|pay_IH4NVgf4Dreq1l", key secret), hex — computed independently with openssl.
KNOWN_SIGNATURE = "0d4e745a1838664ad6c9c9902212a32d627d68e917290b0ad5f08ff4561bc50f"
WEBHOOK_BODY = b'{"entity":"event","event":"payment.captured"}'
KNOWN_WEBHOOK_SIGNATURE = "afab959aab684b042f79999eee67e3974f7ed3628acb0aeac7d6fce6210d23fd"
API = "https://api.razorpay.com/v1"


@pytest.fixture
def razorpay():
    return RazorpayGateway(key_id=KEY_ID, key_secret=KEY_SECRET, webhook_secret=WEBHOOK_SECRET)


@pytest.mark.parametrize(
    ("order_id", "payment_id", "signature", "valid"),
    [
        (ORDER_ID, PAYMENT_ID, KNOWN_SIGNATURE, True),
        (ORDER_ID, PAYMENT_ID, KNOWN_SIGNATURE.upper(), False),
        (ORDER_ID, "pay_IH4NVgf4Dreq1m", KNOWN_SIGNATURE, False),
        ("order_other", PAYMENT_ID, KNOWN_SIGNATURE, False),
        (ORDER_ID, PAYMENT_ID, "", False),
    ],
)
def test_checkout_signature_follows_razorpays_algorithm(razorpay, order_id, payment_id, signature, valid):
    assert razorpay.verify_checkout_signature(order_id=order_id, payment_id=payment_id, signature=signature) is valid


@pytest.mark.parametrize(
    ("body", "signature", "valid"),
    [
        (WEBHOOK_BODY, KNOWN_WEBHOOK_SIGNATURE, True),
        (WEBHOOK_BODY + b" ", KNOWN_WEBHOOK_SIGNATURE, False),
        (WEBHOOK_BODY, "0" * 64, False),
        (b"\xff\xfe not utf-8", KNOWN_WEBHOOK_SIGNATURE, False),
    ],
)
def test_webhook_signature_is_over_the_raw_body(razorpay, body, signature, valid):
    assert razorpay.verify_webhook_signature(body=body, signature=signature) is valid


def test_webhook_without_a_configured_secret_never_verifies():
    gateway = RazorpayGateway(key_id=KEY_ID, key_secret=KEY_SECRET, webhook_secret="")

    assert gateway.verify_webhook_signature(body=WEBHOOK_BODY, signature=KNOWN_WEBHOOK_SIGNATURE) is False


def test_sandbox_signs_like_razorpay(settings):
    settings.SANDBOX_KEY_SECRET = KEY_SECRET
    settings.SANDBOX_WEBHOOK_SECRET = WEBHOOK_SECRET
    sandbox = SandboxGateway()

    assert sandbox.sign_checkout(order_id=ORDER_ID, payment_id=PAYMENT_ID) == KNOWN_SIGNATURE
    assert sandbox.sign_webhook(WEBHOOK_BODY) == KNOWN_WEBHOOK_SIGNATURE
    assert sandbox.verify_checkout_signature(order_id=ORDER_ID, payment_id=PAYMENT_ID, signature=KNOWN_SIGNATURE)


@pytest.mark.parametrize(("key_id", "key_secret", "name"), [("", "", "SANDBOX"), (KEY_ID, KEY_SECRET, "RAZORPAY")])
def test_get_gateway_picks_by_settings(settings, key_id, key_secret, name):
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = key_id, key_secret

    assert get_gateway().name == name


@responses.activate
def test_create_order_posts_amount_in_paise(razorpay):
    responses.post(
        f"{API}/orders",
        match=[
            matchers.json_params_matcher(
                {"amount": 4_999_900, "currency": "INR", "receipt": "enr7-1", "payment_capture": 1}
            )
        ],
        json={
            "id": "order_EKwxwAgItmmXdp",
            "entity": "order",
            "amount": 4_999_900,
            "amount_paid": 0,
            "amount_due": 4_999_900,
            "currency": "INR",
            "receipt": "enr7-1",
            "status": "created",
            "attempts": 0,
            "notes": [],
            "created_at": 1582628071,
        },
    )

    assert razorpay.create_order(4_999_900, "enr7-1") == "order_EKwxwAgItmmXdp"
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_fetch_order_returns_status_and_payments(razorpay):
    responses.get(
        f"{API}/orders/{ORDER_ID}",
        json={"id": ORDER_ID, "entity": "order", "amount": 50000, "amount_paid": 50000, "status": "paid"},
    )
    responses.get(
        f"{API}/orders/{ORDER_ID}/payments",
        json={
            "entity": "collection",
            "count": 2,
            "items": [
                {"id": "pay_failed1", "entity": "payment", "amount": 50000, "status": "failed",
                 "order_id": ORDER_ID, "error_description": "Payment was declined by the bank."},
                {"id": PAYMENT_ID, "entity": "payment", "amount": 50000, "status": "captured",
                 "order_id": ORDER_ID, "error_description": None},
            ],
        },
    )  # fmt: skip

    view = razorpay.fetch_order(ORDER_ID)

    assert view == {
        "status": "paid",
        "payments": [
            {"id": "pay_failed1", "status": "failed", "amount": 50000, "error": "Payment was declined by the bank."},
            {"id": PAYMENT_ID, "status": "captured", "amount": 50000, "error": ""},
        ],
    }


@responses.activate
def test_refund_posts_the_amount(razorpay):
    responses.post(
        f"{API}/payments/{PAYMENT_ID}/refund",
        match=[matchers.json_params_matcher({"amount": 10000})],
        json={
            "id": "rfnd_FP8QHiV938haTz",
            "entity": "refund",
            "amount": 10000,
            "payment_id": PAYMENT_ID,
            "status": "processed",
        },
    )

    assert razorpay.refund(PAYMENT_ID, 10000) == "rfnd_FP8QHiV938haTz"


@responses.activate
def test_gateway_refusal_becomes_a_gateway_error(razorpay):
    responses.post(
        f"{API}/orders",
        status=400,
        json={"error": {"code": "BAD_REQUEST_ERROR", "description": "The amount must be atleast INR 1.00"}},
    )

    with pytest.raises(GatewayError, match="atleast INR 1.00"):
        razorpay.create_order(50, "r1")


@responses.activate
def test_unreachable_gateway_becomes_a_gateway_error(razorpay):
    import requests

    responses.post(f"{API}/orders", body=requests.ConnectionError("connection refused"))

    with pytest.raises(GatewayError) as error:
        razorpay.create_order(5000, "r1")

    assert error.value.status == 502
