"""Reads go to replicas, writes to the primary; a learner who wrote reads the primary for a few seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.models import User
from cerebrum import db_router
from cerebrum.db_router import PIN_COOKIE, PrimaryReplicaRouter, ReadYourWritesMiddleware, is_pinned, pin_to_primary

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def replica_lags(settings, monkeypatch):
    settings.DATABASE_REPLICAS = ["replica1", "replica2"]
    settings.READ_YOUR_WRITES_SECONDS = 5
    settings.REPLICA_MAX_LAG_SECONDS = 2
    settings.REPLICA_LAG_CHECK_SECONDS = 1
    lags = {"replica1": 0.0, "replica2": 0.0}  # these aliases are not configured: their lag is given here
    monkeypatch.setattr(db_router, "replica_lag_seconds", lambda alias: _lag(lags, alias))
    db_router.forget_replica_lag()
    token = db_router._pinned_until.set(0.0)
    yield lags
    db_router._pinned_until.reset(token)
    db_router.forget_replica_lag()


def _lag(lags: dict, alias: str) -> float:
    lags.setdefault("asked", []).append(alias)
    if isinstance(lags[alias], Exception):
        raise lags[alias]
    return lags[alias]


@pytest.fixture
def router():
    return PrimaryReplicaRouter()


def test_reads_go_to_a_replica(router):
    chosen = {router.db_for_read(User) for _ in range(50)}

    assert chosen == {"replica1", "replica2"}


def test_writes_go_to_the_primary_and_pin_later_reads(router):
    assert router.db_for_write(User) == "default"

    assert router.db_for_read(User) == "default"
    assert is_pinned()


def test_pin_expires_after_read_your_writes_seconds(router, monkeypatch):
    pin_to_primary()
    now = time.monotonic()
    monkeypatch.setattr(db_router.time, "monotonic", lambda: now + 5.1)

    assert router.db_for_read(User) in {"replica1", "replica2"}


@pytest.mark.django_db
def test_reads_inside_a_primary_transaction_stay_on_the_primary(router):
    with transaction.atomic():
        assert router.db_for_read(User) == "default"


def test_a_replica_behind_the_bound_gets_no_reads(router, replica_lags):
    replica_lags["replica2"] = 2.5

    assert {router.db_for_read(User) for _ in range(50)} == {"replica1"}


@pytest.mark.parametrize("trouble", [30.0, OperationalError("connection refused")])
def test_when_every_replica_is_behind_or_down_reads_go_to_the_primary(router, replica_lags, trouble):
    replica_lags.update(replica1=trouble, replica2=trouble)

    assert router.db_for_read(User) == "default"


def test_each_replica_is_asked_once_per_check_interval_and_again_after_it(router, replica_lags, monkeypatch):
    for _ in range(20):
        router.db_for_read(User)
    assert sorted(replica_lags["asked"]) == ["replica1", "replica2"]

    # when the interval has passed and replica1 has fallen behind
    replica_lags["replica1"] = 9.0
    now = time.monotonic()
    monkeypatch.setattr(db_router.time, "monotonic", lambda: now + 1.1)

    assert {router.db_for_read(User) for _ in range(20)} == {"replica2"}
    assert sorted(replica_lags["asked"]) == ["replica1", "replica1", "replica2", "replica2"]


def test_without_replicas_everything_reads_the_primary(router, settings):
    settings.DATABASE_REPLICAS = []

    assert router.db_for_read(User) == "default"


@pytest.mark.parametrize(("db", "allowed"), [("default", True), ("replica1", False)])
def test_migrations_run_only_on_the_primary(router, db, allowed):
    assert router.allow_migrate(db, "courses") is allowed


def _middleware(view):
    return ReadYourWritesMiddleware(view)


def test_request_that_writes_sets_the_pin_cookie():
    response = _middleware(lambda request: (PrimaryReplicaRouter().db_for_write(User), HttpResponse())[1])(
        RequestFactory().post("/")
    )

    cookie = response.cookies[PIN_COOKIE]
    assert cookie["max-age"] == 5
    assert cookie["httponly"] is True
    assert 4 <= int(cookie.value) - time.time() <= 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("statement", "pins"),
    [
        ("UPDATE users SET name = name WHERE false", True),
        ("WITH moved AS (UPDATE users SET name = name WHERE false RETURNING id) SELECT count(*) FROM moved", True),
        ("  select count(*) from users", False),
    ],
)
def test_raw_sql_that_writes_on_the_primary_pins_like_an_orm_write(statement, pins):
    def view(request):
        with connection.cursor() as cursor:
            cursor.execute(statement)
        return HttpResponse()

    response = _middleware(view)(RequestFactory().post("/"))

    assert (PIN_COOKIE in response.cookies) is pins


def test_request_that_only_reads_sets_no_cookie():
    response = _middleware(lambda request: HttpResponse(PrimaryReplicaRouter().db_for_read(User)))(
        RequestFactory().get("/")
    )

    assert PIN_COOKIE not in response.cookies
    assert response.content.decode() in {"replica1", "replica2"}


@pytest.mark.parametrize(
    ("cookie_offset", "expected"),
    [(3, {"default"}), (-1, {"replica1", "replica2"}), (None, {"replica1", "replica2"})],
)
def test_cookie_from_an_earlier_write_pins_this_request(cookie_offset, expected):
    request = RequestFactory().get("/")
    if cookie_offset is not None:
        request.COOKIES[PIN_COOKIE] = str(int(time.time() + cookie_offset))

    response = _middleware(lambda request: HttpResponse(PrimaryReplicaRouter().db_for_read(User)))(request)

    assert response.content.decode() in expected


def test_garbage_cookie_is_ignored_and_pin_does_not_leak_past_the_request():
    request = RequestFactory().get("/")
    request.COOKIES[PIN_COOKIE] = "not-a-number"

    _middleware(lambda request: (pin_to_primary(), HttpResponse())[1])(request)

    assert not is_pinned()


def test_settings_install_router_and_middleware_from_replica_urls():
    probe = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "from accounts.models import User; from cerebrum.db_router import pin_to_primary; "
        "before = User.objects.all().db; pin_to_primary(); after = User.objects.all().db; "
        "print(json.dumps([s.DATABASE_ROUTERS, 'cerebrum.db_router.ReadYourWritesMiddleware' in s.MIDDLEWARE, "
        "s.DATABASES['replica2']['TEST']['MIRROR'], before, after]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cerebrum.settings.base",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/cerebrum",
        # Two "replicas" that answer the lag check (a database that is no standby lags 0 s).
        "DATABASE_REPLICA_URLS": "postgres://postgres@127.0.0.1:5432/postgres,postgres://postgres@127.0.0.1:5432/postgres",
    }

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    routers, middleware, test_settings, before, after = json.loads(result.stdout.strip().splitlines()[-1])
    assert routers == ["cerebrum.db_router.PrimaryReplicaRouter"]
    assert middleware is True
    assert test_settings == "default"
    assert before in {"replica1", "replica2"}
    assert after == "default"


# --- Cache fills read the primary (issue 20): a fill from a lagging replica outlives the lag ---------


def test_reads_that_fill_a_cache_go_to_the_primary_and_leave_no_pin(router):
    with db_router.primary_reads():
        assert router.db_for_read(User) == "default"

    assert router.db_for_read(User) in {"replica1", "replica2"}
    assert not is_pinned()


def test_a_request_whose_reads_filled_a_cache_sets_no_cookie():
    def view(request):
        return HttpResponse(db_router.read_from_primary(lambda: PrimaryReplicaRouter().db_for_read(User)))

    response = _middleware(view)(RequestFactory().get("/"))

    assert response.content.decode() == "default"
    assert PIN_COOKIE not in response.cookies


def test_models_cacheops_caches_are_read_from_the_primary(router, settings):
    from courses.models import PracticeTest

    settings.CACHEOPS_ENABLED = True
    assert router.db_for_read(PracticeTest) == "default"

    settings.CACHEOPS_ENABLED = False
    assert router.db_for_read(PracticeTest) in {"replica1", "replica2"}


def test_get_or_build_runs_its_builder_on_the_primary(router):
    from cerebrum.cache import get_or_build

    value, hit = get_or_build("test:db-router:fill", lambda: router.db_for_read(User), timeout=60)

    assert (value, hit) == ("default", False)


# --- Tasks: a task published by a context that wrote reads the primary (the header carries the pin) ---


def test_a_task_published_from_a_pinned_context_carries_the_pin_and_an_unpinned_one_does_not():
    from cerebrum.celery import _task_pin_carry

    unpinned: dict = {}
    _task_pin_carry(headers=unpinned)
    pin_to_primary()
    pinned: dict = {}
    _task_pin_carry(headers=pinned)

    assert unpinned == {}
    assert 4.5 <= pinned[db_router.TASK_PIN_HEADER] - time.time() <= 5


@pytest.mark.parametrize(("offset", "expected"), [(3, {"default"}), (-1, {"replica1", "replica2"}), (None, None)])
def test_a_task_reads_the_primary_while_its_header_pin_lasts_and_only_while_it_runs(offset, expected):
    from cerebrum.celery import app

    @app.task(name="tests.cerebrum.router_probe", shared=False)
    def probe():
        return PrimaryReplicaRouter().db_for_read(User)

    headers = {} if offset is None else {db_router.TASK_PIN_HEADER: time.time() + offset}
    read_on = probe.apply(headers=headers).get()

    assert read_on in (expected or {"replica1", "replica2"})
    assert not is_pinned()


def test_a_session_missing_from_the_cache_is_read_from_the_primary(monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

    from cerebrum.sessions import SessionStore

    read_on = []
    monkeypatch.setattr(
        DatabaseSessionStore, "_get_session_from_db", lambda self: read_on.append(router_choice()) or None
    )

    SessionStore("a" * 32).load()

    assert read_on == ["default"]


def router_choice() -> str:
    return PrimaryReplicaRouter().db_for_read(User)
