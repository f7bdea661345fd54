"""The payment state machine: pure functions, no database (the GST split is cerebrum.money.gst_split).

    CREATED ─► ATTEMPTED ─► AUTHORIZED ─► CAPTURED ─► PARTIALLY_REFUNDED ─► REFUNDED
       │           │            │            ▲
       └───────────┴────────────┴─► FAILED ──┘   (a later successful attempt on the same order)

Forward-only: an event that would move a payment backwards (a late `payment.failed` after a capture, an
`authorized` after a capture) changes nothing and is recorded as such. The refund states are derived from
`refunded_paise`, never set by an event directly.
"""

from __future__ import annotations

from payments.models import Payment

S = Payment.Status

# Position along the happy path; FAILED sits beside it (see the diagram).
_RANK = {S.CREATED: 0, S.ATTEMPTED: 1, S.AUTHORIZED: 2, S.CAPTURED: 3, S.PARTIALLY_REFUNDED: 4, S.REFUNDED: 5}
PAID_STATUSES = (S.CAPTURED, S.PARTIALLY_REFUNDED, S.REFUNDED)
OPEN_STATUSES = (S.CREATED, S.ATTEMPTED)

# Razorpay's payment entity statuses → ours.
GATEWAY_TO_STATUS = {"created": S.ATTEMPTED, "authorized": S.AUTHORIZED, "captured": S.CAPTURED, "failed": S.FAILED}


def next_status(current: str, target: str) -> str:
    """The status after an event asking for `target`; `current` when that would go backwards."""
    if target in (S.PARTIALLY_REFUNDED, S.REFUNDED):
        raise ValueError("refund states are derived from refunded_paise; use status_after_refund")
    if current == S.FAILED:
        # A failed attempt can be followed by a successful one on the same order, never by less.
        return target if target in (S.AUTHORIZED, S.CAPTURED) else current
    if target == S.FAILED:
        return S.FAILED if _RANK[current] < _RANK[S.CAPTURED] else current
    return target if _RANK[target] > _RANK[current] else current


def status_after_refund(*, amount_paise: int, refunded_paise: int) -> str:
    if refunded_paise <= 0:
        return S.CAPTURED
    return S.REFUNDED if refunded_paise >= amount_paise else S.PARTIALLY_REFUNDED
