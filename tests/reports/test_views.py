from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import AnalyticsEvent, Campaign
from reports.rollups import rollups_rebuild
from tests.factories import EnrollmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/staff/analytics/",
    "/staff/analytics/campaigns/",
    "/staff/analytics/engagement/",
    "/staff/analytics/performance/",
]


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def traffic(count: int) -> None:
    """`count` learners, each landing from a campaign, viewing a page and enrolling."""
    for index in range(count):
        user = UserFactory(first_touch={"utm_source": "google", "utm_campaign": f"c{index % 7}"})
        AnalyticsEvent.objects.bulk_create(
            [
                AnalyticsEvent(
                    event_type="LANDING",
                    event_name="landing",
                    anonymous_id=f"v{index}",
                    utm_source="google",
                    utm_campaign=f"c{index % 7}",
                ),
                AnalyticsEvent(event_type="PAGE_VIEW", event_name="page", user=user, anonymous_id=f"v{index}"),
            ]
        )
        EnrollmentFactory(user=user, utm_source="google", utm_campaign=f"c{index % 7}")
    Campaign.objects.get_or_create(utm_source="google", utm_campaign="c0", defaults={"cost_paise": 100_000})
    rollups_rebuild(days=2)


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("url", PAGES)
def test_learners_cannot_see_the_dashboards(client, url):
    client.force_login(UserFactory())

    response = client.get(url)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_overview_shows_visitors_sign_ups_and_an_empty_cohort_funnel(staff_client):
    traffic(3)

    response = staff_client.get("/staff/analytics/")

    assert response.status_code == 200
    assert response.context["visits_chart"]["total"] == 3
    assert response.context["signups_chart"]["total"] == 3
    funnel = [(row["label"], row["value"]) for row in response.context["funnel"]["rows"]]
    assert funnel == [("Took a free test", 0), ("Signed up", 0), ("Enrolled in a course", 0), ("Paid", 0)]
    assert response.content.count(b"<svg") == 4


def test_campaigns_page_lists_each_campaign_with_its_cost(staff_client):
    traffic(8)

    response = staff_client.get("/staff/analytics/campaigns/")

    rows = {row.campaign: row for row in response.context["rows"]}
    assert sorted(rows) == [f"c{n}" for n in range(7)]
    assert (rows["c0"].leads, rows["c0"].enrollments, rows["c0"].cost_per_enrollment_paise) == (2, 2, 50_000)
    assert "₹1,000.00" in response.content.decode()


@pytest.mark.parametrize("url", PAGES[:3])
def test_dashboard_query_count_does_not_grow_with_events(staff_client, url):
    def queries_for(count: int) -> int:
        AnalyticsEvent.objects.all().delete()
        traffic(count)
        staff_client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(url).status_code == 200
        return len(captured)

    one, fifty = queries_for(1), queries_for(50)

    # Which days need computing (1), the rollups (1-2), the cohort funnel on the overview (1 here,
    # at most 6), the campaigns' costs (1): the same whatever the number of events.
    assert one == fifty
    assert fifty <= 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"start": "2026-01-10", "end": "2026-01-12"}, ("2026-01-10", "2026-01-12")),
        ({"start": "2026-01-12", "end": "2026-01-10"}, None),
        ({"start": "not-a-date"}, None),
        ({"start": "2024-01-01", "end": "2026-01-01"}, None),
    ],
)
def test_date_range_is_honoured_or_falls_back_to_the_last_30_days(staff_client, query, expected):
    response = staff_client.get("/staff/analytics/engagement/", query)

    start, end = response.context["start"], response.context["end"]
    if expected is None:
        assert response.context["form"].errors
        assert (end - start, end) == (timedelta(days=29), timezone.localdate())
    else:
        assert (start.isoformat(), end.isoformat()) == expected
        assert len(response.context["attempts_chart"]["bars"]) == 3


def test_staff_can_recompute_recent_days_now(staff_client):
    traffic(2)
    AnalyticsEvent.objects.create(event_type="PAGE_VIEW", event_name="page", anonymous_id="late-visitor")

    response = staff_client.post("/staff/analytics/refresh/", {"next": "/staff/analytics/campaigns/"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/analytics/campaigns/"
    assert staff_client.get("/staff/analytics/").context["visits_chart"]["total"] == 3


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_refresh_never_redirects_off_site(staff_client, target):
    response = staff_client.post("/staff/analytics/refresh/", {"next": target})

    assert response["Location"] == "/staff/analytics/"


def test_learners_cannot_trigger_a_recompute(client):
    client.force_login(UserFactory())

    response = client.post("/staff/analytics/refresh/")

    assert "/admin/login/" in response["Location"]
