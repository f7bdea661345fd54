"""Benchmark fixtures on the bench database: `python bench/prepare.py sessions|storm|reset-storm OUT.json`.

sessions: a logged-in session (and a CSRF secret) for each of N seeded learners, written straight to
    the session table, so the measured phases are not a 10,000-user Argon2 login storm (real logins
    are part of the mix at a realistic rate); plus the slugs and paper question ids the users visit.
storm: the scheduled exam of the storm phase opens now: its previous bench attempts are deleted,
    the paper build counter reset, and the paper pre-warmed the way the beat task does before T0.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cerebrum.settings.production")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.utils import timezone  # noqa: E402

from cerebrum.sessions import SessionStore  # noqa: E402
from courses import caches as course_caches  # noqa: E402
from courses import services  # noqa: E402
from courses.models import (  # noqa: E402
    AttemptAnswer,
    ChapterNote,
    Course,
    PracticeTest,
    PracticeTestQuestion,
    TestAttempt,
)
from demo import activity as demo_activity  # noqa: E402

STORM_SLUG = "all-india-live-mock-1"
AUTH_BACKEND = "accounts.backends.EmailOrPhoneBackend"


def sessions(count: int) -> dict:
    learners = list(demo_activity.learner_queryset().only("id", "email", "password")[:count])
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    rows, out = [], []
    for user in learners:
        key = secrets.token_hex(16)
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: AUTH_BACKEND,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        out.append({"user_id": user.pk, "email": user.email, "sessionid": key, "csrf": secrets.token_hex(16)})
    Session.objects.bulk_create(rows, batch_size=2000)
    # And in the session cache, where a login (cached_db) puts them: in production the learners who
    # are online have their sessions in Redis, whereas each bench run starts on an empty one.
    session_cache = caches[settings.SESSION_CACHE_ALIAS]
    for start in range(0, len(rows), 2000):
        session_cache.set_many(
            {
                SessionStore(row.session_key).cache_key: store.decode(row.session_data)
                for row in rows[start : start + 2000]
            },
            timeout=settings.SESSION_COOKIE_AGE,
        )
    return {
        "users": out,
        "password": demo_activity.DEMO_PASSWORD,
        "courses": list(Course.objects.filter(is_active=True).values_list("slug", flat=True)),
        "notes": list(ChapterNote.objects.filter(is_published=True).values_list("slug", flat=True)[:200]),
        "free_tests": _free_tests(),
        "topics": sorted(set(_topic_slugs()))[:20],
        "storm": _storm_info(),
    }


def _free_tests() -> list[dict]:
    tests = PracticeTest.objects.filter(is_published=True, is_free=True, scheduled_start__isnull=True)[:20]
    return [{"slug": test.slug, "questions": _paper_ids(test.pk)} for test in tests]


def _paper_ids(test_id: int) -> list[int]:
    return list(
        PracticeTestQuestion.objects.filter(test_id=test_id).order_by("position").values_list("question_id", flat=True)
    )


def _topic_slugs() -> list[str]:
    from django.utils.text import slugify

    from courses.models import Question

    return [slugify(topic) for topic in Question.objects.values_list("topic", flat=True).distinct()[:200]]


def _storm_info() -> dict:
    test = PracticeTest.objects.get(slug=STORM_SLUG)
    return {"slug": test.slug, "id": test.pk, "questions": _paper_ids(test.pk)}


def storm() -> dict:
    test = PracticeTest.objects.get(slug=STORM_SLUG)
    TestAttempt.objects.filter(test=test).delete()
    # invalidated_update: cacheops drops the cached row and the courses content version moves on, so
    # no cached copy of the test keeps the old schedule (a plain update() sends no signal).
    PracticeTest.objects.filter(pk=test.pk).invalidated_update(
        scheduled_start=timezone.now() - timedelta(seconds=5), duration_minutes=180, course=None, max_attempts=3
    )
    course_caches.paper_builds_reset(test.pk)
    services.papers_prewarm()
    return {**_storm_info(), "builds_after_prewarm": course_caches.paper_builds(test.pk)}


def verify_storm() -> dict:
    """After the storm: paper builds since the reset, and every answer the submitted attempts hold."""
    test = PracticeTest.objects.get(slug=STORM_SLUG)
    attempts = TestAttempt.objects.filter(test=test)
    # Every answer's store of record is its attempt_answers row (docs/exam.md): one count, not one per attempt.
    stored = AttemptAnswer.objects.filter(attempt__test=test).exclude(option="").count()
    return {
        "paper_builds": course_caches.paper_builds(test.pk),
        "attempts_started": attempts.count(),
        "attempts_submitted": attempts.exclude(status=TestAttempt.Status.IN_PROGRESS).count(),
        "answers_stored": stored,
    }


def warm(data_file: Path, base_url: str) -> dict:
    """Visit every leaderboard once, as learners would have before the measured window.

    Each run starts on an empty Redis; in production boards and papers survive deploys, so the
    one-off rebuild of 40 topic boards (a scan of the week's attempts each) is not steady state.
    """
    import urllib.request

    data = json.loads(data_file.read_text())
    user = data["users"][0]
    paths = [f"/leaderboards/topics/{topic}/" for topic in data["topics"]]
    paths += [f"/tests/{test['slug']}/leaderboard/" for test in data["free_tests"]]
    for path in paths:
        request = urllib.request.Request(base_url + path, headers={"Cookie": f"sessionid={user['sessionid']}"})
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback bench URL
            response.read()
    return {"warmed": len(paths)}


if __name__ == "__main__":
    command, target = sys.argv[1], Path(sys.argv[2])
    if command == "sessions":
        result = sessions(int(os.environ.get("BENCH_SESSIONS", "10000")))
    elif command == "storm":
        result = storm()
    elif command == "verify-storm":
        result = verify_storm()
    elif command == "warm":
        result = warm(target.parent / "data.json", os.environ["BENCH_BASE_URL"])
    else:
        raise SystemExit(f"unknown command {command}")
    target.write_text(json.dumps(result))
    print(f"{command}: wrote {target} ({settings.DATABASES['default']['NAME']})")
