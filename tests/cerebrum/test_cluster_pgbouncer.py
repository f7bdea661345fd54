"""PgBouncer in transaction pooling mode with the suite's hot paths (issue 20 item 4).

A private PgBouncer (the Debian package, installed by `make services`) stands in front of the test
database with two server connections; a gunicorn live server, configured for it by the environment
only (DB_PGBOUNCER=1: no server-side cursors, no pool of its own), serves eight learners at once who
start, answer and submit a test and enroll in a course, each then reading their own data back. Eight
clients share two server connections transaction by transaction: session state would leak between them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from courses.models import AttemptAnswer, Enrollment
from courses.models import TestAttempt as Attempt
from tests.factories import CourseFactory, PracticeTestFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 8
SERVER_CONNECTIONS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up (exit {process.poll()})")


@pytest.fixture(scope="module")
def pgbouncer(django_db_setup, django_db_blocker):
    """PgBouncer (transaction pooling, 2 server connections) in front of the test database: its port."""
    settings_dict = connection.settings_dict
    directory = Path(tempfile.mkdtemp(prefix="cerebrum-pgbouncer-"))
    port = free_port()
    (directory / "userlist.txt").write_text('"postgres" ""\n')
    (directory / "pgbouncer.ini").write_text(
        f"[databases]\n{settings_dict['NAME']} = host={settings_dict['HOST'] or '127.0.0.1'} "
        f"port={settings_dict['PORT'] or 5432} dbname={settings_dict['NAME']}\n\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {directory}/userlist.txt\nadmin_users = postgres\n"
        f"pool_mode = transaction\ndefault_pool_size = {SERVER_CONNECTIONS}\nmax_client_conn = 200\n"
        f"ignore_startup_parameters = extra_float_digits\nlogfile = {directory}/pgbouncer.log\n"
    )
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        shutil.chown(directory, "postgres", "postgres")
        for path in directory.iterdir():
            shutil.chown(path, "postgres", "postgres")
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    process = subprocess.Popen([*prefix, "pgbouncer", str(directory / "pgbouncer.ini")], stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="pgbouncer").close()
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def live_server_through_pgbouncer(pgbouncer):
    """gunicorn on the test database through PgBouncer, configured by environment only: its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cerebrum.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pgbouncer}/{connection.settings_dict['NAME']}",
        "DB_PGBOUNCER": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "4",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gunicorn = [sys.executable, "-m", "gunicorn", "cerebrum.wsgi:application", "-c", "deploy/gunicorn.conf.py"]
    log = Path(tempfile.mkdtemp(prefix="cerebrum-pgbouncer-gunicorn-")) / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.Popen(gunicorn, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/ready", process)
        yield {"url": f"http://127.0.0.1:{port}", "log": log}
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(log.parent, ignore_errors=True)


def admin_console(port: int, command: str) -> list[dict]:
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="pgbouncer", autocommit=True) as conn:
        cursor = conn.cursor()
        cursor.execute(command, prepare=False)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def sit_test_and_enroll(server: dict, token: str, test, course) -> dict:
    """One learner's hot path over HTTP; every answer the server acknowledged, and what they read back."""
    base = server["url"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    started = session.post(f"{base}/api/v1/tests/{test.slug}/attempts", timeout=30)
    assert started.status_code == 201, server["log"].read_text()[-4000:]
    attempt = started.json()
    questions = [item["id"] for item in attempt["questions"]]
    answers = [{"question_id": qid, "option": "A", "seq": seq} for seq, qid in enumerate(questions, start=1)]
    saved = session.post(f"{base}/api/v1/attempts/{attempt['id']}/answers", json={"answers": answers}, timeout=30)
    submitted = session.post(f"{base}/api/v1/attempts/{attempt['id']}/submit", timeout=30)
    enrolled = session.post(f"{base}/api/v1/enrollments", json={"course": course.slug}, timeout=30)
    return {
        "attempt": attempt["id"],
        "statuses": [saved.status_code, submitted.status_code, enrolled.status_code],
        "acknowledged_seq": saved.json().get("acknowledged_seq"),
        "score": submitted.json().get("score"),
        "result": session.get(f"{base}/api/v1/attempts/{attempt['id']}/result", timeout=30).status_code,
        "own_enrollments": [
            row["course"]["slug"] for row in session.get(f"{base}/api/v1/enrollments").json()["results"]
        ],
    }


@pytest.mark.django_db(transaction=True)
def test_hot_paths_through_pgbouncer_transaction_pooling(pgbouncer, live_server_through_pgbouncer):
    # given eight learners, a three-question test (key: A) and a course
    tokens = [str(RefreshToken.for_user(user).access_token) for user in UserFactory.create_batch(LEARNERS)]
    test = PracticeTestFactory(question_count=3)
    course = CourseFactory()

    # when they all sit the test and enroll at once through PgBouncer
    with ThreadPoolExecutor(LEARNERS) as pool:
        outcomes = list(
            pool.map(lambda token: sit_test_and_enroll(live_server_through_pgbouncer, token, test, course), tokens)
        )

    # then every request succeeded and each learner reads their own writes back
    assert [outcome["statuses"] for outcome in outcomes] == [[200, 200, 201]] * LEARNERS
    assert {(o["acknowledged_seq"], o["score"], o["result"]) for o in outcomes} == {(3, 12, 200)}
    assert all(outcome["own_enrollments"] == [course.slug] for outcome in outcomes)
    # and the database holds exactly what was acknowledged
    attempts = [outcome["attempt"] for outcome in outcomes]
    assert AttemptAnswer.objects.filter(attempt_id__in=attempts, option="A").count() == 3 * LEARNERS
    assert Attempt.objects.filter(pk__in=attempts, status=Attempt.Status.SUBMITTED).count() == LEARNERS
    assert Enrollment.objects.filter(course=course).count() == LEARNERS
    # and it really went through PgBouncer's transaction pooling, many clients on two server connections
    pools = [
        row for row in admin_console(pgbouncer, "SHOW POOLS") if row["database"] == connection.settings_dict["NAME"]
    ]
    assert [row["pool_mode"] for row in pools] == ["transaction"]
    assert pools[0]["sv_active"] + pools[0]["sv_idle"] + pools[0]["sv_used"] <= SERVER_CONNECTIONS
    stats = [
        row for row in admin_console(pgbouncer, "SHOW STATS") if row["database"] == connection.settings_dict["NAME"]
    ]
    assert stats[0]["total_xact_count"] >= 5 * LEARNERS
