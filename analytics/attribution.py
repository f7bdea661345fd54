"""UTM attribution that follows the learner across devices (docs/analytics.md, "Attribution").

* Each device has a first-party anonymous id, the `cb_aid` cookie (set by the UTM middleware on a
  landing or a sign-in, or by the beacon); client and server events carry it as `anonymous_id`.
* A landing with utm_* parameters is an attributed visit: one `AttributionTouch` row and a LANDING event,
  written by the `analytics.landing_record` task the UTM middleware publishes (`landing_record`; no
  middleware writes to the database, issue 16 item 4; with the broker unreachable it runs in the request).
* On sign-in or sign-up the device's earlier touches and events join the learner (`visitor_join`),
  called by the accounts service the sign-in and sign-up pages call (`accounts.services.user_signed_in`):
  accounts imports analytics, never the other way.
* First touch = the learner's earliest attributed visit on any device; last touch = the latest one
  before the conversion (`touches_for_user`). courses and payments store both on the Enrollment and
  the Payment when they are made; the campaign report offers a view by each.

The session keeps the device's own first/last landing too (`utm_from_request`), which sign-up copies
onto the User / FreeUser as before.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from analytics.models import AnalyticsEvent, AttributionTouch
from analytics.services import event_record
from cerebrum.bindings import Binding
from cerebrum.models import UTM_KEYS
from cerebrum.task_publish import task_publish

# Longest value any UTM column holds (utm_source/utm_medium are 100 wide).
UTM_MAX_LENGTH = 100
SESSION_KEY = "utm"
# First-party visitor id, shared with static/js/beacon.js so server and client events join up.
VISITOR_COOKIE = "cb_aid"
VISITOR_COOKIE_MAX_AGE = 365 * 24 * 60 * 60
# Set on the request when this response must give the device its visitor cookie.
NEW_VISITOR_ATTR = "_analytics_new_visitor"
# The task of analytics/tasks.py, which imports this module (bound in AnalyticsConfig.ready).
visitor_events_join_task = Binding("analytics.visitor_events_join")


def touch_from_query(query: QueryDict) -> dict:
    """The utm_* parameters of a query string, trimmed; {} when it carries none."""
    touch = {key: query.get(key, "").strip()[:UTM_MAX_LENGTH] for key in UTM_KEYS}
    if not any(touch.values()):
        return {}
    return touch


def touches_updated(stored: dict | None, touch: dict) -> dict:
    """The session value after landing with `touch`: the first touch is kept, the last one replaced."""
    stored = stored or {}
    return {"first": dict(stored.get("first") or touch), "last": dict(touch)}


def utm_from_request(request: HttpRequest) -> dict:
    """{"first": {...}, "last": {...}} for this visitor, as captured on landing ({} each when none)."""
    session = getattr(request, "session", None)
    stored = session.get(SESSION_KEY) if session is not None else None
    stored = stored or {}
    return {"first": dict(stored.get("first") or {}), "last": dict(stored.get("last") or {})}


def first_touch(request: HttpRequest) -> dict:
    """The flat utm_* dict of this device's first landing (used when the learner has no recorded touch)."""
    return utm_from_request(request)["first"]


def visitor_id(request: HttpRequest) -> str:
    """This device's anonymous id: the `cb_aid` cookie, or a new one the middleware will set."""
    existing = request.COOKIES.get(VISITOR_COOKIE, "")[:64]
    if existing:
        return existing
    new = getattr(request, NEW_VISITOR_ATTR, None) or uuid.uuid4().hex
    setattr(request, NEW_VISITOR_ATTR, new)
    return new


@transaction.atomic
def touch_record(
    *, anonymous_id: str, user_id: int | None, touch: dict, path: str = "", at: datetime | None = None
) -> AttributionTouch:
    """Store one attributed visit (a landing with utm_* parameters) of a device, signed in or not."""
    row = AttributionTouch(
        created_at=at or timezone.now(),
        anonymous_id=anonymous_id[:64],
        user_id=user_id,
        path=path[:500],
        **{key: (touch.get(key) or "")[: AttributionTouch._meta.get_field(key).max_length] for key in UTM_KEYS},
    )
    row.full_clean(exclude=["user"])
    row.save()
    return row


@transaction.atomic
def landing_record(
    *, anonymous_id: str, user_id: int | None, touch: dict, path: str = "", at: datetime | None = None
) -> AttributionTouch:
    """A landing with utm_* parameters (`touch_from_query`) at `at` (the request's time; default now):
    the attributed visit and its LANDING event, both for the device `anonymous_id` and, when signed in,
    the learner `user_id`. Dated at the request, a landing recorded after the device's sign-in is still
    joined to the learner by the delayed `visitor_events_join`."""
    row = touch_record(anonymous_id=anonymous_id, user_id=user_id, touch=touch, path=path, at=at)
    event_record(
        event_type=AnalyticsEvent.Type.LANDING,
        name="landing",
        user=row.user if user_id else None,
        anonymous_id=anonymous_id,
        utm=touch,
        path=path,
        at=row.created_at,
    )
    return row


@transaction.atomic
def visitor_join(*, anonymous_id: str, user_id: int) -> int:
    """The device's touches that no learner owns yet become `user_id`'s; its events follow after the
    buffer has flushed (`visitor_events_join`, ANALYTICS_JOIN_DELAY_SECONDS later). Returns the
    touches joined. Safe to repeat."""
    if not anonymous_id:
        return 0
    joined = AttributionTouch.objects.filter(anonymous_id=anonymous_id, user__isnull=True).update(user_id=user_id)
    until = timezone.now().isoformat()
    # Broker down: joined here at once; events still in the buffer then stay the device's.
    transaction.on_commit(
        lambda: task_publish(
            visitor_events_join_task,
            anonymous_id,
            user_id,
            until,
            countdown=settings.ANALYTICS_JOIN_DELAY_SECONDS,
            if_unreachable="run_here",
        )
    )
    return joined


def visitor_events_join(*, anonymous_id: str, user_id: int, until: datetime) -> int:
    """Give the device's anonymous events up to `until` (the sign-in) to the learner, and its touches
    recorded since the sign-in's own join (landings the worker wrote late); returns the events joined."""
    AttributionTouch.objects.filter(anonymous_id=anonymous_id, user__isnull=True, created_at__lte=until).update(
        user_id=user_id
    )
    events = AnalyticsEvent.objects.filter(anonymous_id=anonymous_id, user__isnull=True, created_at__lte=until)
    return events.update(user_id=user_id)


def touches_for_user(*, user_id: int, at: datetime | None = None) -> dict:
    """{"first": touch, "last": touch} of the learner's attributed visits up to `at` (default now),
    across every device they signed in on; a touch is the utm_* dict plus "at" (ISO 8601, UTC), {}
    when there is none. Two indexed queries."""
    at = at or timezone.now()
    visits = AttributionTouch.objects.filter(user_id=user_id, created_at__lte=at)
    first = visits.order_by("created_at", "pk").first()
    last = visits.order_by("-created_at", "-pk").first()
    return {"first": _as_touch(first), "last": _as_touch(last)}


def utm_columns(touch: dict) -> dict:
    """The flat utm_* column values of a touch (for UTMFields models)."""
    return {key: touch.get(key, "") for key in UTM_KEYS}


def _as_touch(row: AttributionTouch | None) -> dict:
    if row is None:
        return {}
    return {**{key: getattr(row, key) for key in UTM_KEYS}, "at": row.created_at.astimezone(UTC).isoformat()}
