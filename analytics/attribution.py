"""UTM attribution: captured on landing into the session, first touch and last touch.

Sign-up copies both touches onto the User/FreeUser (`utm_from_request`); enrolling copies the first
touch onto the Enrollment (`first_touch`), and the payment copies the enrollment's. The campaign table
reads those columns, so revenue is attributed to the campaign that first brought the learner.
"""

from __future__ import annotations

from django.http import HttpRequest, QueryDict

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# Longest value any UTM column holds (utm_source/utm_medium are 100 wide).
UTM_MAX_LENGTH = 100
SESSION_KEY = "utm"


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
    """The flat utm_* dict of the visitor's first landing."""
    return utm_from_request(request)["first"]
