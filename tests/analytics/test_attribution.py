"""Issue 22, attribution that follows the learner: one learner on three devices, through HTTP, with the
clock controlled; first and last touch on the enrollment and the payment checked against a hand
computation from the rows, and the campaign report's two views adding up to paid revenue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from accounts.models import User
from analytics import buffer
from analytics.attribution import VISITOR_COOKIE, landing_record, touches_for_user, visitor_events_join
from analytics.models import AnalyticsEvent, AttributionTouch
from analytics.services import buffer_flush
from courses.models import Enrollment
from courses.services import enrollment_create
from payments.models import Payment
from payments.sandbox import sandbox_checkout_complete
from payments.services import payment_order_create, payment_verify_checkout
from reports.rollups import rollups_rebuild
from reports.selectors import campaign_report
from tests.conftest import wait_until
from tests.factories import CourseFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Kota-2027-topper"
DAY1 = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # 10:30 IST
DAY3 = DAY1 + timedelta(days=2)
DAY5 = DAY1 + timedelta(days=4)


def page_view(device: Client, path: str = "/") -> None:
    """What the beacon sends: a page view carrying the device's cb_aid cookie as anonymous_id."""
    event = {
        "event_id": str(uuid.uuid4()),
        "type": "PAGE_VIEW",
        "name": "page_view",
        "timestamp": datetime.now(UTC).isoformat(),
        "path": path,
        "anonymous_id": device.cookies[VISITOR_COOKIE].value,
    }
    assert device.post("/api/v1/events", {"events": [event]}, content_type="application/json").status_code == 202


def sign_in(device: Client, user: User) -> None:
    response = device.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]


def enroll_and_pay(user: User, fees_paise: int) -> Payment:
    """The services the checkout pages call: enroll, create the order, pay in the sandbox, verify."""
    enrollment = enrollment_create(user=user, course=CourseFactory(fees_paise=fees_paise), utm={})
    order = payment_order_create(user=user, enrollment=enrollment)
    callback = sandbox_checkout_complete(user=user, payment_id=order.pk, succeeded=True)
    return payment_verify_checkout(
        user=user,
        razorpay_order_id=callback["razorpay_order_id"],
        razorpay_payment_id=callback["razorpay_payment_id"],
        razorpay_signature=callback["razorpay_signature"],
    )


def hand_computed(user: User, moment: datetime) -> tuple[str, str]:
    """First and last touch from the rows: the earliest of the learner's touches, and the latest at or
    before `moment`, as "source/campaign"."""
    rows = sorted(AttributionTouch.objects.filter(user=user), key=lambda t: (t.created_at, t.pk))
    before = [t for t in rows if t.created_at <= moment]
    return f"{rows[0].utm_source}/{rows[0].utm_campaign}", f"{before[-1].utm_source}/{before[-1].utm_campaign}"


def as_key(touch: dict) -> str:
    return f"{touch['utm_source']}/{touch['utm_campaign']}"


def test_one_learner_on_three_devices(django_capture_on_commit_callbacks):
    learner = UserFactory(email="ananya@example.com")
    learner.set_password(PASSWORD)
    learner.save()
    phone, laptop, tablet = Client(), Client(), Client()

    # Day 1, phone: lands from a Google ad, browses anonymously, then signs in
    with time_machine.travel(DAY1, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            phone.get("/health", {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "neet-2027"})
            page_view(phone, "/courses/")
        buffer_flush()  # the delayed join runs after the buffer has written the device's events
        with django_capture_on_commit_callbacks(execute=True):
            sign_in(phone, learner)

    # Day 3, laptop: lands from a Facebook retargeting ad, browses, signs in, pays ₹59,999
    with time_machine.travel(DAY3, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            laptop.get("/health", {"utm_source": "fb", "utm_campaign": "retarget"})
            page_view(laptop, "/courses/neet-bio-12/")
        buffer_flush()
        with django_capture_on_commit_callbacks(execute=True):
            sign_in(laptop, learner)
    with time_machine.travel(DAY3 + timedelta(minutes=5), tick=False), django_capture_on_commit_callbacks(execute=True):
        first_payment = enroll_and_pay(learner, 5_999_900)

    # Day 5, tablet: no campaign at all, signs in, pays ₹89,999
    with time_machine.travel(DAY5, tick=False), django_capture_on_commit_callbacks(execute=True):
        tablet.get("/")
        sign_in(tablet, learner)
        second_payment = enroll_and_pay(learner, 8_999_900)
    buffer_flush()

    # Every device has its own first-party id, and each device's anonymous events joined the learner
    devices = {client.cookies[VISITOR_COOKIE].value for client in (phone, laptop, tablet)}
    assert len(devices) == 3
    anonymous = AnalyticsEvent.objects.filter(anonymous_id__in=devices)
    assert anonymous.filter(user__isnull=True).count() == 0
    assert set(anonymous.values_list("event_type", flat=True)) >= {"LANDING", "PAGE_VIEW"}
    assert AttributionTouch.objects.filter(user=learner).count() == 2

    # First touch: the Google visit on the phone; last touch: the Facebook visit before each payment,
    # stored on the enrollment and the payment, exactly as computed by hand from the rows
    for payment in (first_payment, second_payment):
        payment = Payment.objects.get(pk=payment.pk)
        enrollment = Enrollment.objects.get(pk=payment.enrollment_id)
        expected = hand_computed(learner, payment.created_at)
        assert expected == ("google/neet-2027", "fb/retarget")
        assert (as_key(payment.first_touch), as_key(payment.last_touch)) == expected
        assert (as_key(enrollment.first_touch), as_key(enrollment.last_touch)) == expected
        assert (payment.utm_source, payment.utm_campaign) == ("google", "neet-2027")
        assert payment.status == Payment.Status.CAPTURED
    assert Payment.objects.get(pk=first_payment.pk).last_touch["at"] == DAY3.isoformat()

    # The campaign report: each view credits every paid rupee once, so it adds up to paid revenue
    with time_machine.travel(DAY5 + timedelta(hours=1), tick=False):
        rollups_rebuild(days=7)
    paid = sum(p.amount_paise - p.refunded_paise for p in Payment.objects.filter(status="CAPTURED"))
    assert paid == 5_999_900 + 8_999_900
    start, end = DAY1.date(), DAY5.date()
    first = campaign_report(start=start, end=end, model="first")
    last = campaign_report(start=start, end=end, model="last")
    assert {(r.source, r.campaign): r.revenue_paise for r in first.rows if r.revenue_paise} == {
        ("google", "neet-2027"): paid
    }
    assert {(r.source, r.campaign): r.revenue_paise for r in last.rows if r.revenue_paise} == {("fb", "retarget"): paid}
    for report in (first, last):
        assert report.paid_revenue_paise == paid
        assert report.attributed_revenue_paise == paid
        assert report.direct_revenue_paise == 0
        assert sum(r.payments for r in report.rows) == 2


def test_payment_without_any_campaign_is_direct_in_both_views_and_totals_still_match():
    learner = UserFactory()
    with time_machine.travel(DAY3, tick=False):
        AttributionTouch.objects.create(user=learner, utm_source="google", utm_campaign="neet-2027")
        enroll_and_pay(learner, 5_999_900)
        enroll_and_pay(UserFactory(), 2_500_000)  # never came from a campaign
        rollups_rebuild(days=1)

    for model in ("first", "last"):
        report = campaign_report(start=DAY3.date(), end=DAY3.date(), model=model)
        assert (report.direct_payments, report.direct_revenue_paise) == (1, 2_500_000)
        assert report.attributed_revenue_paise == report.paid_revenue_paise == 8_499_900


def test_touches_after_the_conversion_do_not_count():
    learner = UserFactory()
    with time_machine.travel(DAY1, tick=False):
        AttributionTouch.objects.create(user=learner, utm_source="google", utm_campaign="a")
    with time_machine.travel(DAY5, tick=False):
        AttributionTouch.objects.create(user=learner, utm_source="fb", utm_campaign="b")

    touches = touches_for_user(user_id=learner.pk, at=DAY3)

    assert (as_key(touches["first"]), as_key(touches["last"])) == ("google/a", "google/a")
    assert touches_for_user(user_id=UserFactory().pk) == {"first": {}, "last": {}}


def test_sign_in_gives_a_device_without_a_cookie_its_id(client):
    learner = UserFactory(email="ravi@example.com")
    learner.set_password(PASSWORD)
    learner.save()

    sign_in(client, learner)

    assert len(client.cookies[VISITOR_COOKIE].value) == 32


def test_a_signed_in_landing_is_the_learners_touch_at_once(client):
    learner = UserFactory()
    client.force_login(learner)

    client.get("/health", {"utm_source": "newsletter", "utm_campaign": "nov"})

    touch = AttributionTouch.objects.get()
    assert (touch.user_id, touch.utm_source, touch.anonymous_id) == (
        learner.pk,
        "newsletter",
        client.cookies[VISITOR_COOKIE].value,
    )


def test_a_device_shared_later_keeps_earlier_touches_with_the_first_learner_to_sign_in():
    first, second = UserFactory(), UserFactory()
    device = Client()
    device.get("/health", {"utm_source": "google", "utm_campaign": "x"})
    for learner in (first, second):
        learner.set_password(PASSWORD)
        learner.save()
        sign_in(device, learner)
        device.post("/accounts/logout/")

    assert list(AttributionTouch.objects.values_list("user_id", flat=True)) == [first.pk]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_events_still_in_the_buffer_at_sign_in_join_the_learner_later(analytics_worker_factory, settings):
    # Given a device whose landing and page view are still in the Redis buffer when the learner signs in
    settings.ANALYTICS_JOIN_DELAY_SECONDS = 2
    analytics_worker_factory(queues="analytics")
    learner = UserFactory(email="meera@example.com")
    learner.set_password(PASSWORD)
    learner.save()
    device = Client()
    device.get("/health", {"utm_source": "google", "utm_campaign": "neet-2027"})
    # (the worker's analytics.landing_record records the landing: the middleware writes nothing)
    assert wait_until(lambda: buffer.length() == 1, 30)
    page_view(device)
    sign_in(device, learner)
    visitor = device.cookies[VISITOR_COOKIE].value
    assert AnalyticsEvent.objects.filter(anonymous_id=visitor).count() == 0  # nothing flushed yet

    # When the buffer is flushed within the join delay
    buffer_flush()

    # Then the worker's delayed join gives both events to the learner
    assert wait_until(lambda: AnalyticsEvent.objects.filter(anonymous_id=visitor, user=learner).count() == 2, 30)
    assert AttributionTouch.objects.get(anonymous_id=visitor).user_id == learner.pk


@pytest.mark.parametrize(("model", "credited"), [("first", "google / neet-2027"), ("last", "fb / retarget")])
def test_campaign_page_offers_both_views_with_direct_and_total_rows(client, model, credited):
    learner = UserFactory()
    with time_machine.travel(DAY1, tick=False):
        AttributionTouch.objects.create(user=learner, utm_source="google", utm_campaign="neet-2027")
    with time_machine.travel(DAY3, tick=False):
        AttributionTouch.objects.create(user=learner, utm_source="fb", utm_campaign="retarget")
        enroll_and_pay(learner, 5_999_900)
        enroll_and_pay(UserFactory(), 2_500_000)
        rollups_rebuild(days=1)
    client.force_login(StaffFactory())

    response = client.get("/staff/analytics/campaigns/", {"model": model, "start": "2026-11-20", "end": "2026-11-22"})

    assert response.status_code == 200
    rows = {f"{r.source} / {r.campaign}": r.revenue_paise for r in response.context["rows"] if r.revenue_paise}
    assert rows == {credited: 5_999_900}
    report = response.context["report"]
    assert (report.direct_revenue_paise, report.paid_revenue_paise) == (2_500_000, 8_499_900)
    html = response.content.decode()
    assert 'id="campaign-direct"' in html
    assert 'id="campaign-total"' in html


def test_a_landing_recorded_after_the_sign_in_joins_the_learner_with_the_delayed_join():
    # The worker may record a landing after the device's sign-in joined its touches: dated at the
    # request, it is joined by the delayed visitor_events_join like a buffered event.
    learner = UserFactory()
    landed, signed_in = datetime(2026, 11, 29, 9, 0, tzinfo=UTC), datetime(2026, 11, 29, 9, 1, tzinfo=UTC)
    touch = {"utm_source": "google", "utm_campaign": "late"}
    landing_record(anonymous_id="device-late", user_id=None, touch=touch, path="/", at=landed)

    visitor_events_join(anonymous_id="device-late", user_id=learner.pk, until=signed_in)

    assert AttributionTouch.objects.get(anonymous_id="device-late").user_id == learner.pk
