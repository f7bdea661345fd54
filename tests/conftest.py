"""Shared fixtures. Tests run on real PostgreSQL and Redis (cerebrum.settings.test refuses anything else)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django_redis import get_redis_connection


@pytest.fixture(autouse=True)
def _clean_redis(settings):
    """Each test starts with an empty Redis database (the test settings point at a dedicated db)."""
    get_redis_connection("default").flushdb()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
