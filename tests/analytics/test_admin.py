from __future__ import annotations

import uuid

import pytest

from analytics.models import AnalyticsEvent, Campaign
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def events(count: int) -> list[AnalyticsEvent]:
    return AnalyticsEvent.objects.bulk_create(
        [AnalyticsEvent(event_type="PAGE_VIEW", event_name="page", anonymous_id=f"v{n}") for n in range(count)]
    )


@pytest.mark.parametrize("count", [1, 50])
def test_event_change_list_query_count_is_constant(staff_client, django_assert_max_num_queries, count):
    events(count)

    with django_assert_max_num_queries(8):
        response = staff_client.get("/admin/analytics/analyticsevent/")

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == count


@pytest.mark.parametrize("term", ["not-a-uuid", "", "' OR 1=1 --"])
def test_event_search_by_id_never_fails(staff_client, term):
    target = events(2)[0]

    found = staff_client.get("/admin/analytics/analyticsevent/", {"q": str(target.event_id)})
    other = staff_client.get("/admin/analytics/analyticsevent/", {"q": term})

    assert [row.pk for row in found.context["cl"].result_list] == [target.pk]
    assert other.status_code == 200


def test_events_are_read_only_in_the_admin(staff_client):
    event = events(1)[0]

    assert staff_client.get("/admin/analytics/analyticsevent/add/").status_code == 403
    response = staff_client.post(f"/admin/analytics/analyticsevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AnalyticsEvent.objects.count() == 1


def test_staff_enter_campaign_cost_in_rupees_and_it_is_stored_in_paise(staff_client):
    response = staff_client.post(
        "/admin/analytics/campaign/add/",
        {"utm_source": "google", "utm_campaign": "neet-2027", "name": "Search", "cost_rupees": "30000.50"},
    )

    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.utm_source, campaign.utm_campaign, campaign.cost_paise) == ("google", "neet-2027", 3_000_050)


def test_campaign_cost_cannot_be_negative(staff_client):
    response = staff_client.post(
        "/admin/analytics/campaign/add/", {"utm_source": "google", "utm_campaign": "x", "cost_rupees": "-1"}
    )

    assert response.status_code == 200
    assert "cost_rupees" in response.context["adminform"].form.errors
    assert Campaign.objects.count() == 0


def test_unknown_event_id_search_returns_nothing(staff_client):
    events(3)

    response = staff_client.get("/admin/analytics/analyticsevent/", {"q": str(uuid.uuid4())})

    assert list(response.context["cl"].result_list) == []
