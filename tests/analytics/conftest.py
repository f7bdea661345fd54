"""Helpers for the analytics tests: client events and a Redis that is down."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone


def client_event(**overrides) -> dict:
    event = {
        "event_id": str(uuid.uuid4()),
        "type": "PAGE_VIEW",
        "name": "course_page",
        "timestamp": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "properties": {"course": "neet-biology-12"},
        "path": "/courses/neet-biology-12/",
        "anonymous_id": "visitor-1",
    }
    event.update(overrides)
    return event


@pytest.fixture
def redis_down(settings):
    """Point the default cache (and so the analytics buffer) at a port nobody listens on."""
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": "redis://127.0.0.1:6399/0",
        }
    }
    return settings
