"""Captures UTM parameters when a visitor lands from a campaign link, and gives the device its id."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from analytics.attribution import (
    NEW_VISITOR_ATTR,
    SESSION_KEY,
    VISITOR_COOKIE,
    VISITOR_COOKIE_MAX_AGE,
    touch_from_query,
    touches_updated,
    visitor_id,
)
from analytics.tasks import landing_record
from cerebrum.task_publish import task_publish

logger = logging.getLogger(__name__)


class UTMAttributionMiddleware:
    """On a request carrying utm_* parameters: keep first and last touch in the session and publish the
    `analytics.landing_record` task (the AttributionTouch row, joined to the learner if signed in, and a
    LANDING event). No database write here (issue 16 item 4); with the broker unreachable the task runs
    in this request, so no landing is lost.

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
        at = timezone.now().isoformat()  # the landing's time, whenever the task records it
        response = self.get_response(request)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        try:
            task_publish(landing_record, visitor, user_id, touch, request.path[:500], at, if_unreachable="run_here")
        except DatabaseError:
            # Run here (embedded, or the broker down) and failed: the page is already rendered, and
            # losing one attributed visit beats answering it with a 500.
            logger.exception("attributed visit not stored (%s)", request.path)
        return self._with_visitor_cookie(request, response)

    @staticmethod
    def _with_visitor_cookie(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        new = getattr(request, NEW_VISITOR_ATTR, None)
        if new:
            response.set_cookie(VISITOR_COOKIE, new, max_age=VISITOR_COOKIE_MAX_AGE, samesite="Lax")
        return response
