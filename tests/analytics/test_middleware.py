from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from analytics import buffer
from analytics.attribution import first_touch, touch_from_query, utm_from_request
from analytics.middleware import VISITOR_COOKIE, UTMAttributionMiddleware
from analytics.models import AnalyticsEvent
from analytics.services import buffer_flush

pytestmark = pytest.mark.django_db


class SpySession(dict):
    """A session that records whether anything read or wrote it."""

    touched = False

    def get(self, *args):
        self.touched = True
        return super().get(*args)

    def __setitem__(self, key, value):
        self.touched = True
        super().__setitem__(key, value)


def run(path: str, session: SpySession, cookies: dict | None = None) -> HttpResponse:
    request = RequestFactory().get(path)
    request.session = session
    request.COOKIES.update(cookies or {})
    return UTMAttributionMiddleware(lambda r: HttpResponse("ok"))(request)


def test_request_without_utm_does_not_touch_the_session_or_redis():
    session = SpySession()

    response = run("/courses/?page=2", session)

    assert session.touched is False
    assert VISITOR_COOKIE not in response.cookies
    assert buffer.length() == 0


def test_first_touch_is_kept_and_last_touch_replaced(django_capture_on_commit_callbacks):
    session = SpySession()

    with django_capture_on_commit_callbacks(execute=True):
        response = run("/?utm_source=google&utm_medium=cpc&utm_campaign=neet-2027", session)
        run(
            "/?utm_source=instagram&utm_campaign=reels",
            session,
            {VISITOR_COOKIE: response.cookies[VISITOR_COOKIE].value},
        )

    assert session["utm"]["first"]["utm_campaign"] == "neet-2027"
    assert session["utm"]["last"] == {
        "utm_source": "instagram",
        "utm_medium": "",
        "utm_campaign": "reels",
        "utm_term": "",
        "utm_content": "",
    }
    buffer_flush()
    landings = list(AnalyticsEvent.objects.order_by("id").values_list("event_type", "utm_campaign", "anonymous_id"))
    visitor = response.cookies[VISITOR_COOKIE].value
    assert landings == [("LANDING", "neet-2027", visitor), ("LANDING", "reels", visitor)]


def test_utm_values_are_trimmed_to_the_column_width():
    touch = touch_from_query(RequestFactory().get("/", {"utm_source": " " + "x" * 300 + " "}).GET)

    assert touch["utm_source"] == "x" * 100


@pytest.mark.parametrize("session", [None, {}, {"utm": {}}])
def test_attribution_helpers_return_empty_touches_without_a_landing(session):
    request = RequestFactory().get("/")
    if session is not None:
        request.session = session

    assert utm_from_request(request) == {"first": {}, "last": {}}
    assert first_touch(request) == {}
