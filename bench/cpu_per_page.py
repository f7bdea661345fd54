"""CPU milliseconds per request of the hot pages and exam requests, in process, without HTTP.

    .venv/bin/python bench/cpu_per_page.py [REQUESTS] [--profile NAME]

Runs Django's full middleware stack (django.test.Client) with the production settings against the
benchmark database (BENCH_DB, default cerebrum_bench, seeded by `make bench`) and a Redis database
(BENCH_PROFILE_REDIS, default redis://127.0.0.1:6379/3, flushed first). Pages are measured warm (the
same learner repeats the request); exam requests are measured once per learner, as a real exam
makes them, and so are a login and a learner's first dashboard of the day. `time.process_time` counts this process only: PostgreSQL's and Redis's own CPU is not
included, nor gunicorn's and nginx's share (bench/run.sh measures those). `--profile NAME` prints
cProfile's top functions for one row.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cerebrum.settings.production")
os.environ.setdefault(
    "DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{os.environ.get('BENCH_DB', 'cerebrum_bench')}"
)
os.environ.setdefault("REDIS_URL", os.environ.get("BENCH_PROFILE_REDIS", "redis://127.0.0.1:6379/3"))
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/4")
os.environ.setdefault("DJANGO_SECRET_KEY", "cpu-per-page-" + "x" * 40)
# Production refuses to start without gateway and webhook secrets; nothing here pays or receives webhooks.
for secret in ("RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"):
    os.environ.setdefault(secret, f"cpu-per-page-{secret.lower()}-" + "x" * 20)
os.environ.setdefault("RAZORPAY_KEY_ID", "rzp_test_cpu_per_page")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("BENCH_MODE", "1")
for throttle in ("THROTTLE_ANON", "THROTTLE_USER", "THROTTLE_AUTH"):  # as bench/run.sh: one client IP
    os.environ.setdefault(throttle, "1000000/min")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/cerebrum-cpu-per-page")
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from courses import caches  # noqa: E402
from courses.models import ChapterNote, Course, PracticeTest, TestAttempt  # noqa: E402
from demo.activity import DEMO_PASSWORD  # noqa: E402

BACKEND = "accounts.backends.EmailOrPhoneBackend"


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    requests = int(args[0]) if args else 200
    profile = sys.argv[sys.argv.index("--profile") + 1] if "--profile" in sys.argv else None
    cache.clear()
    rows = _pages(requests, profile) + _exam(min(requests, 100), profile)
    print(json.dumps({"requests": requests, "cpu_ms": rows}, indent=1))


def _pages(requests: int, profile: str | None) -> list[dict]:
    learner = _learners(1)[0]
    signed_in = _client(learner)
    visitor = Client()
    course = Course.objects.filter(is_active=True).first().slug
    note = ChapterNote.objects.filter(is_published=True).first().slug
    test = _free_test().slug
    pages = [
        ("bare Django view", visitor, "/bench/bare"),
        ("catalog (visitor)", visitor, "/courses/"),
        ("catalog (signed in)", signed_in, "/courses/"),
        ("course (signed in)", signed_in, f"/courses/{course}/"),
        ("note (signed in)", signed_in, f"/notes/read/{note}/"),
        ("tests (signed in)", signed_in, "/tests/"),
        ("dashboard", signed_in, "/dashboard/"),
        ("dashboard API", signed_in, "/api/v1/dashboard"),
        ("test leaderboard", signed_in, f"/tests/{test}/leaderboard/"),
    ]
    rows = []
    for name, client, url in pages:
        for _ in range(3):  # warm: caches filled, templates compiled
            client.get(url)
        rows.append(_measure(name, [lambda client=client, url=url: client.get(url)] * requests, profile))
    return rows


def _exam(learners: int, profile: str | None) -> list[dict]:
    test = _free_test()
    users = _learners(learners, offset=1)
    TestAttempt.objects.filter(test=test, user__in=users).delete()
    question = caches.paper_get(test)["questions"][0]["id"]
    clients = [_client(user) for user in users]
    for client in clients:
        client.get("/courses/")  # the session and its user are warm, as mid-session
    attempts: dict[int, str] = {}

    def start(index: int):
        response = clients[index].post(f"/tests/{test.slug}/start/")
        attempts[index] = response["Location"].rstrip("/").split("/")[-1]
        return response

    def events(index: int):
        now = datetime.now(UTC).isoformat()
        batch = [
            {"event_id": str(uuid.uuid4()), "type": "PAGE_VIEW", "name": "page_view", "timestamp": now, "path": "/"}
            for _ in range(5)
        ]
        return clients[index].post("/api/v1/events", {"events": batch}, content_type="application/json")

    anonymous = Client()  # one client: a new one loads the middleware again (WhiteNoise scans static/)

    def login(index: int):
        credentials = {"username": users[index].email, "password": DEMO_PASSWORD}
        return anonymous.post("/api/v1/auth/token", credentials, content_type="application/json")

    steps = [
        ("login (API token)", login),
        ("dashboard (first visit)", lambda i: clients[i].get("/dashboard/")),
        ("dashboard API (first visit)", lambda i: clients[i].get("/api/v1/dashboard")),
        ("event batch (5)", events),
        ("exam start", start),
        ("exam page", lambda i: clients[i].get(f"/attempts/{attempts[i]}/")),
        (
            "exam answer",
            lambda i: clients[i].post(  # as attempt.js sends a Save & Next: a JSON batch with its seq
                f"/attempts/{attempts[i]}/answer/",
                {"answers": [{"question_id": question, "option": "B", "seq": 1, "time_spent_seconds": 20}]},
                content_type="application/json",
                headers={"accept": "application/json"},
            ),
        ),
        ("exam submit", lambda i: clients[i].post(f"/attempts/{attempts[i]}/submit/", {"confirm": "1"})),
        ("exam result", lambda i: clients[i].get(f"/attempts/{attempts[i]}/result/")),
    ]
    return [
        _measure(name, [lambda step=step, index=index: step(index) for index in range(learners)], profile)
        for name, step in steps
    ]


def _measure(name: str, calls: list, profile: str | None) -> dict:
    profiler = cProfile.Profile(time.process_time) if profile == name else None
    started = time.process_time()
    if profiler:
        profiler.enable()
    for call in calls:
        last = call()  # keep no more than one: the test client's responses hold their whole request
    if profiler:
        profiler.disable()
    cpu_ms = (time.process_time() - started) * 1000 / len(calls)
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(
            int(os.environ.get("PROFILE_LINES", "50"))
        )
    return {"name": name, "cpu_ms": round(cpu_ms, 2), "status": last.status_code, "x_cache": last.get("X-Cache")}


def _learners(count: int, offset: int = 0) -> list[User]:
    return list(User.objects.filter(email__endswith="@learners.cerebrum.test").order_by("pk")[offset : offset + count])


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def _free_test() -> PracticeTest:
    return PracticeTest.objects.filter(is_published=True, is_free=True, scheduled_start__isnull=True).order_by("pk")[3]


if __name__ == "__main__":
    main()
