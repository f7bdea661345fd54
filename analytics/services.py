"""Analytics events. FIRST VERSION — the analytics issue adds the Redis buffer and rollups."""

from __future__ import annotations

from analytics.models import AnalyticsEvent


def event_record(
    *,
    event_type: str,
    name: str,
    user=None,
    anonymous_id: str = "",
    properties: dict | None = None,
    utm: dict | None = None,
    path: str = "",
) -> None:
    """Record a server-side event (signup, enrollment, payment, test start/submit)."""
    utm = utm or {}
    AnalyticsEvent.objects.create(
        event_type=event_type,
        event_name=name,
        user=user if user is not None and user.pk else None,
        anonymous_id=anonymous_id,
        properties=properties or {},
        utm_source=utm.get("utm_source") or None,
        utm_medium=utm.get("utm_medium") or None,
        utm_campaign=utm.get("utm_campaign") or None,
        path=path,
    )
