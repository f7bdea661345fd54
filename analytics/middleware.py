"""Captures UTM parameters when a visitor lands from a campaign link."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse

from analytics.attribution import SESSION_KEY, touch_from_query, touches_updated
from analytics.models import AnalyticsEvent
from analytics.services import event_record

# First-party visitor id, shared with static/js/beacon.js so server and client events join up.
VISITOR_COOKIE = "cb_aid"
VISITOR_COOKIE_MAX_AGE = 365 * 24 * 60 * 60


class UTMAttributionMiddleware:
    """On a request carrying utm_* parameters, keep first and last touch in the session and record a LANDING.

    Requests without utm_* parameters (nearly all of them) are passed through untouched: the
    session is not even read, so the hot path pays nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        touch = touch_from_query(request.GET) if request.GET else {}
        if not touch:
            return self.get_response(request)
        request.session[SESSION_KEY] = touches_updated(request.session.get(SESSION_KEY), touch)
        visitor = request.COOKIES.get(VISITOR_COOKIE) or uuid.uuid4().hex
        response = self.get_response(request)
        user = getattr(request, "user", None)
        event_record(
            event_type=AnalyticsEvent.Type.LANDING,
            name="landing",
            user=user if user is not None and user.is_authenticated else None,
            anonymous_id=visitor,
            utm=touch,
            path=request.path,
        )
        if VISITOR_COOKIE not in request.COOKIES:
            response.set_cookie(VISITOR_COOKIE, visitor, max_age=VISITOR_COOKIE_MAX_AGE, samesite="Lax")
        return response
