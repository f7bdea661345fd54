"""Cache keys the payments app owns: the local sandbox gateway's orders (embedded default and tests).

Every key, its TTL and what drops it is listed in docs/caching.md (`KEYS` is checked against it).
Razorpay keeps its own orders; only the sandbox stand-in (payments.gateways.SandboxGateway) needs a
place for them, and an order left in the cache past its TTL is as gone as an expired Razorpay order.
"""

from __future__ import annotations

from django.core.cache import cache

SANDBOX_ORDER = "payments:sandbox:order"
KEYS = (SANDBOX_ORDER,)
SANDBOX_ORDER_SECONDS = 7 * 24 * 60 * 60


def sandbox_order_key(order_id: str) -> str:
    return f"{SANDBOX_ORDER}:{order_id}"


def sandbox_order_get(order_id: str) -> dict | None:
    """{"status", "amount" (paise), "payments": [...]} of a sandbox order, or None when unknown."""
    return cache.get(sandbox_order_key(order_id))


def sandbox_order_set(order_id: str, state: dict) -> None:
    cache.set(sandbox_order_key(order_id), state, SANDBOX_ORDER_SECONDS)
