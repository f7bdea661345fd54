"""CPU milliseconds, SQL statements and Redis round trips per request of the exam flow and the API path.

    .venv/bin/python bench/cost.py [--learners N] [--rounds R] [--profile NAME] [--without MIDDLEWARE,...]

Django's whole middleware stack through django.test.Client (no HTTP, no gunicorn), production settings,
PostgreSQL and Redis. Each operation runs once per learner per round, as a real client makes it: a start
by each of N learners, their exam page, an answer, a submit, the result page it redirects to; between
rounds (outside the clock) the attempts are deleted so the next round starts afresh. The number per
operation is the median over the rounds of (process CPU time of the round ÷ N): `time.process_time`
counts this process only, so PostgreSQL's and Redis's own CPU is not in it, which is what a gunicorn
worker pays. SQL statements are counted with Django's CaptureQueriesContext, Redis round trips by
wrapping redis-py (a pipeline is one), session-store reads and writes by wrapping the session backend.

Database: COST_DB (default cerebrum_h7cost) seeded with `seed_demo --size small`; learners beyond the
seed's are created as cost-N@learners.cerebrum.test. Redis: COST_REDIS (default redis://127.0.0.1:6397/0,
a private `redis-server --port 6397 --save "" --daemonize yes`, since the script flushes it) and
COST_BROKER (its db 1; nothing consumes the tasks). `--live` takes the storm's live mock (opened now, as
bench/prepare.py storm does) instead of a free test. `--without` drops middleware classes (dotted paths
or class names) to see what each costs; `--profile NAME` prints cProfile's top functions for one
operation (PROFILE_SORT, PROFILE_LINES); COST_SQL=NAME prints one learner's SQL for an operation.
The `calls` column (Python and C function calls per request, counted in one extra round) does not
move with the machine's load, unlike CPU time: compare it between trees when the box is busy.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cerebrum.settings.production")
os.environ.setdefault(
    "DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{os.environ.get('COST_DB', 'cerebrum_h7cost')}"
)
os.environ.setdefault("REDIS_URL", os.environ.get("COST_REDIS", "redis://127.0.0.1:6397/0"))
os.environ.setdefault("CELERY_BROKER_URL", os.environ.get("COST_BROKER", "redis://127.0.0.1:6397/1"))
os.environ.setdefault("DJANGO_SECRET_KEY", "cost-" + "x" * 50)
for secret in ("RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"):
    os.environ.setdefault(secret, f"cost-{secret.lower()}-" + "x" * 20)
os.environ.setdefault("RAZORPAY_KEY_ID", "rzp_test_cost")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("BENCH_MODE", "1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "0")
for throttle in ("THROTTLE_ANON", "THROTTLE_USER", "THROTTLE_AUTH"):  # as bench/run.sh: one client address
    os.environ.setdefault(throttle, "1000000/min")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/cerebrum-cost-prometheus")
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.sessions.backends import cached_db  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402
from courses import caches, services  # noqa: E402
from courses.models import PracticeTest, TestAttempt  # noqa: E402

BACKEND = "accounts.backends.EmailOrPhoneBackend"
CSRF_SECRET = "c" * 32  # a CSRF cookie secret; the header may carry it unmasked (Django accepts both forms)


class Response:
    def __init__(self, status: str, headers: list, body: bytes):
        self.status_code = int(status.split(" ", 1)[0])
        self.headers = dict(headers)
        self.content = body

    def __getitem__(self, name: str) -> str:
        return self.headers[name]


class Browser:
    """One learner's requests straight into Django's WSGI handler, as gunicorn calls it: the whole
    middleware stack, request_started/finished (connections back to the pool), no test-client extras."""

    handler = None

    def __init__(self, cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None):
        if Browser.handler is None:
            Browser.handler = WSGIHandler()
        self.cookies = {"csrftoken": CSRF_SECRET, **(cookies or {})}
        self.headers = headers or {}

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data=None, content_type: str = "application/x-www-form-urlencoded", headers=None):
        body = json.dumps(data).encode() if content_type == "application/json" else urlencode(data or {}).encode()
        return self.request("POST", path, body=body, content_type=content_type, headers=headers)

    def request(self, method: str, path: str, body: bytes = b"", content_type: str = "", headers=None) -> Response:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "testserver",
            "HTTP_X_FORWARDED_FOR": "127.0.0.1",
            "HTTP_COOKIE": "; ".join(f"{name}={value}" for name, value in self.cookies.items()),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        if body:
            environ.update(CONTENT_LENGTH=str(len(body)), CONTENT_TYPE=content_type)
        if method == "POST":
            environ["HTTP_X_CSRFTOKEN"] = CSRF_SECRET
        for name, value in {**self.headers, **(headers or {})}.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        started = {}
        result = self.handler(environ, lambda status, headers, exc_info=None: started.update(s=status, h=headers))
        try:
            content = b"".join(result)
        finally:
            result.close()  # request_finished: what gunicorn does after sending
        return Response(started["s"], started["h"], content)


COUNTS = {"redis": 0, "session_reads": 0, "session_writes": 0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--without", default="")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--live", action="store_true", help="the storm's live mock, opened now, instead of a free test")
    args = parser.parse_args()
    if args.without:
        dropped = {name.strip() for name in args.without.split(",") if name.strip()}
        for name in ("MIDDLEWARE", "API_MIDDLEWARE"):
            kept = [m for m in getattr(settings, name) if m not in dropped and m.rsplit(".", 1)[1] not in dropped]
            setattr(settings, name, kept)
    _count_redis_and_sessions()
    cache.clear()
    rows = _run(args.learners, args.rounds, args.profile, live=args.live)
    if args.json:
        print(json.dumps({"learners": args.learners, "rounds": args.rounds, "without": args.without, "ops": rows}))
        return
    print(f"{'operation':32} {'CPU-ms':>7} {'calls':>6} {'SQL':>5} {'Redis':>5} {'sess r/w':>8}  status  rounds")
    for row in rows:
        sessions = f"{row['session_reads']:g}/{row['session_writes']:g}"
        print(
            f"{row['op']:32} {row['cpu_ms']:7.2f} {row['calls']:6} {row['sql']:5g} {row['redis']:5g} {sessions:>8}  {row['status']:6}  "
            + " ".join(f"{value:.2f}" for value in row["rounds"])
        )


def _run(learners: int, rounds: int, profile: str | None, live: bool = False) -> list[dict]:
    test = _live_test() if live else _free_test()
    users = _learners(learners)
    question = caches.paper_get(test)["questions"][0]["id"]
    clients = [_client(user) for user in users]
    jwt = [Browser(cookies={}, headers={"authorization": f"Bearer {AccessToken.for_user(user)}"}) for user in users]
    for index in range(learners):  # warm: templates compiled, session users cached, schema built
        clients[index].get("/tests/")
        jwt[index].get("/api/v1/tests")
    attempts: dict[int, str] = {}

    def start(i: int):
        response = clients[i].post(f"/tests/{test.slug}/start/")
        attempts[i] = response["Location"].rstrip("/").split("/")[-1]
        return response

    def answer(i: int):  # as attempt.js sends a Save & Next: a JSON batch with its seq
        body = {"answers": [{"question_id": question, "option": "B", "seq": 1, "time_spent_seconds": 20}]}
        headers = {"accept": "application/json"}
        return clients[i].post(
            f"/attempts/{attempts[i]}/answer/", body, content_type="application/json", headers=headers
        )

    def events(i: int, client_list):
        now = datetime.now(UTC).isoformat()
        batch = [
            {"event_id": str(uuid.uuid4()), "type": "PAGE_VIEW", "name": "page_view", "timestamp": now, "path": "/"}
            for _ in range(5)
        ]
        return client_list[i].post("/api/v1/events", {"events": batch}, content_type="application/json")

    ops = [
        ("bare view", lambda i: clients[i].get("/bench/bare")),
        ("API GET tests (JWT)", lambda i: jwt[i].get("/api/v1/tests")),
        ("API GET dashboard (JWT)", lambda i: jwt[i].get("/api/v1/dashboard")),
        ("API GET dashboard (session)", lambda i: clients[i].get("/api/v1/dashboard")),
        ("event batch of 5 (session)", lambda i: events(i, clients)),
        ("event batch of 5 (JWT)", lambda i: events(i, jwt)),
        ("exam start", start),
        ("exam page", lambda i: clients[i].get(f"/attempts/{attempts[i]}/")),
        ("exam answer", answer),
        ("exam submit", lambda i: clients[i].post(f"/attempts/{attempts[i]}/submit/", {"confirm": "1"})),
        ("exam result", lambda i: clients[i].get(f"/attempts/{attempts[i]}/result/")),
    ]
    samples: dict[str, list[float]] = {name: [] for name, _ in ops}
    counts: dict[str, dict] = {}
    profiler = cProfile.Profile(time.process_time) if profile else None
    calls: dict[str, float] = {}
    for round_number in range(rounds + 1):  # the last round counts function calls instead of timing
        counting = round_number == rounds
        TestAttempt.objects.filter(test=test, user__in=users).delete()
        for i in range(learners):  # the dashboards the deletes dropped, rebuilt outside the clock
            clients[i].get("/api/v1/dashboard")
        for name, step in ops:
            before = dict(COUNTS)
            with CaptureQueriesContext(connection) as queries:
                if profiler and name == profile and not counting:
                    profiler.enable()
                CALLS[0] = 0
                if counting:
                    sys.setprofile(_count_call)
                started = time.process_time()
                for i in range(learners):
                    response = step(i)
                    if response.status_code >= 400:
                        sys.setprofile(None)
                        raise SystemExit(f"{name}: {response.status_code} {response.content[:300]!r}")
                elapsed = time.process_time() - started
                sys.setprofile(None)
                if profiler and name == profile:
                    profiler.disable()
            if counting:
                calls[name] = CALLS[0] / learners
                continue
            samples[name].append(elapsed * 1000 / learners)
            if name == os.environ.get("COST_SQL"):
                for query in queries.captured_queries[: len(queries) // learners]:
                    print(f"  {query['sql'][:400]}", file=sys.stderr)
            counts[name] = {
                "status": response.status_code,
                "sql": round(len(queries) / learners, 2),
                **{key: round((COUNTS[key] - before[key]) / learners, 2) for key in COUNTS},
            }
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(
            int(os.environ.get("PROFILE_LINES", "40"))
        )
    return [
        {
            "op": name,
            "cpu_ms": round(statistics.median(samples[name]), 3),
            "calls": round(calls[name]),
            "rounds": [round(s, 2) for s in samples[name]],
            **counts[name],
        }
        for name, _ in ops
    ]


CALLS = [0]


def _count_call(frame, event, arg) -> None:
    """sys.setprofile hook: Python and C function calls, a measure of work that does not vary with load."""
    if event == "call" or event == "c_call":
        CALLS[0] += 1


def _count_redis_and_sessions() -> None:
    def counted(method, key):
        def wrapper(*args, **kwargs):
            COUNTS[key] += 1
            return method(*args, **kwargs)

        return wrapper

    redis.Redis.execute_command = counted(redis.Redis.execute_command, "redis")
    redis.client.Pipeline.execute = counted(redis.client.Pipeline.execute, "redis")
    cached_db.SessionStore.load = counted(cached_db.SessionStore.load, "session_reads")
    cached_db.SessionStore.save = counted(cached_db.SessionStore.save, "session_writes")


def _learners(count: int) -> list[User]:
    found = list(User.objects.filter(email__endswith="@learners.cerebrum.test").order_by("pk")[:count])
    for index in range(len(found), count):
        found.append(
            User.objects.create_user(email=f"cost-{index}@learners.cerebrum.test", password=None, name=f"Cost {index}")
        )
    return found


def _client(user: User) -> Browser:
    client = Client()  # only to make a signed-in session, as a login does
    client.force_login(user, backend=BACKEND)
    return Browser(cookies={settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value})


def _live_test() -> PracticeTest:
    """The storm phase's live mock, opened as bench/prepare.py storm opens it (and its paper pre-warmed)."""
    test = PracticeTest.objects.get(slug="all-india-live-mock-1")
    PracticeTest.objects.filter(pk=test.pk).invalidated_update(
        scheduled_start=timezone.now() - timedelta(seconds=5), duration_minutes=180, course=None, max_attempts=3
    )
    services.papers_prewarm()
    return PracticeTest.objects.get(pk=test.pk)


def _free_test() -> PracticeTest:
    return PracticeTest.objects.filter(is_published=True, is_free=True, scheduled_start__isnull=True).order_by("pk")[0]


if __name__ == "__main__":
    main()
