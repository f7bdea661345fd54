"""The sandbox checkout in headless Chromium: pay or fail, and the enrollment ends in the right state."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from courses.models import Enrollment
from payments.models import Payment
from tests.factories import EnrollmentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(page, live_server, user) -> None:
    """Share a real Django session with the browser (the login page belongs to the accounts app)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_sandbox_checkout_success_activates_the_enrollment(page, live_server):
    enrollment = EnrollmentFactory(course__fees_paise=1_180_000, course__name="NEET Biology 2027")
    _signed_in(page, live_server, enrollment.user)

    page.goto(f"/payments/checkout/{enrollment.pk}/")
    page.get_by_test_id("continue").click()  # the order is created by this POST, never by the GET
    page.get_by_role("button", name="Pay ₹11,800.00").click()
    page.wait_for_url("**/payments/result/*/")

    assert page.get_by_test_id("enrollment-status").inner_text() == "Active"
    assert page.get_by_test_id("payment-status").inner_text() == "Captured"
    assert page.locator("#receipt-heading").inner_text().startswith("Tax invoice CB/")
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert Payment.objects.get(enrollment=enrollment).status == Payment.Status.CAPTURED


def test_sandbox_checkout_failure_keeps_the_enrollment_pending(page, live_server):
    enrollment = EnrollmentFactory(course__fees_paise=1_180_000)
    _signed_in(page, live_server, enrollment.user)

    page.goto(f"/payments/checkout/{enrollment.pk}/")
    page.get_by_test_id("continue").click()  # the order is created by this POST, never by the GET
    page.get_by_role("button", name="Fail").click()
    page.wait_for_url("**/payments/result/*/")

    assert page.get_by_test_id("enrollment-status").inner_text() == "Pending payment"
    assert page.get_by_role("link", name="Try again").is_visible()
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.PENDING
    assert Payment.objects.get(enrollment=enrollment).status == Payment.Status.FAILED
