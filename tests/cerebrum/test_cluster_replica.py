"""The replica router against a real streaming standby (issue 20 item 4).

The test setup makes a tiny PostgreSQL primary and a standby cloned from it with pg_basebackup, under
/tmp on free ports (initdb from the Debian package; as the postgres user when run as root, which
PostgreSQL requires), and adds the standby to Django as a replica alias. Replication lag is real:
replay is paused on the standby with pg_wal_replay_pause() while the primary commits.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connections

from accounts.models import User
from cerebrum import db_router
from cerebrum.db_router import PrimaryReplicaRouter, pin_to_primary, replica_lag_seconds

# Under pytest-xdist all of this module runs on one worker, so its primary and standby (module fixture) start once.
pytestmark = pytest.mark.xdist_group("streaming_pair")
PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))
ALIAS = "standby_under_test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(*command: str, **kwargs) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], check=True, capture_output=True, text=True, timeout=120, **kwargs)


def start(data: Path, port: int, directory: Path) -> None:
    with (data / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{directory}'\n")
    as_postgres(str(PGBIN / "pg_ctl"), "-D", str(data), "-l", str(data.parent / f"{port}.log"), "-w", "start")


def sql(port: int, query: str) -> list[tuple]:
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        cursor = conn.execute(query)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="module")
def streaming_pair():
    """A primary and its streaming standby: {"primary": port, "standby": port}."""
    directory = Path(tempfile.mkdtemp(prefix="cerebrum-replica-"))
    primary, standby = directory / "primary", directory / "standby"
    ports = {"primary": free_port(), "standby": free_port()}
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    try:
        as_postgres(str(PGBIN / "initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust", "--no-sync")
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 4\nfsync = off\nshared_buffers = '16MB'\n")
        start(primary, ports["primary"], directory)
        as_postgres(
            *(str(PGBIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(ports["primary"]), "-U", "postgres"),
            *("-D", str(standby), "-c", "fast", "-X", "stream", "-R"),
        )
        start(standby, ports["standby"], directory)
        sql(ports["primary"], "CREATE TABLE marks (id serial PRIMARY KEY, note text)")
        assert until(lambda: sql(ports["standby"], "SELECT to_regclass('marks')")[0][0] is not None)
        yield ports
    finally:
        for data in (standby, primary):
            if (data / "postmaster.pid").exists():
                as_postgres(str(PGBIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def standby_replica(streaming_pair, settings, django_db_blocker):
    """The standby as Django's only replica alias; the lag bound 1 s, asked on every read."""
    config = {**connections.settings["default"], "NAME": "postgres", "HOST": "127.0.0.1"}
    config.update(PORT=streaming_pair["standby"], OPTIONS={}, TEST={"MIRROR": "default"})
    connections.settings[ALIAS] = config
    settings.DATABASE_REPLICAS = [ALIAS]
    settings.REPLICA_MAX_LAG_SECONDS = 1
    settings.REPLICA_LAG_CHECK_SECONDS = 0
    db_router.forget_replica_lag()
    token = db_router._pinned_until.set(0.0)
    with django_db_blocker.unblock():
        yield streaming_pair
        connections[ALIAS].close()
    db_router._pinned_until.reset(token)
    db_router.forget_replica_lag()
    del connections.settings[ALIAS]
    if hasattr(connections._connections, ALIAS):
        delattr(connections._connections, ALIAS)
    sql(streaming_pair["standby"], "SELECT pg_wal_replay_resume()")


def until(condition, seconds: float = 30.0):
    """Polls `condition` (replication is asynchronous to the test) until it holds or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def replica_sees(note: str) -> bool:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM marks WHERE note = %s", [note])
        return cursor.fetchone()[0] == 1


def test_a_streaming_standby_in_step_gets_the_reads(standby_replica):
    sql(standby_replica["primary"], "INSERT INTO marks (note) VALUES ('in-step')")

    assert until(lambda: replica_sees("in-step"))
    assert until(lambda: replica_lag_seconds(ALIAS) == 0)
    assert PrimaryReplicaRouter().db_for_read(User) == ALIAS


def test_a_standby_behind_the_bound_loses_the_reads_and_gets_them_back_when_it_catches_up(standby_replica):
    router = PrimaryReplicaRouter()
    # given replay paused on the standby while the primary goes on committing
    sql(standby_replica["standby"], "SELECT pg_wal_replay_pause()")
    sql(standby_replica["primary"], "INSERT INTO marks (note) VALUES ('behind')")

    # then the standby lacks the row, its lag passes the bound, and reads go to the primary
    assert until(lambda: replica_lag_seconds(ALIAS) > 1)
    assert not replica_sees("behind")
    assert router.db_for_read(User) == "default"

    # when replay resumes, the standby catches up and serves reads again
    sql(standby_replica["standby"], "SELECT pg_wal_replay_resume()")
    assert until(lambda: replica_sees("behind"))
    assert until(lambda: router.db_for_read(User) == ALIAS)


def test_a_learner_who_wrote_reads_the_primary_while_the_standby_lacks_the_write(standby_replica, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 3600  # lag alone would not move reads: only the learner's pin does
    router = PrimaryReplicaRouter()
    sql(standby_replica["standby"], "SELECT pg_wal_replay_pause()")
    sql(standby_replica["primary"], "INSERT INTO marks (note) VALUES ('own-write')")
    assert router.db_for_read(User) == ALIAS
    assert not replica_sees("own-write")

    pin_to_primary()

    assert router.db_for_read(User) == "default"


def test_a_stopped_standby_sends_reads_to_the_primary(standby_replica):
    router = PrimaryReplicaRouter()
    assert router.db_for_read(User) == ALIAS
    data = Path(sql(standby_replica["standby"], "SHOW data_directory")[0][0])
    connections[ALIAS].close()

    as_postgres(str(PGBIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    try:
        assert router.db_for_read(User) == "default"
    finally:
        as_postgres(*(str(PGBIN / "pg_ctl"), "-D", str(data), "-l", str(data.parent / "restart.log"), "-w", "start"))
    db_router.forget_replica_lag()
    assert until(lambda: router.db_for_read(User) == ALIAS)


# --- A learner's own answers and attempt through the API, on the Cerebrum schema over the same pair ---
# Django's "default" is pointed at the pair's primary for these tests (a copy of the test database's
# schema, replicated to the standby), so the API's writes stream to a real standby whose replay the
# test pauses. Issue 20: `make drill` counted answers read straight back showing an older value.

RYW_DB = "cerebrum_ryw"
RYW_ALIAS = "standby_ryw"
# Transactional (the API's commits must reach the standby), and allowed to query RYW_ALIAS: it is configured
# by the module's fixture, before each test's database checks are set up.
on_replicas = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture(scope="module")
def cerebrum_schema(streaming_pair, django_db_setup, django_db_blocker):
    """The test database (schema and the little data migrations leave) copied into RYW_DB on the pair's
    primary, once per module; the standby gets it by streaming, and is configured as RYW_ALIAS."""
    source = connections["default"].settings_dict  # the test database (pytest-django renamed it)
    sql(streaming_pair["primary"], f"CREATE DATABASE {RYW_DB}")
    with django_db_blocker.unblock():
        dump = subprocess.run(
            [str(PGBIN / "pg_dump"), "--no-owner", "--no-privileges", "-h", source["HOST"] or "127.0.0.1"]
            + ["-p", str(source["PORT"] or 5432), "-U", source["USER"] or "postgres", source["NAME"]],
            check=True,
            capture_output=True,
            timeout=120,
            env={**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""},
        ).stdout
    subprocess.run(
        [str(PGBIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(streaming_pair["primary"])]
        + ["-U", "postgres", RYW_DB],
        input=dump,
        check=True,
        capture_output=True,
        timeout=120,
    )
    connections.settings[RYW_ALIAS] = {
        **connections["default"].settings_dict,
        **{"NAME": RYW_DB, "HOST": "127.0.0.1", "PORT": streaming_pair["standby"], "OPTIONS": {}},
        "TEST": {"MIRROR": "default"},
    }
    yield streaming_pair
    with django_db_blocker.unblock():
        connections[RYW_ALIAS].close()
    del connections.settings[RYW_ALIAS]
    if hasattr(connections._connections, RYW_ALIAS):
        delattr(connections._connections, RYW_ALIAS)


@pytest.fixture
def learner_on_replicas(cerebrum_schema, settings):
    """Django's default on the pair's primary, the standby its only replica, the router and the
    read-your-writes middleware installed (settings add them only when DATABASE_REPLICA_URLS is set). Lag alone never
    moves reads here (a bound of an hour): only the learner's pin, or a cache fill, reads the primary."""
    default = connections["default"]
    saved = default.settings_dict
    options = {key: value for key, value in saved.get("OPTIONS", {}).items() if key != "pool"}
    moved = {**saved, "NAME": RYW_DB, "HOST": "127.0.0.1", "PORT": cerebrum_schema["primary"], "OPTIONS": options}
    settings.DATABASE_REPLICAS = [RYW_ALIAS]
    settings.DATABASE_ROUTERS = ["cerebrum.db_router.PrimaryReplicaRouter"]
    settings.REPLICA_MAX_LAG_SECONDS = 3600
    settings.REPLICA_LAG_CHECK_SECONDS = 0
    settings.MIDDLEWARE = ["cerebrum.db_router.ReadYourWritesMiddleware", *settings.MIDDLEWARE]
    db_router.forget_replica_lag()
    token = db_router._pinned_until.set(0.0)
    default.close()
    default.close_pool()
    default.settings_dict = moved
    try:
        yield cerebrum_schema
    finally:  # back on the test database before transactional_db flushes it
        sql(cerebrum_schema["standby"], "SELECT pg_wal_replay_resume()")
        connections[RYW_ALIAS].close()
        default.close()
        default.settings_dict = saved
        db_router._pinned_until.reset(token)
        db_router.forget_replica_lag()


def standby_count(ports: dict, query: str, *params) -> int:
    with psycopg.connect(host="127.0.0.1", port=ports["standby"], user="postgres", dbname=RYW_DB) as conn:
        return conn.execute(query, params).fetchone()[0]


def replayed(ports: dict) -> bool:
    """The standby has replayed everything the primary has written so far."""
    target = sql(ports["primary"], "SELECT pg_current_wal_lsn()")[0][0]
    return bool(sql(ports["standby"], f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0][0])


def device(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def started_attempt(ports: dict) -> tuple:
    """A learner's running attempt of a free three-question test, replayed on the standby."""
    from tests.factories import PracticeTestFactory, UserFactory

    user = UserFactory()
    phone = device(user)
    started = phone.post(f"/api/v1/tests/{PracticeTestFactory(question_count=3).slug}/attempts")
    assert started.status_code == 201, started.content
    assert until(lambda: replayed(ports))
    return user, phone, started.json()


def answer(client, attempt: dict, question: int, option: str, seq: int):
    body = {"answers": [{"question_id": question, "option": option, "seq": seq}]}
    return client.post(f"/api/v1/attempts/{attempt['id']}/answers", body, format="json")


@on_replicas
def test_an_answer_read_straight_back_shows_with_the_standby_behind(learner_on_replicas):
    ports = learner_on_replicas
    user, phone, attempt = started_attempt(ports)
    question = attempt["paper"][0]["id"]
    sql(ports["standby"], "SELECT pg_wal_replay_pause()")

    saved = answer(phone, attempt, question, "B", 1)

    # the raw-SQL upsert pinned the learner: the cookie rides on the 200, and the read-back is the primary's
    assert saved.json() == {"saved": 1, "acknowledged_seq": 1}
    assert db_router.PIN_COOKIE in saved.cookies
    assert phone.get(f"/api/v1/attempts/{attempt['id']}").json()["answers"][str(question)]["option"] == "B"
    # while the standby lacks the row: the same read without the pin (another device) comes from it
    assert standby_count(ports, "SELECT count(*) FROM attempt_answers WHERE attempt_id = %s", attempt["id"]) == 0
    assert str(question) not in device(user).get(f"/api/v1/attempts/{attempt['id']}").json()["answers"]


@on_replicas
def test_a_resumed_attempt_keeps_the_stored_answer_for_a_seq_at_or_below_last_seq(learner_on_replicas):
    """What `make drill` counted as misses: its writer restarted seq at 1 on an attempt `start` resumed."""
    ports = learner_on_replicas
    user, phone, attempt = started_attempt(ports)
    question = attempt["paper"][0]["id"]
    assert answer(phone, attempt, question, "A", 1).status_code == 200
    assert until(lambda: replayed(ports))

    # the learner comes back later (no pin left), and start hands back the running attempt with its seq
    laptop = device(user)
    resumed = laptop.post(f"/api/v1/tests/{attempt['test']}/attempts").json()
    assert (resumed["id"], resumed["last_seq"]) == (attempt["id"], 1)

    # a client that starts its seq at 1 again sends a retry of seq 1: kept out, and the reply says so
    assert answer(laptop, resumed, question, "C", 1).json() == {"saved": 0, "acknowledged_seq": 1}
    assert laptop.get(f"/api/v1/attempts/{attempt['id']}").json()["answers"][str(question)]["option"] == "A"
    # one that continues above last_seq (docs/exam.md) is stored and read back
    assert answer(laptop, resumed, question, "C", resumed["last_seq"] + 1).json()["saved"] == 1
    assert laptop.get(f"/api/v1/attempts/{attempt['id']}").json()["answers"][str(question)]["option"] == "C"


@on_replicas
def test_an_attempt_cache_filled_while_the_standby_lags_a_submit_holds_the_submitted_row(learner_on_replicas):
    from courses import caches

    ports = learner_on_replicas
    user, phone, attempt = started_attempt(ports)
    sql(ports["standby"], "SELECT pg_wal_replay_pause()")
    assert phone.post(f"/api/v1/attempts/{attempt['id']}/submit").status_code == 200
    assert (
        standby_count(
            ports, "SELECT count(*) FROM test_attempts WHERE id = %s AND status = 'IN_PROGRESS'", attempt["id"]
        )
        == 1
    )

    # a second device (no pin) reads the attempt right after the submit dropped it from Redis: a cache fill
    device(user).get(f"/api/v1/attempts/{attempt['id']}")

    # then once the standby has caught up, the learner's result shows (a fill from the standby would have
    # kept the running row in Redis for ATTEMPT_TIMEOUT: 409 attempt_running for half an hour)
    sql(ports["standby"], "SELECT pg_wal_replay_resume()")
    assert until(lambda: replayed(ports))
    assert device(user).get(f"/api/v1/attempts/{attempt['id']}/result").status_code == 200
    cached = caches.cache.get(caches.attempt_key(attempt["id"]))  # nothing current: none, or an older version's
    assert cached is None or cached["version"] != caches.cache.get(caches.attempt_version_key(attempt["id"]))
