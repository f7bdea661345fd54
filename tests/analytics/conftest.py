"""Helpers for the analytics tests: client events and a Redis that is down."""

from __future__ import annotations

import os
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


@pytest.fixture
def analytics_worker_factory(celery_worker_factory):
    """celery_worker_factory, plus the namespaced keys it misses.

    With `config_from_object(..., namespace="CELERY")` Celery reads CELERY_TASK_ALWAYS_EAGER and
    CELERY_BROKER_URL before the plain names the shared fixture updates, so without this `.delay()`
    would still run inline in the test process.
    """
    from cerebrum.celery import app

    broker_url = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    previous = {key: app.conf.get(key) for key in ("CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL")}
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=broker_url)
    _reset_producers(app)
    yield celery_worker_factory
    app.conf.update(**previous)
    _reset_producers(app)


def _reset_producers(app) -> None:
    """Drop pooled broker connections so the next send uses the broker just configured."""
    app._pool = None
    app.amqp._producer_pool = None
