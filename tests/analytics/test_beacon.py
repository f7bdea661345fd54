from __future__ import annotations

import orjson
import pytest

from analytics import buffer
from analytics.models import AnalyticsEvent
from analytics.services import buffer_flush
from tests.conftest import wait_until


def buffered() -> list[dict]:
    redis = buffer.connection()
    return [orjson.loads(item) for item in redis.lrange(buffer.BUFFER_KEY, 0, -1)]


@pytest.mark.browser
def test_beacon_sends_the_page_view_and_tracked_clicks(page):
    # given a visitor landing from a campaign link
    page.goto("/?utm_source=google&utm_campaign=neet-2027")

    # when they click an element marked data-track and leave the page
    page.evaluate(
        "() => { const b = document.createElement('button'); b.dataset.track = 'enroll_cta';"
        " b.textContent = 'Enroll now'; document.body.appendChild(b); }"
    )
    page.click("[data-track=enroll_cta]")
    page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    page.goto("/health")

    # then the page view and the click arrive, with the campaign and the visitor cookie's id
    assert wait_until(lambda: {e["event_type"] for e in buffered()} >= {"PAGE_VIEW", "CLICK"}, timeout=15)
    buffer_flush()
    view = AnalyticsEvent.objects.get(event_type="PAGE_VIEW")
    click = AnalyticsEvent.objects.get(event_type="CLICK")
    visitor = next(c["value"] for c in page.context.cookies() if c["name"] == "cb_aid")
    assert (view.path, view.utm_campaign, view.anonymous_id) == ("/", "neet-2027", visitor)
    assert (click.event_name, click.properties) == ("enroll_cta", {"text": "Enroll now"})
    assert AnalyticsEvent.objects.get(event_type="LANDING").anonymous_id == visitor
