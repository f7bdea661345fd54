"""Payment factories; the enrollment's learner pays the course's fee through the sandbox by default."""

from __future__ import annotations

import factory

from payments.models import Payment
from tests.factories import EnrollmentFactory


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    enrollment = factory.SubFactory(EnrollmentFactory)
    user = factory.LazyAttribute(lambda payment: payment.enrollment.user)
    amount_paise = factory.LazyAttribute(lambda payment: payment.enrollment.course.fees_paise)
    gateway = Payment.Gateway.SANDBOX
    razorpay_order_id = factory.Sequence(lambda n: f"order_SBXtest{n:06d}")
