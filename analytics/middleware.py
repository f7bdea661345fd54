"""Captures UTM parameters when a visitor lands from a campaign link, and gives the device its id."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from analytics.attribution import (
    NEW_VISITOR_ATTR,
    SESSION_KEY,
    VISITOR_COOKIE,
    VISITOR_COOKIE_MAX_AGE,
    touch_from_query,
    touch_record,
    touches_updated,
    visitor_id,
)
from analytics.models import AnalyticsEvent
from analytics.services import event_record

logger = logging.getLogger(__name__)


class UTMAttributionMiddleware:
    """On a request carrying utm_* parameters: keep first and last touch in the session, store the
    attributed visit (AttributionTouch, joined to the learner if signed in) and record a LANDING.

    Every response that needs a visitor id the device does not have yet (a landing, a sign-in) sets
    the first-party `cb_aid` cookie. Requests without utm_* parameters (nearly all of them) pass
    through untouched: the session is not even read, so the hot path pays nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        touch = touch_from_query(request.GET) if request.GET else {}
        if not touch:
            return self._with_visitor_cookie(request, self.get_response(request))
        request.session[SESSION_KEY] = touches_updated(request.session.get(SESSION_KEY), touch)
        visitor = visitor_id(request)
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user if user is not None and user.is_authenticated else None
        try:
            touch_record(
                anonymous_id=visitor, user_id=signed_in.pk if signed_in else None, touch=touch, path=request.path
            )
        except DatabaseError:
            # The page is already rendered: losing one attributed visit beats answering it with a 500.
            logger.exception("attributed visit not stored (%s)", request.path)
        event_record(
            event_type=AnalyticsEvent.Type.LANDING,
            name="landing",
            user=signed_in,
            anonymous_id=visitor,
            utm=touch,
            path=request.path,
        )
        return self._with_visitor_cookie(request, response)

    @staticmethod
    def _with_visitor_cookie(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        new = getattr(request, NEW_VISITOR_ATTR, None)
        if new:
            response.set_cookie(VISITOR_COOKIE, new, max_age=VISITOR_COOKIE_MAX_AGE, samesite="Lax")
        return response
