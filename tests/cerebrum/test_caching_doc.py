"""docs/caching.md names every cache key the code uses, every key has one owner, and values are plain data.

The owners register their key prefixes in `KEYS` (each app's `caches.py`, and `cerebrum.cache` for the
platform); the doc's table must list exactly those. A learner's journey then fills Redis and every key
found there must carry a registered prefix (or a library's), with no model instance inside any value.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import models
from django.urls import reverse
from django_redis import get_redis_connection

from courses import caches, services
from tests.factories import PracticeTestFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "analytics", "communications", "courses", "payments", "practice", "reports", "audit", "demo")
# Modules allowed to import the cache, django-redis or cacheops: the owners of keys, the platform,
# the event buffer (a Redis queue), the health check's ping and the settings.
CACHE_TOUCHING = {
    "cerebrum/cache.py",
    "cerebrum/edge.py",
    "cerebrum/http_cache.py",
    "cerebrum/api_tools.py",
    "cerebrum/views.py",
    "cerebrum/settings/base.py",
    "analytics/buffer.py",
} | {f"{app}/caches.py" for app in APPS}
CACHE_MODULES = ("django.core.cache", "django_redis", "cacheops")
# Keys that libraries write into the same Redis: cacheops, Django's cached_db sessions, django-axes, DRF throttles.
LIBRARY_KEY = re.compile(r"^(q:|conj:|schemes:|django\.contrib\.sessions\.cached_db|axes|throttle_)")


def _registered() -> dict[str, str]:
    owners = {"cerebrum.cache": importlib.import_module("cerebrum.cache")}
    owners |= {
        f"{app}.caches": importlib.import_module(f"{app}.caches") for app in APPS if (ROOT / app / "caches.py").exists()
    }
    return {prefix: name for name, module in owners.items() for prefix in module.KEYS}


def _documented() -> dict[str, str]:
    text = (ROOT / "docs" / "caching.md").read_text()
    table = text.split("## Keys", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    found = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        pattern = re.search(r"`([^`]+)`", cells[1]).group(1)
        found[pattern.split(":<", 1)[0]] = cells[2]
    return found


def test_every_registered_key_prefix_is_in_the_doc_and_every_documented_one_is_registered():
    registered, documented = set(_registered()), set(_documented())

    assert registered - documented == set(), "in code, missing from docs/caching.md"
    assert documented - registered == set(), "in docs/caching.md, registered by no caches.py KEYS"


def _importers(modules: tuple[str, ...]) -> set[str]:
    """The app and platform modules (no migrations) that import any of `modules`, at any level."""
    found = set()
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.split("/", 1)[0] not in (*APPS, "cerebrum") or "/migrations/" in relative:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == module or name.startswith(f"{module}.") for name in names for module in modules):
                found.add(relative)
    return found


def test_only_the_owners_import_the_cache():
    assert _importers(CACHE_MODULES) - CACHE_TOUCHING == set()


def test_signals_are_used_only_in_caches_modules():
    # Signals only invalidate caches, only in an app's caches.py (connected in AppConfig.ready);
    # every other effect of a write is written out in its service.
    signal_modules = ("django.db.models.signals", "django.dispatch", "django.core.signals")
    signal_modules += ("django.contrib.auth.signals", "cacheops.signals")

    assert {path for path in _importers(signal_modules) if not path.endswith("/caches.py")} == set()


@pytest.mark.django_db(transaction=True)
def test_after_a_learners_journey_every_key_in_redis_is_registered_and_holds_plain_data(client, api_client):
    # given a learner who signs in, starts, answers and submits a test, and reads every page about it
    learner = UserFactory(name="Asha Verma")
    test = PracticeTestFactory(question_count=2)
    client.force_login(learner)
    api_client.force_authenticate(learner)
    client.get(reverse("courses:dashboard"))
    client.get(reverse("courses:test_detail", args=[test.slug]))
    attempt = services.attempt_start(test=test, user=learner)
    client.get(reverse("courses:attempt", args=[attempt.pk]))
    for question in caches.paper_get(test)["questions"]:
        services.attempt_answer(attempt=attempt, question_id=question["id"], option="A")
    client.get(reverse("courses:attempt", args=[attempt.pk]))  # the running attempt from Redis
    running = cache.get(caches.attempt_key(attempt.pk))
    assert running["version"] == cache.get(caches.attempt_version_key(attempt.pk))
    assert running["data"]["columns"]["id"] == attempt.pk
    assert running["data"]["related"]["test"]["columns"]["slug"] == test.slug
    services.attempt_submit(attempt=attempt)
    for url in (reverse("courses:attempt_result", args=[attempt.pk]), reverse("courses:leaderboard", args=[test.slug])):
        assert client.get(url).status_code == 200
    assert api_client.get("/api/v1/dashboard").json()["user"]["name"] == "Asha Verma"
    client.get(reverse("courses:catalog"))

    # then every key has an owner in the registry, and no value holds a model instance
    redis = get_redis_connection("default")
    prefixes = tuple(_registered())
    keys = [key.decode() for key in redis.keys("*")]
    ours = [key for key in (key.removeprefix(cache.make_key("")) for key in keys) if not LIBRARY_KEY.match(key)]
    assert {key for key in ours if not key.startswith(prefixes)} == set()
    assert caches.dashboard_key(learner.pk) in ours
    assert caches.dashboard_version_key(learner.pk) in ours
    for key in keys:
        if key.startswith(cache.make_key("")) and redis.type(key) == b"string":
            _assert_plain(cache.get(key.removeprefix(cache.make_key(""))), key)


def _assert_plain(value, key: str) -> None:
    assert not isinstance(value, models.Model), f"{key} holds a pickled {type(value).__name__}"
    if isinstance(value, dict):
        for item in value.values():
            _assert_plain(item, key)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _assert_plain(item, key)
