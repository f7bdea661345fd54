"""The embedded default holds a classroom, and staff edits show at once (issue 14 item 9).

`make run`'s shape in a subprocess: SQLite (a temp file), no Redis, tasks inline, `runserver` (threaded),
seeded with `seed_demo --size small`. Six learners use the site at once for a while: sign in, "Enroll now"
on the course page, and the API (enroll, dashboard, start a free test, answer, submit). Before, SQLite
answered "database is locked" (21 500s in 20 s for six learners); now there are none.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.cerebrum.admin_forms import admin_form_data

# Under pytest-xdist all of this module runs on one worker, so its server (module fixture) starts once.
pytestmark = pytest.mark.xdist_group("embedded_sqlite_server")
ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 6
SECONDS = 15
PASSWORD = "cerebrum-demo"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory):
    """`make run` on a fresh SQLite file: migrate, seed, runserver; yields the base URL."""
    tmp = tmp_path_factory.mktemp("embedded")
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV")
    env = {key: value for key, value in os.environ.items() if key in keep}
    # The embedded settings as they are, but static files without collectstatic's manifest (make run collects
    # into the checkout's staticfiles/, which this test leaves alone).
    (tmp / "embedded_settings.py").write_text(
        "from cerebrum.settings.base import *  # noqa: F403\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "  # noqa: F405
        "'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
    )
    env.update(
        DJANGO_SETTINGS_MODULE="embedded_settings",
        PYTHONPATH=f"{tmp}{os.pathsep}{ROOT}",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
    )
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo", "--size", "small"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-2000:]
    port = _free_port()
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nostatic"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if requests.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)
    yield {"url": base, "log": tmp / "server.log", "env": env}
    server.terminate()
    server.wait(timeout=20)
    log.close()


class Learner(threading.Thread):
    """One learner's session: the enroll page once, then the API in a loop until `deadline`."""

    def __init__(self, base: str, number: int, deadline: float, statuses: Counter):
        super().__init__()
        self.base, self.number, self.deadline, self.statuses = base, number, deadline, statuses
        self.web = requests.Session()
        self.api = requests.Session()

    def run(self) -> None:
        try:
            self._work()
        except Exception as error:  # a broken page or body shape is a failure of this test too
            self.statuses[f"{type(error).__name__}: {error}"[:200]] += 1

    def _work(self) -> None:
        email = f"learner{self.number:05d}@learners.cerebrum.test"
        self._page_enroll(email)
        token = self._call("post", "/api/v1/auth/token", json={"username": email, "password": PASSWORD})
        self.api.headers["Authorization"] = f"Bearer {token.json()['access']}"
        courses = [c["slug"] for c in self._call("get", "/api/v1/courses").json()["results"]]
        tests = [t["slug"] for t in self._call("get", "/api/v1/tests").json()["results"] if t.get("is_free")]
        turn = 0
        while time.monotonic() < self.deadline:
            self._call("post", "/api/v1/enrollments", json={"course": courses[turn % len(courses)]})
            self._call("get", "/api/v1/enrollments")
            self._call("get", "/api/v1/dashboard")
            self._take_test(tests[(self.number + turn) % len(tests)])
            turn += 1

    def _page_enroll(self, email: str) -> None:
        self.web.get(f"{self.base}/accounts/login/")
        csrf = {"csrfmiddlewaretoken": self.web.cookies["csrftoken"]}
        self._record(self.web.post(f"{self.base}/accounts/login/", {"username": email, "password": PASSWORD, **csrf}))
        catalog = self.web.get(f"{self.base}/courses/").text
        slug = sorted(set(re.findall(r'href="/courses/([\w-]+)/"', catalog)))[self.number % 3]
        headers = {"Referer": f"{self.base}/courses/{slug}/"}
        csrf = {"csrfmiddlewaretoken": self.web.cookies["csrftoken"]}
        self._record(self.web.post(f"{self.base}/courses/{slug}/enroll/", csrf, headers=headers))

    def _take_test(self, slug: str) -> None:
        started = self._call("post", f"/api/v1/tests/{slug}/attempts")
        if started.status_code != 201:
            return
        attempt = started.json()
        self._call("get", f"/api/v1/attempts/{attempt['id']}")
        self._call("post", f"/api/v1/attempts/{attempt['id']}/submit", json={})

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        response = getattr(self.api, method)(f"{self.base}{path}", timeout=60, **kwargs)
        self._record(response)
        return response

    def _record(self, response: requests.Response) -> None:
        self.statuses[response.status_code] += 1


def test_six_concurrent_learners_on_the_embedded_sqlite_get_no_errors(embedded_server):
    statuses: Counter = Counter()
    deadline = time.monotonic() + SECONDS
    learners = [Learner(embedded_server["url"], number, deadline, statuses) for number in range(1, LEARNERS + 1)]

    for learner in learners:
        learner.start()
    for learner in learners:
        learner.join(timeout=SECONDS + 120)

    log = embedded_server["log"].read_text()
    errors = {status: count for status, count in statuses.items() if not isinstance(status, int) or status >= 500}
    assert errors == {}, (statuses, log[-3000:])
    assert "database is locked" not in log
    assert sum(statuses.values()) > LEARNERS * 10  # they really worked the site
    assert statuses[201] > 0  # enrollments and attempts were created


def test_embedded_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_immediate_writes(embedded_server):
    probe = (
        "import django, json; django.setup(); from django.db import connection as c; cur = c.cursor();"
        "print(json.dumps([cur.execute('PRAGMA journal_mode').fetchone()[0],"
        " cur.execute('PRAGMA busy_timeout').fetchone()[0], c.transaction_mode]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=embedded_server["env"], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '["wal", 20000, "IMMEDIATE"]'


def test_an_answer_saves_on_the_embedded_sqlite(embedded_server):
    base, api = embedded_server["url"], requests.Session()
    login = {"username": "learner00010@learners.cerebrum.test", "password": PASSWORD}
    api.headers["Authorization"] = f"Bearer {api.post(f'{base}/api/v1/auth/token', json=login).json()['access']}"
    test = next(t for t in api.get(f"{base}/api/v1/tests").json()["results"] if t.get("is_free"))
    attempt = api.post(f"{base}/api/v1/tests/{test['slug']}/attempts").json()
    question = attempt["paper"][0]["id"]

    response = api.post(
        f"{base}/api/v1/attempts/{attempt['id']}/answers",
        json={"answers": [{"question_id": question, "option": "A", "seq": 1}]},
    )

    assert response.status_code == 200
    assert response.json() == {"saved": 1, "acknowledged_seq": 1}
    stale = api.post(
        f"{base}/api/v1/attempts/{attempt['id']}/answers",
        json={"answers": [{"question_id": question, "option": "B", "seq": 1}]},
    )
    assert stale.json() == {"saved": 0, "acknowledged_seq": 1}  # an equal seq is a retry: A stays
    submitted = api.post(f"{base}/api/v1/attempts/{attempt['id']}/submit")
    assert submitted.status_code == 200, submitted.text
    late = api.post(
        f"{base}/api/v1/attempts/{attempt['id']}/answers",
        json={"answers": [{"question_id": question, "option": "C", "seq": 2}]},
    )
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "attempt_closed"


# --- Staff edits show at once on the embedded default (local-memory cache, cacheops off) -----------


def _signed_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/accounts/login/")
    form = {"username": email, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]}
    assert session.post(f"{base}/accounts/login/", form).status_code in (200, 302)
    return session


def _admin_save(base: str, test_id: int, **changes: str) -> None:
    staff = _signed_in(base, "staff@cerebrum.test")
    url = f"{base}/admin/courses/practicetest/{test_id}/change/"
    saved = staff.post(url, admin_form_data(staff.get(url).text, **changes), allow_redirects=False)
    assert saved.status_code == 302, saved.text[:3000]


def _api(base: str, email: str) -> requests.Session:
    api = requests.Session()
    token = api.post(f"{base}/api/v1/auth/token", json={"username": email, "password": PASSWORD}).json()
    api.headers["Authorization"] = f"Bearer {token['access']}"
    return api


def test_a_duration_changed_in_the_admin_shows_to_learners_on_the_next_request(embedded_server):
    base = embedded_server["url"]
    learner = _signed_in(base, "learner00020@learners.cerebrum.test")
    api = _api(base, "learner00020@learners.cerebrum.test")
    test = next(t for t in api.get(f"{base}/api/v1/tests").json()["results"] if not t["scheduled_start"])
    old, new = test["duration_minutes"], test["duration_minutes"] + 17
    for _ in range(2):  # cached now: the page, the content entry behind the API
        assert f"{old} minutes" in learner.get(f"{base}/tests/{test['slug']}/").text
        assert api.get(f"{base}/api/v1/tests/{test['slug']}").json()["duration_minutes"] == old

    _admin_save(base, test["id"], duration_minutes=str(new))

    assert f"{new} minutes" in learner.get(f"{base}/tests/{test['slug']}/").text
    assert api.get(f"{base}/api/v1/tests/{test['slug']}").json()["duration_minutes"] == new


def test_a_live_mock_moved_earlier_accepts_start_at_its_new_time_on_the_embedded_default(embedded_server):
    base = embedded_server["url"]
    api = _api(base, "learner00021@learners.cerebrum.test")
    mock = next(t for t in api.get(f"{base}/api/v1/tests").json()["results"] if t["scheduled_start"])
    refused = api.post(f"{base}/api/v1/tests/{mock['slug']}/attempts")
    assert refused.json()["error"]["code"] == "not_started"

    moved = datetime.now(ZoneInfo("Asia/Kolkata")) - timedelta(minutes=2)
    _admin_save(
        base, mock["id"], scheduled_start_0=moved.strftime("%Y-%m-%d"), scheduled_start_1=moved.strftime("%H:%M:%S")
    )

    assert api.post(f"{base}/api/v1/tests/{mock['slug']}/attempts").status_code == 201
