"""UTM attribution kept in the session. FIRST VERSION — the analytics issue completes this module."""

from __future__ import annotations

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def utm_from_request(request) -> dict:
    """{"first": {...}, "last": {...}} for this visitor, as captured on landing."""
    stored = getattr(request, "session", {}).get("utm", {}) if hasattr(request, "session") else {}
    return {"first": dict(stored.get("first", {})), "last": dict(stored.get("last", {}))}


def first_touch(request) -> dict:
    return utm_from_request(request)["first"]
