"""Staff analytics in Chromium at 390 px and on a desktop (issue 19 item 2): every chart draws its axes,
tick labels and axis titles inside the chart, nothing is cut off, and the page does not scroll sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from analytics.models import AnalyticsEvent, Campaign
from tests.factories import EnrollmentFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "/staff/analytics/": ["chart-active", "chart-visits", "chart-signups", "chart-funnel"],
    "/staff/analytics/campaigns/": ["chart-revenue"],
    "/staff/analytics/engagement/": ["chart-attempts", "chart-topics"],
}


def _traffic():
    now = timezone.now()
    for index in range(12):
        learner = UserFactory(first_touch={"utm_source": "google", "utm_campaign": "neet-2027-class-12-target"})
        AnalyticsEvent.objects.create(
            event_type="PAGE_VIEW",
            event_name="page",
            user=learner,
            anonymous_id=f"v{index}",
            created_at=now - timedelta(days=index * 2),
        )
        EnrollmentFactory(user=learner, utm_source="google", utm_campaign="neet-2027-class-12-target")
    Campaign.objects.create(utm_source="google", utm_campaign="neet-2027-class-12-target", cost_paise=5_000_000)


def _sign_in(page):
    StaffFactory(email="ops@example.com")
    page.goto("/accounts/login/?next=/staff/analytics/")
    page.get_by_label("Email or mobile number").fill("ops@example.com")
    page.get_by_label("Password").fill("s3cret-Pass!")
    page.get_by_role("button", name="Log in").click()


CHART_GEOMETRY = """(id) => {
  const svg = document.querySelector(`svg[data-chart="${id}"]`);
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll("text")].filter((t) => t.textContent.trim());
  const outside = texts.filter((t) => {
    const r = t.getBoundingClientRect();
    return r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1;
  }).map((t) => t.textContent);
  const fontPx = Math.min(...texts.map((t) => t.getBoundingClientRect().height));
  return {
    width: box.width,
    axes: svg.querySelectorAll(".axis line").length,
    titles: [...svg.querySelectorAll(".axis-title")].map((t) => t.textContent),
    ticks: svg.querySelectorAll(".tick").length,
    outside, fontPx,
  };
}"""


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}])
def test_staff_dashboards_draw_charts_with_axes_and_whole_labels(page, viewport):
    _traffic()
    page.set_viewport_size(viewport)
    _sign_in(page)

    for url, chart_ids in PAGES.items():
        page.goto(url)
        expect(page.get_by_role("heading", name="Analytics")).to_be_visible()
        for chart_id in chart_ids:
            chart = page.locator(f'svg[data-chart="{chart_id}"]')
            expect(chart).to_be_visible()
            geometry = page.evaluate(CHART_GEOMETRY, chart_id)
            assert geometry["axes"] >= 1, chart_id
            assert geometry["titles"], chart_id  # the axis says what is measured, and in which unit
            assert geometry["ticks"] >= 2, chart_id
            assert geometry["outside"] == [], (chart_id, geometry["outside"])
            assert geometry["fontPx"] >= 8, (chart_id, geometry["fontPx"])  # still legible at 390 px
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= viewport["width"], url

    page.goto("/staff/analytics/")
    expect(page.locator('svg[data-chart="chart-visits"] .axis-title')).to_have_text(["Visitors", "Date (IST)"])
    page.goto("/staff/analytics/campaigns/")
    revenue = page.locator('svg[data-chart="chart-revenue"]')
    expect(revenue.locator(".axis-title")).to_have_text("Paid revenue, net of refunds (₹)")
    expect(revenue.locator(".category")).to_contain_text(["google / neet-2027-cl…"])
