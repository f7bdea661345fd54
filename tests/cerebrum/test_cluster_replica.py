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
