"""Mark the signed-in user active for the inactivity nudge, writing nothing to the database."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from accounts.services import last_active_mark


class LastActiveMiddleware:
    """After the view, `last_active_mark` (accounts/services/activity.py): at most one Redis mark per user
    per 5 minutes; the `accounts.last_active_flush` task writes `last_active_at` in bulk."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # After the view: DRF has put a JWT user on the request by now, and a failed view never counts.
        # A request that never asked who its user is (a JWT call refused before DRF set one, a bare
        # response) does not load the session just for this.
        user = getattr(request, "user", None)
        if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
            return response
        if user is not None and user.is_authenticated and response.status_code < 500:
            last_active_mark(user_id=user.pk)
        return response
