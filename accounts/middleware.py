"""Keep `last_active_at` fresh for the inactivity nudge without writing on every request."""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import User
from cerebrum.cache import l1_get, l1_set

ACTIVE_EVERY_SECONDS = 5 * 60


class LastActiveMiddleware:
    """At most one `UPDATE users SET last_active_at` per user per 5 minutes, across all processes.

    An in-process mark (30 s) spares Redis on a learner's burst of requests; the Redis key
    (`cache.add`, 5 min) makes exactly one process win the write.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # After the view: DRF has put a JWT user on the request by now, and a failed view never counts.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and response.status_code < 500:
            last_active_touch(user_id=user.pk)
        return response


def last_active_touch(*, user_id: int) -> bool:
    key = f"accounts:active:{user_id}"
    if l1_get(key) is True:
        return False
    l1_set(key, True, ACTIVE_EVERY_SECONDS)
    if not cache.add(key, 1, ACTIVE_EVERY_SECONDS):
        return False
    User.objects.filter(pk=user_id).update(last_active_at=timezone.now())
    return True
