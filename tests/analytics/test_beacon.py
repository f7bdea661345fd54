from __future__ import annotations

import orjson
import pytest

from analytics import buffer
from analytics.models import AnalyticsEvent
from analytics.services import buffer_flush
from tests.conftest import wait_until
from tests.factories import UserFactory


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


HIDE = (
    "() => { Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
    " document.dispatchEvent(new Event('visibilitychange')); }"
)
SHOW = (
    "() => { Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});"
    " document.dispatchEvent(new Event('visibilitychange')); }"
)
CLICK = "(name) => window.cerebrumTrack('CLICK', name, {})"


def sent() -> list[tuple[str, str]]:
    """(type, name) of the events the beacon delivered (the server's own, such as LANDING, left out)."""
    return [(e["event_type"], e["event_name"]) for e in buffered() if e["event_type"] in ("PAGE_VIEW", "CLICK")]


@pytest.mark.browser
def test_beacon_sends_at_most_one_batch_per_30_seconds(page):
    # given a learner reading a page (the browser's clock under the test's control)
    page.clock.install()
    page.goto("/")

    # when they read for 25 s, nothing is sent (the page view waits for the batch)
    page.clock.run_for(25_000)
    assert sent() == []

    # when the page is hidden for the first time, the waiting page view goes at once (a bounce counts)
    page.evaluate(HIDE)
    assert wait_until(lambda: sent() == [("PAGE_VIEW", "page_view")], timeout=15)

    # when they come back, click twice and the page is hidden again within 30 s of that send,
    # the clicks are kept on the device for the next send instead of a second request
    page.evaluate(SHOW)
    page.evaluate(CLICK, "first")
    page.evaluate(CLICK, "second")
    page.evaluate(HIDE)
    kept = page.evaluate("() => JSON.parse(localStorage.getItem('cb_events')).events.map(e => e.name)")
    assert kept == ["first", "second"]

    # then back on the tab, the next 30-second send carries both clicks in one batch
    page.evaluate(SHOW)
    page.clock.run_for(31_000)
    assert wait_until(lambda: len(sent()) == 3, timeout=15)
    assert sorted(sent())[:2] == [("CLICK", "first"), ("CLICK", "second")]


# The browser's own visibility again (the HIDE/SHOW overrides removed), so a navigation hides the page
# as a real one does.
REAL_VISIBILITY = "() => { delete document.visibilityState; }"


def _sign_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.fill("[name=username]", user.email)
    page.fill("[name=password]", "s3cret-Pass!")
    page.click("main form [type=submit]")
    page.wait_for_url("**/dashboard/")


@pytest.mark.browser
def test_kept_events_go_with_the_learners_next_page_but_never_to_the_next_learner(page):
    # given learner A on a shared computer whose first page view went out (the clock under control)
    a, b = UserFactory(), UserFactory()
    page.clock.install()
    _sign_in(page, a)
    page.evaluate(HIDE)
    assert wait_until(lambda: len(sent()) >= 1, timeout=15)
    page.evaluate(REAL_VISIBILITY)

    # when A clicks and moves to another page within 30 s, reads it for 31 s, clicks again and logs out
    # at once, and learner B signs in on the same browser and reads for 31 s
    page.evaluate(CLICK, "a-carried")
    page.goto("/tests/")
    page.clock.run_for(31_000)
    assert wait_until(lambda: ("CLICK", "a-carried") in sent(), timeout=15)
    page.evaluate(CLICK, "a-private")
    page.click("nav form[action='/accounts/logout/'] button")
    page.wait_for_url("**/")
    _sign_in(page, b)
    page.clock.run_for(31_000)
    assert wait_until(lambda: any(e["user_id"] == b.pk for e in buffered()), timeout=15)

    # then A's next page sent A's kept click as A's, and nothing of A's went out under B
    owners = {e["event_name"]: e["user_id"] for e in buffered() if e["event_type"] == "CLICK"}
    assert owners.get("a-carried") == a.pk
    assert owners.get("a-private") in (None, a.pk)
    assert {e["path"] for e in buffered() if e["user_id"] == b.pk} <= {"/", "/accounts/login/", "/dashboard/"}
