"""Cerebrum's load: learners with sessions, anonymous visitors, free-test visitors, an exam storm, a bare ceiling.

Driven by bench/run.sh (headless). BENCH_DATA names the JSON written by bench/prepare.py (sessions,
slugs, paper question ids). BENCH_THINK=0 removes think time (capacity phase); otherwise a learner
waits 5-15 s (mean 10 s) between actions. Every response's X-SQL-Queries and X-Cache headers are
tallied per endpoint and written to BENCH_EXTRA_OUT when the run ends.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import gevent
from locust import FastHttpUser, between, constant, events, task
from locust.runners import WorkerRunner


def _load(variable: str, default):
    return json.loads(Path(os.environ[variable]).read_text()) if os.environ.get(variable) else default


DATA = _load("BENCH_DATA", {"users": []})
STORM = _load("BENCH_STORM", None)
THINK = float(os.environ.get("BENCH_THINK", "10"))
STORM_ANSWERS = int(os.environ.get("BENCH_STORM_ANSWERS", "10"))
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "1"))
# Seconds from the start before anything counts (ramp-up plus settling); bench/run.sh takes the
# server-side "before" snapshot at the same moment.
RESET_AFTER = float(os.environ.get("BENCH_RESET_AFTER", "0"))
ATTEMPT_PATH = re.compile(r"/attempts/(\d+)/")
SESSION_COOKIE = re.compile(r"sessionid=([a-z0-9]+)")


def think():
    return between(THINK / 2, THINK * 1.5) if THINK else constant(0)


# --- per-endpoint SQL and cache tallies ------------------------------------------------------------

_tally: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))


@events.request.add_listener
def _count_headers(request_type, name, response, exception, **kwargs):
    if response is None or not getattr(response, "headers", None):
        return
    row = _tally[f"{request_type} {name}"]
    queries = response.headers.get("X-SQL-Queries")
    if queries is not None:
        row["sql_responses"] += 1
        row["sql_queries"] += int(queries)
        row["sql_max"] = max(row["sql_max"], int(queries))
    outcome = response.headers.get("X-Cache")
    if outcome:
        row[f"cache_{outcome.lower()}"] += 1
    if 500 <= (response.status_code or 0) < 600:
        row["status_5xx"] += 1


@events.test_start.add_listener
def _count_from_reset_after(environment, **kwargs):
    if RESET_AFTER and not isinstance(environment.runner, WorkerRunner):
        gevent.spawn_later(RESET_AFTER, _reset, environment)


_generator = {"cpu": time.process_time(), "wall": time.time()}


def _reset(environment) -> None:
    environment.runner.stats.reset_all()
    _tally.clear()
    _generator.update(cpu=time.process_time(), wall=time.time())


@events.report_to_master.add_listener
def _send_tally(client_id, data):
    data["tally"] = {name: dict(row) for name, row in _tally.items()}
    _tally.clear()


@events.worker_report.add_listener
def _merge_tally(client_id, data):
    for name, row in data.get("tally", {}).items():
        for key, value in row.items():
            if key == "sql_max":
                _tally[name][key] = max(_tally[name][key], value)
            else:
                _tally[name][key] += value


@events.quitting.add_listener
def _write_tally(environment, **kwargs):
    target = os.environ.get("BENCH_EXTRA_OUT")
    if target and not environment.parsed_options.worker:
        tally = {name: dict(row) for name, row in _tally.items()}
        # This process's own CPU while counting (one Locust process; with --processes the workers' is missed).
        wall = max(time.time() - _generator["wall"], 1e-9)
        tally["_generator"] = {"cores": round((time.process_time() - _generator["cpu"]) / wall, 2)}
        with open(target, "w") as out:
            json.dump(tally, out)


# --- who is who ----------------------------------------------------------------------------------

_next_user = {"index": 0}


def _learner(environment) -> dict:
    """Each simulated learner gets its own seeded student (workers take interleaved slices)."""
    worker = getattr(environment.runner, "worker_index", 0) or 0
    index = _next_user["index"]
    _next_user["index"] += 1
    users = DATA["users"]
    return users[(worker + PROCESSES * index) % len(users)]


def _sign_in(user) -> None:
    """Use one of the sessions bench/prepare.py wrote (cookie + CSRF secret, as the browser would hold), with
    the page variant cookie its first page sets (cerebrum.http_cache: nginx shares pages per variant)."""
    user.me = _learner(user.environment)
    user._csrf = user.me["csrf"]
    cookie = f"sessionid={user.me['sessionid']}; csrftoken={user._csrf}; cerebrum_view=student"
    user._headers = {"Cookie": cookie, "X-CSRFToken": user._csrf}


class CerebrumUser(FastHttpUser):
    abstract = True
    wait_time = think()
    connection_timeout = 30.0
    network_timeout = 30.0

    exhausted: set
    etags: dict

    def on_start(self) -> None:
        self.exhausted = set()
        self.etags = {}
        # Redirects are data here (start answers 302 to the exam page). Disabled on the client itself:
        # locust 2.41's allow_redirects=False on FastHttpUser is broken (a misspelt attribute).
        self.client.client.redirect_response_codes = frozenset()

    def free_test(self) -> dict:
        """A free test this learner may still start (all used up: any, and the refusal is the answer)."""
        open_tests = [test for test in DATA["free_tests"] if test["slug"] not in self.exhausted]
        return random.choice(open_tests or DATA["free_tests"])

    def headers(self, **extra) -> dict:
        return {**getattr(self, "_headers", {}), **extra}

    def page(self, path: str, name: str | None = None):
        return self.client.get(path, headers=self.headers(), name=name or path)

    def personal_json(self, path: str, name: str) -> None:
        """As static/js/page_state.js on a shared page: the learner's own JSON with the ETag it holds."""
        held = self.etags.get(path)
        with self.client.get(
            path, headers=self.headers(**({"If-None-Match": held} if held else {})), name=name, catch_response=True
        ) as response:
            if response.status_code in (200, 304):
                self.etags[path] = response.headers.get("ETag") or held
                response.success()

    def form_post(self, path: str, data: dict, name: str, **extra):
        body = {"csrfmiddlewaretoken": self._csrf, **data}
        return self.client.post(path, data=body, headers=self.headers(**extra), name=name)

    def take_test(self, slug: str, questions: list[int], answers: int, prefix: str) -> None:
        """Start (302 to the exam page), load the paper, answer like attempt.js does, submit, see the result."""
        with self.client.post(
            f"/tests/{slug}/start/",
            data={"csrfmiddlewaretoken": self._csrf},
            headers=self.headers(),
            name=f"{prefix} start",
            catch_response=True,
        ) as started:
            if started.headers is None:  # no answer at all (connection refused or closed, client timeout)
                started.failure(f"start got no response: {started.error}")
                return
            location = started.headers.get("Location", "") or ""
            match = ATTEMPT_PATH.search(location)
            if started.status_code == 302 and location.rstrip("/").endswith(f"/tests/{slug}"):
                # A refusal shown on the test page: this learner used all attempts of the test (closed-loop
                # learners get there in the capacity phase). The right answer; the next pick avoids it.
                started.success()
                self.exhausted.add(slug)
                return
            if started.status_code != 302 or not match:
                started.failure(f"start answered {started.status_code}")
                return
            started.success()
        attempt = match.group(1)
        self.page(f"/attempts/{attempt}/", name=f"{prefix} exam page")
        # As attempt.js: one JSON batch per Save & Next, with the attempt's increasing seq (docs/exam.md).
        for seq, question in enumerate(random.sample(questions, min(answers, len(questions))), start=1):
            item = {"question_id": question, "option": random.choice("ABCD"), "seq": seq, "time_spent_seconds": 20}
            self.client.post(
                f"/attempts/{attempt}/answer/",
                json={"answers": [{**item, "marked_for_review": False}]},
                headers=self.headers(Accept="application/json"),
                name=f"{prefix} answer",
            )
            if THINK:
                self._sleep(random.uniform(1, 3))
        self.form_post(f"/attempts/{attempt}/submit/", {"confirm": "1"}, name=f"{prefix} submit")  # "Yes, submit"
        self.page(f"/attempts/{attempt}/result/", name=f"{prefix} result")

    def _sleep(self, seconds: float) -> None:
        import gevent

        gevent.sleep(seconds)


class Student(CerebrumUser):
    """A signed-in learner: dashboard, catalog, notes, tests, leaderboards, practice tests, events."""

    weight = 70

    def on_start(self) -> None:
        super().on_start()
        _sign_in(self)
        # Signing in lands on the dashboard (LOGIN_REDIRECT_URL): a learner's visit starts there, so the
        # first build of each learner's dashboard falls in the ramp, as it does when they arrive.
        self.dashboard()

    @task(6)
    def dashboard(self):
        self.page("/dashboard/")

    @task(3)
    def catalog(self):
        self.page("/courses/", name="/courses/ (signed in)")

    @task(2)
    def course(self):
        self.page(f"/courses/{random.choice(DATA['courses'])}/", name="/courses/<slug>/ (signed in)")
        self.personal_json("/api/v1/me/page-state", name="/api/v1/me/page-state")

    @task(3)
    def note(self):
        self.page(f"/notes/read/{random.choice(DATA['notes'])}/", name="/notes/read/<slug>/ (signed in)")

    @task(2)
    def tests(self):
        self.page("/tests/", name="/tests/ (signed in)")

    @task(2)
    def test_leaderboard(self):
        slug = random.choice(DATA["free_tests"])["slug"]
        self.page(f"/tests/{slug}/leaderboard/", name="/tests/<slug>/leaderboard/")
        self.personal_json(f"/api/v1/tests/{slug}/leaderboard/me", name="/api/v1/tests/<slug>/leaderboard/me")

    @task(1)
    def topic_leaderboard(self):
        topic = random.choice(DATA["topics"])
        self.page(f"/leaderboards/topics/{topic}/", name="/leaderboards/topics/<topic>/")
        self.personal_json(f"/api/v1/leaderboards/topics/{topic}", name="/api/v1/leaderboards/topics/<topic>")

    @task(1)
    def practice(self):
        test = self.free_test()
        self.take_test(test["slug"], test["questions"], answers=5, prefix="practice")

    @task(3)
    def events(self):
        now = datetime.now(UTC).isoformat()
        batch = [
            {
                "event_id": str(uuid.uuid4()),
                "type": "PAGE_VIEW",
                "name": "page_view",
                "timestamp": now,
                "path": "/dashboard/",
            }
            for _ in range(5)
        ]
        self.client.post("/api/v1/events", json={"events": batch}, headers=self.headers(), name="/api/v1/events")

    @task(1)
    def api_dashboard(self):
        self.page("/api/v1/dashboard", name="/api/v1/dashboard")

    @task
    def login(self):
        # Rare on purpose: one Argon2 verification costs ~100 ms of CPU; a learner logs in once a session.
        if random.random() < 0.1:
            self.client.post(
                "/api/v1/auth/token",
                json={"username": self.me["email"], "password": DATA["password"]},
                name="/api/v1/auth/token (login)",
            )


class Visitor(CerebrumUser):
    """Anonymous: home, catalog, course pages, notes, the public API (page cache and HTTP caching)."""

    weight = 20

    def on_start(self) -> None:
        super().on_start()
        self._headers = {}

    @task(3)
    def home(self):
        self.page("/")

    @task(4)
    def catalog(self):
        self.page("/courses/")

    @task(3)
    def course(self):
        self.page(f"/courses/{random.choice(DATA['courses'])}/", name="/courses/<slug>/")

    @task(2)
    def notes(self):
        self.page("/notes/")

    @task(4)
    def note(self):
        self.page(f"/notes/read/{random.choice(DATA['notes'])}/", name="/notes/read/<slug>/")

    @task(2)
    def tests(self):
        self.page("/tests/")

    @task(1)
    def api_courses(self):
        self.page("/api/v1/courses", name="/api/v1/courses")


class FreeVisitor(CerebrumUser):
    """A visitor who leaves name and phone to take a free test (a lead), then takes it."""

    weight = 10

    def on_start(self) -> None:
        super().on_start()
        self._csrf = uuid.uuid4().hex
        # The answer batch is a page POST (CSRF middleware): attempt.js sends the cookie's token as X-CSRFToken.
        self._headers = {"Cookie": f"csrftoken={self._csrf}", "X-CSRFToken": self._csrf}
        self.test = random.choice(DATA["free_tests"])
        self.page(f"/tests/{self.test['slug']}/", name="/tests/<slug>/ (free)")
        phone = f"9{random.randint(100000000, 999999999)}"
        response = self.form_post(
            f"/tests/{self.test['slug']}/start/", {"name": "Bench Visitor", "phone": phone}, name="free start (lead)"
        )
        session = SESSION_COOKIE.search(response.headers.get("Set-Cookie", "") or "")
        if session:
            self._headers["Cookie"] += f"; sessionid={session.group(1)}"

    @task(4)
    def note(self):
        self.page(f"/notes/read/{random.choice(DATA['notes'])}/", name="/notes/read/<slug>/ (free user)")

    @task(1)
    def free_attempt(self):
        test = self.free_test()
        self.take_test(test["slug"], test["questions"], answers=5, prefix="free")


class ExamStudent(CerebrumUser):
    """The storm: every learner presses Start on the same scheduled exam, answers, submits, and is done."""

    weight = 1
    wait_time = constant(0)

    def on_start(self) -> None:
        super().on_start()
        _sign_in(self)

    @task
    def sit_the_exam(self):
        self.take_test(STORM["slug"], STORM["questions"], answers=STORM_ANSWERS, prefix="exam")
        self._sleep(3600)  # done: stay connected but idle until the phase ends


class HotDashboard(CerebrumUser):
    """Profiling aid (BENCH_PHASES=hot BENCH_PYSPY=hot): signed-in learners reloading the dashboard, no think time."""

    weight = 1
    wait_time = constant(0)

    def on_start(self) -> None:
        super().on_start()
        _sign_in(self)

    @task
    def dashboard(self):
        self.page("/dashboard/")


class BareCeiling(FastHttpUser):
    """The cheapest Django response through the same stack: the ceiling the mix is compared with."""

    weight = 1
    wait_time = constant(0)

    @task
    def bare(self):
        self.client.get("/bench/bare", name="/bench/bare")
