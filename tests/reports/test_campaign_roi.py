"""Campaign ROI from first and last touch to paid revenue (issue 19 item 2)."""

from __future__ import annotations

import pytest
import time_machine

from analytics.models import AttributionTouch, Campaign
from reports.rollups import rollups_rebuild
from reports.selectors import campaign_report
from tests.analytics.test_attribution import DAY1, DAY3, enroll_and_pay
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_roi_credits_revenue_to_the_first_or_the_last_touch(client):
    # Given a learner who came from google (₹30,000 spent), then from a retargeting ad (₹10,000), and paid ₹59,999
    learner = UserFactory()
    Campaign.objects.create(utm_source="google", utm_campaign="neet-2027", cost_paise=3_000_000)
    Campaign.objects.create(utm_source="fb", utm_campaign="retarget", cost_paise=1_000_000)
    AttributionTouch.objects.create(user=learner, utm_source="google", utm_campaign="neet-2027", created_at=DAY1)
    with time_machine.travel(DAY3, tick=False):
        AttributionTouch.objects.create(user=learner, utm_source="fb", utm_campaign="retarget")
        enroll_and_pay(learner, 5_999_900)
        rollups_rebuild(days=3)

    # When staff look at either model
    day = DAY3.date()
    first = {r.campaign: r.roi_percent for r in campaign_report(start=DAY1.date(), end=day, model="first").rows}
    last = {r.campaign: r.roi_percent for r in campaign_report(start=DAY1.date(), end=day, model="last").rows}

    # Then first touch: google earned ₹59,999 on ₹30,000 (+100.0 %); last touch: fb on ₹10,000 (+500.0 %)
    # (a campaign credited nothing in the range shows −100 % when it has a row at all)
    assert first["neet-2027"] == 100.0
    assert first.get("retarget", -100.0) == -100.0
    assert last["retarget"] == 500.0
    assert last.get("neet-2027", -100.0) == -100.0
    client.force_login(StaffFactory())
    page = client.get("/staff/analytics/campaigns/", {"start": DAY1.date(), "end": day, "model": "last"})
    assert "500.0%" in page.content.decode()
