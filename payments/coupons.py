"""Coupons: checked and reserved by the server while it creates an order (never by the page).

A coupon is read under its row lock (SELECT … FOR UPDATE) in the order's transaction, after the
Enrollment lock `payment_order_create` takes: the window, the per-coupon cap (`times_used` against
`max_uses`, also a database check) and the per-learner cap (redemptions of this learner) are decided
with no other order in between, so the caps hold under concurrent checkouts. A use is counted when the
order is created; the order is then reused for retries of the same enrollment instead of counting twice.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cerebrum.errors import Conflict, Unprocessable
from payments.models import Coupon, CouponRedemption, Payment

FIELD = "coupon_code"
# Razorpay's smallest order is ₹1; a discount never takes the amount below it.
MIN_ORDER_PAISE = 100


@transaction.atomic
def coupon_save(*, coupon: Coupon) -> Coupon:
    """Create or edit a coupon (the admin's one write path): code upper-cased, the model's rules checked.

    `times_used` is never taken from the caller: it is re-read under the row lock and kept.
    """
    coupon.code = coupon_normalize(coupon.code)
    if coupon.pk:
        coupon.times_used = Coupon.objects.select_for_update().values_list("times_used", flat=True).get(pk=coupon.pk)
    coupon.full_clean()
    coupon.save()
    return coupon


def coupon_normalize(code: str) -> str:
    """What the learner typed → the stored form (trimmed, upper-case)."""
    return (code or "").strip().upper()


def coupon_quote(*, code: str, user, list_price_paise: int, now: datetime | None = None) -> tuple[Coupon, int]:
    """The coupon's discount for this learner now, counting no use: the price asked of the gateway before
    the order is recorded (`coupon_reserve` checks again and counts). Refusals as `coupon_reserve`."""
    coupon = _coupon_valid(Coupon.objects.all(), code=code, user=user, now=now or timezone.now())
    return coupon, coupon_discount(coupon, list_price_paise)


def coupon_reserve(*, code: str, user, list_price_paise: int, now: datetime | None = None) -> tuple[Coupon, int]:
    """Lock the coupon, check it for this learner now, count one use; returns (coupon, discount in paise).

    Call inside the order's transaction (it rolls back with it). Refusals are 4xx with a field error.
    """
    coupon = _coupon_valid(Coupon.objects.select_for_update(), code=code, user=user, now=now or timezone.now())
    coupon.times_used += 1
    coupon.save(update_fields=["times_used", "updated_at"])
    return coupon, coupon_discount(coupon, list_price_paise)


def _coupon_valid(coupons, *, code: str, user, now: datetime) -> Coupon:
    """The coupon of `code` if this learner may use it at `now`; else the refusal (4xx, field error)."""
    coupon = coupons.filter(code=coupon_normalize(code)).first()
    if coupon is None or not coupon.is_active:
        raise Unprocessable(
            "This coupon code is not valid.", fields={FIELD: ["No such coupon."]}, code="coupon_invalid"
        )
    if not coupon.valid_from <= now < coupon.valid_until:
        raise Unprocessable(
            "This coupon is not valid at this time.",
            fields={FIELD: [f"Valid from {_ist(coupon.valid_from)} to {_ist(coupon.valid_until)} IST."]},
            code="coupon_expired",
        )
    if coupon.max_uses is not None and coupon.times_used >= coupon.max_uses:
        raise Conflict("This coupon has been used up.", fields={FIELD: ["No uses left."]}, code="coupon_used_up")
    used_by_learner = CouponRedemption.objects.filter(coupon=coupon, user=user).count()
    if used_by_learner >= coupon.max_uses_per_learner:
        raise Conflict(
            "You have already used this coupon.",
            fields={FIELD: [f"At most {coupon.max_uses_per_learner} use(s) per learner."]},
            code="coupon_already_used",
        )
    return coupon


def coupon_discount(coupon: Coupon, list_price_paise: int) -> int:
    """Paise off a GST-inclusive price: a percentage rounded half up, or a fixed amount; never below ₹1 left."""
    if coupon.kind == Coupon.Kind.PERCENT:
        discount = (list_price_paise * coupon.percent_off * 2 + 100) // 200
    else:
        discount = coupon.amount_off_paise
    return max(0, min(discount, list_price_paise - MIN_ORDER_PAISE))


def coupon_redemption_record(*, coupon: Coupon, payment: Payment, discount_paise: int) -> CouponRedemption:
    """The reserved use, tied to the order it discounts (same transaction as `coupon_reserve`)."""
    return CouponRedemption.objects.create(
        coupon=coupon, user=payment.user, payment=payment, discount_paise=discount_paise
    )


def _ist(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%d %b %Y %H:%M}"
