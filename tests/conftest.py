"""Shared fixtures. Tests run on real PostgreSQL and Redis (cerebrum.settings.test refuses anything else)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import redis
from django.core.cache import cache
from django.core.servers.basehttp import WSGIServer
from django.db import connections, transaction
from django.test import TransactionTestCase
from django_redis import get_redis_connection

from tests.browser_fixtures import browser, page, pytest_runtest_makereport  # noqa: F401  (one browser for all)

# The exam tests open 200 connections to the live server at the same instant. Django's test server
# listens with a backlog of 10: the kernel then drops handshakes, and a client whose request sat on a
# dropped connection waited for its 120 s timeout. gunicorn in production listens with 4096.
WSGIServer.request_queue_size = 1024

ROOT = Path(__file__).resolve().parents[1]

_django_fixture_teardown = TransactionTestCase._fixture_teardown
# Rows a transactional test leaves are removed by this, except these: Django's flush empties them too and
# then rebuilds the same rows with its post_migrate signal (content types, permissions, and pgtrigger
# reinstalling every trigger), which is most of its cost.
_KEPT_BY_FLUSH = ("django_content_type", "auth_permission")


def _empty_tables_after_transactional_test(self) -> None:
    """Empty every model table after a transactional test (transactional_db, live_server, Celery workers).

    Django's flush (TRUNCATE of every model table, then post_migrate) took 3-4 s per test on the busy test
    machine: TRUNCATE swaps every table's and index's files, and post_migrate ran ~190 queries. DELETE of
    the few rows a test leaves takes ~0.06 s there. session_replication_role = replica skips the foreign
    key checks (the order of tables does not matter) and the audit triggers (TRUNCATE fires no row
    trigger either); it needs a superuser, which the tests' PostgreSQL role is. Sequences are not reset
    (as Django's flush here: reset_sequences=False).
    """
    if self.available_apps is not None or self.serialized_rollback:
        _django_fixture_teardown(self)  # Django's own path for these options (unused in this suite)
        return
    for alias in self._databases_names(include_mirrors=False):
        connection = connections[alias]
        tables = [
            table
            for table in connection.introspection.django_table_names(only_existing=True, include_views=False)
            if table not in _KEPT_BY_FLUSH
        ]
        statements = [f"DELETE FROM {connection.ops.quote_name(table)};" for table in tables]
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute("\n".join(["SET LOCAL session_replication_role = replica;", *statements]))


TransactionTestCase._fixture_teardown = _empty_tables_after_transactional_test


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request) -> None:
    """pytest-django's (the per-xdist-worker database name), then: a test database an interrupted run left
    behind is dropped before Django creates it again.

    Django drops such a database itself, but over a connection with the app's 5 s statement_timeout, and
    on a busy machine DROP DATABASE took longer: the worker then stopped with "canceling statement due to
    statement timeout". Plain DROP (no FORCE), as Django's: a database someone is connected to stays.
    """
    if request.config.getvalue("reuse_db"):
        return
    connection = connections["default"]
    params = connection.settings_dict
    try:
        with psycopg.connect(
            host=params["HOST"] or "127.0.0.1",
            port=params["PORT"] or 5432,
            user=params["USER"] or "postgres",
            password=params["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
            options="-c statement_timeout=0",
        ) as admin:
            admin.execute(
                f"DROP DATABASE IF EXISTS {connection.ops.quote_name(connection.creation._get_test_db_name())}"
            )
    except psycopg.errors.ObjectInUse:
        pass  # in use by another run: Django's own attempt reports it


@pytest.fixture(autouse=True)
def _clean_redis(settings):
    """Each test starts with an empty Redis database (the test settings point at a dedicated db)."""
    get_redis_connection("default").flushdb()
    yield
    cache.clear()


class RedisRoundTrips:
    """Redis round trips made by this process: each command sent alone, or a whole pipeline, is one."""

    def __init__(self):
        self.commands: list[str] = []

    @property
    def count(self) -> int:
        return len(self.commands)

    def touching(self, part: str) -> list[str]:
        """The round trips whose command names a key containing `part`."""
        return [command for command in self.commands if part in command]

    def reset(self) -> None:
        self.commands.clear()


@pytest.fixture
def redis_round_trips(monkeypatch):
    """Counts Redis round trips from here on (`.count`, `.commands`, `.touching(key part)`, `.reset()`), as
    bench/cost.py counts them."""
    trips = RedisRoundTrips()
    command, pipeline = redis.Redis.execute_command, redis.client.Pipeline.execute

    def counted_command(self, *args, **options):
        trips.commands.append(" ".join(str(arg) for arg in args[:2]))  # the command and its first key
        return command(self, *args, **options)

    def counted_pipeline(self, *args, **options):
        trips.commands.append(f"PIPELINE({len(self.command_stack)})")
        return pipeline(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted_command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", counted_pipeline)
    return trips


@pytest.fixture
def racing(django_capture_on_commit_callbacks):
    """racing(read, write) -> a reader that reads the old row, lets `write` commit (its after-commit
    invalidation runs), then returns what it read, to be stored."""

    def reader_raced_by(read, write):
        raced = []

        def read_then_store_late(*args, **kwargs):
            old = read(*args, **kwargs)
            if not raced:  # once: the write itself may read through the same function
                raced.append(True)
                with django_capture_on_commit_callbacks(execute=True):
                    write()
            return old

        return read_then_store_late

    return reader_raced_by


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


class CeleryWorker:
    """A real `celery worker` process on the test database and a Redis broker (docs/architecture.md, "Celery")."""

    def __init__(self, broker_url: str, queues: str, extra_env: dict[str, str] | None = None):
        self.broker_url = broker_url
        self.queues = queues
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None

    def start(self, concurrency: int = 2) -> None:
        from django.conf import settings
        from django.db import connection

        db = settings.DATABASES["default"]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cerebrum.settings.test",
            "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{connection.settings_dict['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": self.broker_url,
            **self.extra_env,
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cerebrum",
                "worker",
                "-Q",
                self.queues,
                "-c",
                str(concurrency),
                "--pool",
                "prefork",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and its children), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.2) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; returns its last result."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


@pytest.fixture
def celery_worker_factory(transactional_db):
    """Start real workers with `celery_worker_factory(queues="communications")`; tasks go to Redis.

    Broker: TEST_CELERY_BROKER_URL (default redis db 14), flushed per test. The test process stops
    running tasks inline while the fixture is active.
    """
    from cerebrum.celery import app

    broker_url = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    redis.Redis.from_url(broker_url).flushdb()
    # The app reads Django settings with the CELERY_ namespace, and a namespaced key wins over a plain
    # one: updating `task_always_eager` alone left tasks running inline in the test process.
    previous = {"CELERY_TASK_ALWAYS_EAGER": app.conf.task_always_eager, "CELERY_BROKER_URL": app.conf.broker_url}
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=broker_url)
    # An earlier eager .delay() built a producer pool on the old broker URL; drop it with the pool.
    app._pool = None
    app.amqp._producer_pool = None
    workers: list[CeleryWorker] = []

    def start(
        queues: str = "communications,analytics,payments,default",
        concurrency: int = 2,
        extra_env: dict[str, str] | None = None,
    ) -> CeleryWorker:
        worker = CeleryWorker(broker_url, queues, extra_env)
        worker.start(concurrency)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.kill()
    app.conf.update(**previous)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _redis_breaker_closed():
    """A test that made Redis fail must not leave later tests skipping Redis (cerebrum.cache breaker)."""
    from cerebrum.cache import redis_breaker_reset

    redis_breaker_reset()
    yield
    redis_breaker_reset()


@pytest.fixture(autouse=True)
def _not_inside_a_task():
    """A test is no Celery task: `.get()` on an eager result may wait. Celery keeps "a join would block"
    in one process-wide flag that every eager run sets and restores, so eager tasks run at once by two
    live-server threads of an earlier test can leave it set (each restores what the other had set)."""
    from celery.result import allow_join_result

    with allow_join_result():
        yield


@pytest.fixture(autouse=True)
def _clean_l1_cache():
    """The in-process L1 (cerebrum.cache) and the exam page shells outlive Redis's flush; a test must not see
    the last test's pages (a database flushed between tests may reuse a test's id and paper version)."""
    from cerebrum.cache import l1_clear
    from courses.exam_screen import exam_shells_clear

    l1_clear()
    exam_shells_clear()
    yield
    l1_clear()
    exam_shells_clear()


@pytest.fixture
def broker_down():
    """The Celery broker at a real address where nothing listens (publishes raise), eager mode off."""
    from cerebrum.celery import app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: connections to it are refused
    previous = {"CELERY_TASK_ALWAYS_EAGER": app.conf.task_always_eager, "CELERY_BROKER_URL": app.conf.broker_url}
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0")
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.update(**previous)
    app._pool = None
    app.amqp._producer_pool = None
