from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from accounts.services import user_register
from analytics.attribution import first_touch, utm_from_request
from analytics.models import AnalyticsEvent, Campaign, DailyMetric
from analytics.services import buffer_flush
from courses.models import TestAttempt
from courses.services import enrollment_create
from payments.models import Payment
from payments.sandbox import sandbox_checkout_complete
from payments.services import payment_order_create, payment_verify_checkout
from reports.rollups import rollups_rebuild
from reports.selectors import CampaignRow, campaign_table, engagement, overview
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    FreeUserFactory,
    PracticeTestFactory,
    StaffFactory,
    UserFactory,
)
from tests.payments.factories import PaymentFactory

pytestmark = pytest.mark.django_db

GOOGLE = {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "neet-2027"}
INSTAGRAM = {"utm_source": "instagram", "utm_medium": "social", "utm_campaign": "reels"}


def landing(visitor: str, utm: dict, *, days_ago: int = 0, user=None) -> AnalyticsEvent:
    return AnalyticsEvent.objects.create(
        event_type="LANDING",
        event_name="landing",
        anonymous_id=visitor,
        user=user,
        utm_source=utm.get("utm_source"),
        utm_campaign=utm.get("utm_campaign"),
        created_at=timezone.now() - timedelta(days=days_ago),
    )


def paid(enrollment, *, status=Payment.Status.CAPTURED, amount=4_999_900, refunded=0, **utm) -> Payment:
    columns = {key: getattr(enrollment, key) for key in GOOGLE} | utm
    return PaymentFactory(
        enrollment=enrollment,
        amount_paise=amount,
        refunded_paise=refunded,
        status=status,
        captured_at=timezone.now() if status != Payment.Status.FAILED else None,
        **columns,
    )


def test_utm_first_and_last_touch_are_carried_from_landing_to_payment_and_the_campaign_table(
    client, django_capture_on_commit_callbacks
):
    # given a visitor who lands from a Google ad, then later from an Instagram post
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/health", GOOGLE)
        client.get("/health", INSTAGRAM)
    request = RequestFactory().get("/")
    request.session = client.session

    # when they sign up, enroll and pay through the services the pages and API call
    with django_capture_on_commit_callbacks(execute=True):
        user = user_register(
            password="Kota-2027-topper", name="Ananya", email="ananya@example.com", utm=utm_from_request(request)
        )
    enrollment = enrollment_create(user=user, course=CourseFactory(fees_paise=2_500_000), utm=first_touch(request))
    payment = payment_order_create(user=user, enrollment=enrollment)
    callback = sandbox_checkout_complete(user=user, payment_id=payment.pk, succeeded=True)
    payment = payment_verify_checkout(
        user=user,
        razorpay_order_id=callback["razorpay_order_id"],
        razorpay_payment_id=callback["razorpay_payment_id"],
        razorpay_signature=callback["razorpay_signature"],
    )
    buffer_flush()
    rollups_rebuild(days=1)

    # then first touch wins all the way to revenue, and last touch is kept on the user
    user.refresh_from_db()
    assert (user.first_touch["utm_campaign"], user.last_touch["utm_campaign"]) == ("neet-2027", "reels")
    assert (enrollment.utm_source, enrollment.utm_campaign) == ("google", "neet-2027")
    assert (payment.status, payment.utm_source, payment.utm_campaign) == ("CAPTURED", "google", "neet-2027")
    landings = AnalyticsEvent.objects.filter(event_type="LANDING").order_by("id")
    assert [row.utm_campaign for row in landings] == ["neet-2027", "reels"]
    assert AnalyticsEvent.objects.get(event_type="SIGNUP").utm_campaign == "neet-2027"
    today = timezone.localdate()
    rows = {row.campaign: row for row in campaign_table(start=today, end=today)}
    google = rows["neet-2027"]
    assert (google.visits, google.leads, google.signups, google.enrollments, google.payments) == (1, 1, 1, 1, 1)
    assert google.revenue_paise == 2_500_000
    assert (rows["reels"].visits, rows["reels"].leads, rows["reels"].revenue_paise) == (1, 0, 0)


def test_campaign_table_matches_the_hand_computed_fixture():
    # given two campaigns' visitors, leads, sign-ups, enrollments and payments today
    Campaign.objects.create(
        utm_source="google", utm_campaign="neet-2027", name="NEET 2027 search", cost_paise=3_000_000
    )
    for visitor in ("v1", "v2", "v1"):
        landing(visitor, GOOGLE)
    landing("v3", INSTAGRAM)
    landing("v9", GOOGLE, days_ago=3)  # outside the range
    u1, u2 = UserFactory(first_touch=GOOGLE), UserFactory(first_touch=GOOGLE)
    u3, u4 = UserFactory(first_touch=INSTAGRAM), UserFactory()
    StaffFactory(first_touch=GOOGLE)  # staff are not sign-ups
    FreeUserFactory(utm_source="google", utm_campaign="neet-2027")
    FreeUserFactory(utm_source="google", utm_campaign="neet-2027", user=u1)  # already counted as u1
    FreeUserFactory(utm_source="instagram", utm_campaign="reels")
    e1 = EnrollmentFactory(user=u1, **GOOGLE)
    e2 = EnrollmentFactory(user=u2, **GOOGLE)
    e3 = EnrollmentFactory(user=u3, **INSTAGRAM)
    e4 = EnrollmentFactory(user=u4)
    paid(e1)
    paid(e2, status=Payment.Status.PARTIALLY_REFUNDED, refunded=999_900)
    paid(e3, status=Payment.Status.FAILED, amount=2_000_000)
    paid(e3, amount=2_000_000, utm_source="", utm_campaign="")  # falls back to the enrollment's campaign
    paid(e4)

    # when the rollups are rebuilt and the table read
    rollups_rebuild(days=2)
    today = timezone.localdate()
    table = campaign_table(start=today - timedelta(days=1), end=today)

    # then every number is the hand-computed one
    assert table == [
        CampaignRow(
            source="google",
            campaign="neet-2027",
            name="NEET 2027 search",
            visits=2,
            leads=3,
            signups=2,
            enrollments=2,
            payments=2,
            revenue_paise=8_999_900,
            cost_paise=3_000_000,
        ),
        CampaignRow(
            source="instagram",
            campaign="reels",
            name="",
            visits=1,
            leads=2,
            signups=1,
            enrollments=1,
            payments=1,
            revenue_paise=2_000_000,
            cost_paise=None,
        ),
    ]
    assert (table[0].conversion_percent, table[0].cost_per_enrollment_paise) == (66.7, 1_500_000)
    assert (table[1].conversion_percent, table[1].cost_per_enrollment_paise) == (50.0, None)
    totals = dict(DailyMetric.objects.filter(date=today, dimension="").values_list("metric", "value"))
    assert (totals["signups"], totals["enrollments"], totals["payments"]) == (4, 4, 4)
    assert totals["revenue_paise"] == 4_999_900 + 4_000_000 + 2_000_000 + 4_999_900


def _event(event_type, *, visitor="", user=None, days_ago=0):
    return AnalyticsEvent(
        event_type=event_type,
        event_name="e",
        anonymous_id=visitor,
        user=user,
        created_at=timezone.now() - timedelta(days=days_ago),
    )


def _attempt(test, *, user=None, free_user=None, status="SUBMITTED", breakdown=None):
    now = timezone.now()
    return TestAttempt.objects.create(
        test=test,
        user=user,
        free_user=free_user,
        status=status,
        started_at=now,
        expires_at=now + timedelta(minutes=30),
        submitted_at=now if status == "SUBMITTED" else None,
        topic_breakdown=breakdown or {},
    )


def test_overview_and_funnel_numbers_on_a_fixture():
    # given two days of traffic
    learner, taker = UserFactory(), UserFactory()
    StaffFactory()
    AnalyticsEvent.objects.bulk_create(
        [
            _event("PAGE_VIEW", visitor="a"),
            _event("PAGE_VIEW", visitor="a"),
            _event("PAGE_VIEW", visitor="b"),
            _event("PAGE_VIEW", user=learner),
            _event("CLICK", visitor="c"),  # a click is not a visit
            _event("TEST_START", user=taker),
            _event("PAGE_VIEW", visitor="a", days_ago=1),
        ]
    )
    _attempt(PracticeTestFactory(is_free=True), free_user=FreeUserFactory(), status="IN_PROGRESS")
    _attempt(PracticeTestFactory(is_free=True), user=taker)
    _attempt(PracticeTestFactory(is_free=False), user=learner)
    paid(EnrollmentFactory(user=learner))

    # when
    rollups_rebuild(days=3)
    today = timezone.localdate()
    data = overview(start=today - timedelta(days=1), end=today)

    # then
    assert data["active_learners"] == [(today - timedelta(days=1), 0), (today, 2)]
    assert data["signups"] == [(today - timedelta(days=1), 0), (today, 2)]
    assert data["visits"] == [(today - timedelta(days=1), 1), (today, 3)]
    # The funnel is a cohort: the two free-test takers; one signed up, neither enrolled (the learner who
    # enrolled and paid took no free test).
    assert data["funnel"] == [
        ("Took a free test", 2),
        ("Signed up", 1),
        ("Enrolled in a course", 0),
        ("Paid", 0),
    ]


def test_engagement_counts_submitted_tests_and_averages_topic_scores():
    test = PracticeTestFactory(is_free=False)
    learners = [UserFactory() for _ in range(4)]
    _attempt(
        test,
        user=learners[0],
        breakdown={"Cell organelles": {"correct": 3, "wrong": 1}, "Nucleus": {"correct": 1, "wrong": 2}},
    )
    _attempt(test, user=learners[1], breakdown={"Cell organelles": {"correct": 1, "wrong": 0}})
    _attempt(test, user=learners[2], breakdown={"Nucleus": {"score": 8}})
    _attempt(test, user=learners[3], status="IN_PROGRESS", breakdown={"Nucleus": {"correct": 9}})

    rollups_rebuild(days=1)
    today = timezone.localdate()
    data = engagement(start=today, end=today)

    assert data["attempts"] == [(today, 3)]
    assert data["topics"] == [("Cell organelles", 7.5, 2), ("Nucleus", 5.0, 2)]


def test_rebuilding_twice_gives_the_same_rows_and_drops_stale_ones():
    AnalyticsEvent.objects.bulk_create([_event("PAGE_VIEW", visitor="a")])
    today = timezone.localdate()
    DailyMetric.objects.create(date=today, metric="visits", dimension="", value=999)
    DailyMetric.objects.create(date=today - timedelta(days=10), metric="visits", dimension="", value=7)

    rollups_rebuild(days=2)
    first = set(DailyMetric.objects.values_list("date", "metric", "dimension", "value"))
    rollups_rebuild(days=2)
    second = set(DailyMetric.objects.values_list("date", "metric", "dimension", "value"))

    assert first == second
    assert (today, "visits", "", 1) in second
    assert (today - timedelta(days=10), "visits", "", 7) in second  # outside the window: kept
