"""Cache keys the courses app owns: test papers, answer keys, content rows, running attempts, test results,
dashboards, leaderboards, and the courses pages' content version.

Every key, its TTL and what drops it is listed in docs/caching.md (`KEYS` below is checked against it).
Values are plain data: rows are cached with cerebrum.cache.row_dump, never as pickled model instances.
The receivers that drop keys when rows change are connected in CoursesConfig.ready (`connect_signals`).

Everything here fails soft: when Redis is missing (embedded default) or down, callers get None/False and
fall back to PostgreSQL. Answers are not here: PostgreSQL is their store of record (docs/exam.md), so
Redis losing its data, or coming back with old data, cannot lose or revert an answer.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import date, timedelta

from cacheops import invalidate_model
from cacheops.signals import cache_invalidated
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.text import slugify
from prometheus_client import Counter
from redis.exceptions import RedisError

from accounts.models import User
from cerebrum.cache import (
    LOCK_RELEASE_SCRIPT,
    get_or_build,
    page_cache_bump,
    page_version_key,
    prefetched,
    row_dump,
    row_load,
    shaped,
    version_new,
    versioned_get_many,
    versioned_set_many,
    versions_bump,
)
from cerebrum.cache import get_many as cache_get_many
from cerebrum.db_router import read_from_primary
from cerebrum.metrics import record_cache
from courses.hindi import question_hindi
from courses.models import (
    ChapterNote,
    Course,
    Enrollment,
    PaperVersion,
    PracticeTest,
    PracticeTestQuestion,
    Question,
    TestAttempt,
    TestSection,
)
from courses.shapes import AnswerKey, Dashboard, PageState, Paper

logger = logging.getLogger(__name__)

PAPER_TIMEOUT = 6 * 60 * 60
PAPER_L1_SECONDS = 30
DASHBOARD_TIMEOUT = 5 * 60
LEADERBOARD_TOP = 10
TOPIC_BOARD_TTL = 15 * 24 * 60 * 60  # a weekly board outlives its week by a week, for "last week" links
TEST_BOARD_TTL = 24 * 60 * 60  # report 2.1; refreshed by every submit, rebuilt from PostgreSQL after
# The "built" marker always dies before its board, so a board is never trusted after Redis dropped it.
MARKER_HEADSTART = 60

PAPER = "paper"
ANSWER_KEY = "paperkey"
ANSWER_KEY_VERSION = "paperkey-version"
PAPER_BUILDS = "paper_builds"
TEST_BY_SLUG = "test:slug"
PROTECTED_QUESTIONS = "questions:protected"
ATTEMPT = "attempt:v4"  # v4: stored with the attempt's version (v3 was not), plain data (row_dump)
ATTEMPT_VERSION = "attempt-version"
TEST_RESULTS_VERSION = "test-results-version"
TEST_RESULTS = "test-results:v1"
DASHBOARD = "dashboard:v2"  # v2: {"version", "data"}, read only while its version is current
DASHBOARD_VERSION = "dashboard-version"
TEST_BOARD = "lb:test"
TOPIC_BOARD = "lb:topic"
PAGE_STATE = "page-state"
KEYS = (
    PAPER,
    ANSWER_KEY,
    ANSWER_KEY_VERSION,
    PAPER_BUILDS,
    TEST_BY_SLUG,
    PROTECTED_QUESTIONS,
    ATTEMPT,
    ATTEMPT_VERSION,
    TEST_RESULTS_VERSION,
    TEST_RESULTS,
    DASHBOARD,
    DASHBOARD_VERSION,
    TEST_BOARD,
    TOPIC_BOARD,
    PAGE_STATE,
)
# What the cached pages and content entries show: a save or delete of one of these bumps the courses
# pages' version (`pagever:courses`, cerebrum.cache) after commit, so a staff edit shows on the next
# request, cacheops on or off. The first four are also cacheops' querysets (settings.CACHEOPS).
CONTENT_MODELS = (Course, Question, PracticeTest, ChapterNote, TestSection, PracticeTestQuestion)

paper_builds_total = Counter("cerebrum_paper_builds_total", "Test papers built from PostgreSQL")


def redis_client():
    """The raw Redis connection behind the default cache, or None in the embedded default (locmem)."""
    try:
        from django_redis import get_redis_connection

        return get_redis_connection("default")
    except (ImportError, NotImplementedError):
        return None


# --- Papers -------------------------------------------------------------------------------------


# Papers, answer keys, test results and dashboards are dicts: their keys carry their shape's digest.
PAPER_SHAPED = shaped(PAPER, Paper)
ANSWER_KEY_SHAPED = shaped(ANSWER_KEY, AnswerKey)


def paper_key(test_id: int, version: int) -> str:
    return f"{PAPER_SHAPED}:{test_id}:v{version}"


def paper_get(test) -> dict:
    """The test's paper for its current version (questions without answers), built once for everyone."""
    return paper_get_by_id(test_id=test.pk, version=test.paper_version)


def paper_get_by_id(*, test_id: int, version: int) -> dict:
    paper, _ = get_or_build(
        paper_key(test_id, version),
        lambda: paper_snapshot(test_id, version)["paper"],
        timeout=PAPER_TIMEOUT,
        l1_seconds=PAPER_L1_SECONDS,
        lock_seconds=15,
        wait_seconds=10.0,
    )
    return paper


def answer_key_get(*, test_id: int, version: int) -> AnswerKey:
    """question id (str) → {correct, explanation, explanation_hi, topic, chapter}; scoring and result pages
    read it. Stored with its key version (a re-key corrects a frozen key: answer_keys_forget)."""
    key, _ = get_or_build(
        answer_key_cache_key(test_id, version),
        lambda: paper_snapshot(test_id, version)["answer_key"],
        timeout=PAPER_TIMEOUT,
        l1_seconds=PAPER_L1_SECONDS,
        version_key=answer_key_version_key(test_id, version),
    )
    return key


def answer_key_cache_key(test_id: int, version: int) -> str:
    return f"{ANSWER_KEY_SHAPED}:{test_id}:v{version}"


def answer_key_version_key(test_id: int, version: int) -> str:
    return f"{ANSWER_KEY_VERSION}:{test_id}:v{version}"


def answer_keys_forget(versions: list[tuple[int, int]]) -> None:
    """The cached answer keys of (test id, version) pairs are stale: call after their frozen key's
    correction commits. A build that read the old frozen key before that commit stored it under the
    version this replaces (deleting the key let it stay 6 hours, scoring every new submit on the old key).

    Other processes may serve their in-process copy for up to PAPER_L1_SECONDS more (the re-key
    service re-scores once again after that: courses.rekey).
    """
    versions_bump([answer_key_version_key(test_id, version) for test_id, version in versions])


def paper_question_ids(paper: dict) -> set[int]:
    return {question["id"] for question in paper["questions"]}


def paper_builds_reset(test_id: int) -> None:
    """Start the test's build counter from 0 (the benchmark's storm counts the builds during its run)."""
    client = redis_client()
    if client is not None:
        client.delete(f"{PAPER_BUILDS}:{test_id}")


def paper_builds(test_id: int) -> int:
    client = redis_client()
    try:
        return int(client.get(f"{PAPER_BUILDS}:{test_id}") or 0) if client else 0
    except RedisError:
        return 0


def paper_snapshot(test_id: int, version: int) -> dict:
    """{"paper", "answer_key"} of one version, frozen in PostgreSQL (PaperVersion) at its first build.

    The cache is rebuilt from the frozen row, so an attempt keeps the paper it started with even after
    the questions change and Redis loses the blob. A paper with no questions yet is not frozen.
    """
    row = PaperVersion.objects.filter(test_id=test_id, version=version).values("paper", "answer_key").first()
    if row is not None:
        return row
    rows = list(_paper_rows(test_id))
    paper, answer_key = _paper_build(test_id, version, rows), _answer_key_build(rows)
    if paper["questions"]:
        PaperVersion.objects.bulk_create(
            [PaperVersion(test_id=test_id, version=version, paper=paper, answer_key=answer_key)],
            ignore_conflicts=True,
        )
        row = PaperVersion.objects.filter(test_id=test_id, version=version).values("paper", "answer_key").first()
        if row is not None:  # a concurrent builder froze it first: theirs is the paper
            return row
    return {"paper": paper, "answer_key": answer_key}


def _paper_rows(test_id: int):
    # Sections in their order, then positions: a section's questions are always contiguous.
    return (
        PracticeTestQuestion.objects.filter(test_id=test_id)
        .select_related("question", "section")
        .order_by(F("section__position").asc(nulls_last=True), "position")
    )


def _paper_build(test_id: int, version: int, rows: list) -> dict:
    paper_builds_total.inc()
    _count_build(test_id)
    questions = [
        {
            "id": item.question_id,
            "number": number,
            "text": item.question.text,
            "options": item.question.options,
            "topic": item.question.topic,
            "chapter": item.question.chapter,
            "section": item.section.name if item.section_id else "",
            # Hindi medium (courses.hindi.question_hindi): only on questions that have a translation.
            **({"hi": hindi} if (hindi := question_hindi(item.question)) else {}),
        }
        for number, item in enumerate(rows, start=1)
    ]
    return {"test_id": test_id, "version": version, "questions": questions, "sections": _sections(rows)}


def _sections(rows: list) -> list[dict]:
    """[{"name", "question_ids", "attempt_any"}] in paper order; a test without sections has one."""
    sections: dict = {}
    for item in rows:
        section = item.section
        entry = sections.setdefault(
            item.section_id,
            {
                "name": section.name if section else ("Other" if sections else "Questions"),
                "question_ids": [],
                "attempt_any": section.attempt_any if section else None,
            },
        )
        entry["question_ids"].append(item.question_id)
    return list(sections.values())


def _count_build(test_id: int) -> None:
    client = redis_client()
    if client is None:
        return
    try:
        client.incr(f"{PAPER_BUILDS}:{test_id}")
    except RedisError:
        logger.warning("paper build counter unavailable for test %s", test_id)


def _answer_key_build(rows: list) -> dict[str, dict]:
    return {
        str(item.question_id): {
            "correct": item.question.correct_option,
            "explanation": item.question.explanation,
            "explanation_hi": item.question.explanation_hi,
            "topic": item.question.topic,
            "chapter": item.question.chapter,
        }
        for item in rows
    }


# --- Content rows ---------------------------------------------------------------------------------
# A practice test by slug is read on every test page, start and leaderboard; cacheops would cache the
# row, but its key is the compiled SQL, which costs more than the lookup saves. These entries carry
# the courses pages' version instead, bumped after any content save (content_changed below).

CONTENT_TIMEOUT = 10 * 60


def test_by_slug_get_or_load(slug: str, loader):
    """The published test (with its course) by slug; loader() returns it or None."""
    row = _content_get_or_load(f"{TEST_BY_SLUG}:{slug}", lambda: _test_row(loader()))
    if row is None:
        return None
    return row_load(PracticeTest, row) or loader()  # None from row_load: cached before a model change


def _test_row(test) -> dict | None:
    return None if test is None else row_dump(test, related=("course",))


def protected_question_ids_get_or_load(loader) -> frozenset[int]:
    """Ids of questions a live mock or a course-only test uses; loader() returns them."""
    return _content_get_or_load(PROTECTED_QUESTIONS, loader)


def _content_get_or_load(key: str, loader):
    """loader()'s value, kept in Redis while the courses content version stays the same (one round trip)."""
    version_key = page_version_key("courses")
    found = cache.get_many([version_key, key])
    version = found.get(version_key, 0)
    entry = found.get(key)
    current = entry is not None and entry[0] == version
    record_cache(hit=current, cache="content")
    if current:
        return entry[1]
    value = read_from_primary(loader)  # a fill: never from a replica behind the edit (db_router)
    if value is not None:
        cache.set(key, (version, value), CONTENT_TIMEOUT)
    return value


def content_changed(*models) -> None:
    """After the current transaction commits: cached querysets of `models` (cacheops) and every cached
    courses page and content row are stale. For bulk writers (bulk_create and update send no signals)."""

    def invalidate() -> None:
        if settings.CACHEOPS_ENABLED:
            for model in models:
                invalidate_model(model)
        page_cache_bump("courses")

    transaction.on_commit(invalidate, robust=True)


def _content_bump_on_save(sender, **kwargs) -> None:
    # Every save or delete of a content model, from services, the admin and tasks alike, bumps the
    # version once the write commits. Without it the embedded default (cacheops off) showed a staff
    # edit only after the pages' TTL (up to 10 minutes; issue 14 item 9).
    transaction.on_commit(lambda: page_cache_bump("courses"), robust=True)


def _content_bump_on_cacheops_invalidation(sender, obj_dict, **kwargs) -> None:
    # cacheops also sees QuerySet.invalidated_update(), which sends no post_save; with the save receiver
    # above the version may move twice for one save, which costs one INCR and changes nothing.
    if sender in CONTENT_MODELS:
        transaction.on_commit(lambda: page_cache_bump("courses"), robust=True)


# --- Running attempts ---------------------------------------------------------------------------
# Every exam request (page, answer, submit) starts by reading its attempt; during a live mock that is
# thousands of identical primary-key SELECTs a second. A running attempt (with its test) is kept in
# Redis with the attempt's version (`attempt-version:<id>`, cerebrum.cache.versioned_get_many); any save
# or delete of the row bumps the version (courses.apps connects the signals), and whoever moves attempts
# with QuerySet.update() calls attempts_forget. A reader that loaded the row just before a submit
# committed stores it under the version the submit replaced: never served (was: a running attempt again
# for 30 minutes after its submit).

ATTEMPT_TIMEOUT = 30 * 60


def attempt_key(attempt_id) -> str:
    return f"{ATTEMPT}:{attempt_id}"


def attempt_version_key(attempt_id) -> str:
    return f"{ATTEMPT_VERSION}:{attempt_id}"


def attempt_get_or_load(attempt_id: int, loader):
    """The attempt (with its test) from Redis (one MGET), else loader(); only attempts still in progress are kept."""
    key = attempt_key(attempt_id)
    found, versions = versioned_get_many({key: attempt_version_key(attempt_id)})
    attempt = row_load(TestAttempt, found[key]) if key in found else None
    record_cache(hit=attempt is not None, cache="attempt")
    if attempt is None:
        # From the primary: a replica behind a submit or a grant of extra time would put the old row
        # back right after the save dropped it, for ATTEMPT_TIMEOUT (cerebrum/db_router.py).
        attempt = read_from_primary(loader)
        if attempt is not None and attempt.status == attempt.Status.IN_PROGRESS:
            versioned_set_many({key: (versions[key], _attempt_row(attempt))}, ATTEMPT_TIMEOUT)
    return attempt


def attempt_remember(attempt) -> None:
    """Keep a just-started attempt as attempt_get_or_load would: its exam page is the learner's next request.

    Call it right after the row's INSERT: its version is made now and the row stored under it after the
    commit (at once when the INSERT ran in autocommit, as a start's does), so a save of the attempt
    committed in between has moved the version on.
    """
    key, version = attempt_key(attempt.pk), version_new(attempt_version_key(attempt.pk))
    transaction.on_commit(lambda: versioned_set_many({key: (version, _attempt_row(attempt))}, ATTEMPT_TIMEOUT))


def _attempt_row(attempt) -> dict:
    return row_dump(attempt, related=("test",))  # with its test, not the learner (the session has them)


def attempts_forget(attempt_ids) -> None:
    """Every cached copy of these attempts is stale: call after the write commits."""
    versions_bump([attempt_version_key(attempt_id) for attempt_id in attempt_ids])


def attempt_written(attempt, *, created: bool, update_fields=None) -> None:
    """Send post_save for an attempt written without save() (the services' compiled INSERT and UPDATE,
    cerebrum/prepared.py), so the receivers of this module (its cached copy, the dashboard) run as usual."""
    fields = frozenset(update_fields) if update_fields else None
    post_save.send(
        type(attempt), instance=attempt, created=created, update_fields=fields, raw=False, using=attempt._state.db
    )


def _attempt_forget_on_change(sender, instance, created: bool = False, **kwargs) -> None:
    """The version moves now and again after the commit (what a reader inside the transaction stored is
    dropped too). A row just inserted has no old version anyone could have cached (invisible until commit).
    """
    if created:
        return
    attempt_id = instance.pk
    attempts_forget([attempt_id])
    transaction.on_commit(lambda: attempts_forget([attempt_id]), robust=True)


# --- Post-test analysis: per-test aggregates (practice/analysis.py builds and reads them) ----------

TEST_RESULTS_TIMEOUT = 10 * 60


def test_results_version(test_id: int) -> str:
    """The current version of a test's results (changed by every submit and re-score); "" without Redis.

    A fresh random version is set when the counter is missing (evicted, Redis restarted), so an
    aggregate stored under an older version is never read again.
    """
    key = f"{TEST_RESULTS_VERSION}:{test_id}"
    try:
        version = cache.get(key)  # one round trip while it exists (every "my rank" request reads it)
        if version is None:
            cache.add(key, uuid.uuid4().hex, timeout=None)
            version = cache.get(key)
    except RedisError:
        return ""
    return version or ""


def test_results_key(test_id: int, version: str, shape) -> str:
    return f"{shaped(TEST_RESULTS, shape)}:{test_id}:{version}"


def test_results_get_or_build(test_id: int, builder, *, shape) -> dict:
    """A test's aggregates for its current results version; no Redis: built. practice.analysis builds them
    and declares their `shape` (a TypedDict, in the key: cerebrum.cache.shaped)."""
    version = test_results_version(test_id)
    if not version:
        return builder()
    value, _ = get_or_build(test_results_key(test_id, version, shape), builder, timeout=TEST_RESULTS_TIMEOUT)
    return value


def test_results_bump(test_ids: list[int]) -> None:
    """A submit or re-score changed these tests' results: the next analysis rebuilds their aggregates, and
    "my rank" answers a new ETag. Called after the boards changed: a reader reads the version first."""
    try:
        cache.set_many({f"{TEST_RESULTS_VERSION}:{test_id}": uuid.uuid4().hex for test_id in test_ids}, timeout=None)
    except RedisError:
        logger.warning("test results version not bumped for %s", test_ids)


# --- Dashboard ----------------------------------------------------------------------------------
# One cached shape, the selectors' dict: the page renders it and the API serializes it. It is stored
# with the learner's dashboard version (`dashboard-version:<user id>`, a random token), and read only
# while that version is current. The API's ETag is the version, so a client holding the current one gets
# 304 after one Redis GET, nothing built. A change deletes the version (not the data): the next read makes
# a new one, and data stored with an older version is never served again, even when a build that read
# PostgreSQL before the change stores it after. The version lives DASHBOARD_TIMEOUT, like the data: what
# changes with time alone (a live mock's results opening) shows within 5 minutes, as before.
# The version also carries the courses content version (`pagever:courses`, read in the same MGET): the data
# shows course names and test titles, so an edit of them (the admin too) makes every dashboard's version new.
# Any save of the learner's enrollments or attempts (services, the admin, tasks) deletes their token.


def dashboard_version_key(user_id: int) -> str:
    return f"{DASHBOARD_VERSION}:{user_id}"


# The data's shape is in the key: a release that changes it never reads the previous release's dicts.
DASHBOARD_SHAPED = shaped(DASHBOARD, Dashboard)


def dashboard_key(user_id: int) -> str:
    return f"{DASHBOARD_SHAPED}:{user_id}"


# Keys of other parts of the dashboard page, as (user id → list of keys) functions registered by higher
# apps in their AppConfig.ready (practice: the revision line and its version); the page reads them with
# its data in one MGET.
dashboard_page_key_hooks: list = []


def dashboard_page_prefetched(user_id: int):
    """A context in which the dashboard page's cached parts come from one Redis round trip."""
    keys = [dashboard_version_key(user_id), page_version_key("courses"), dashboard_key(user_id)]
    return prefetched([*keys, *(key for hook in dashboard_page_key_hooks for key in hook(user_id))])


def dashboard_version(user_id: int) -> str:
    """The learner's current dashboard version: one GET (a write and a read more when it is missing).

    "" when Redis is unavailable (nothing can be versioned then: callers build, and send no ETag).
    """
    key, content_key = dashboard_version_key(user_id), page_version_key("courses")
    return _dashboard_version_of(cache_get_many([key, content_key]), key, content_key)


def _dashboard_version_of(found: dict, key: str, content_key: str) -> str:
    """ "<learner's token>.<courses content version>", or "" without Redis."""
    token = found.get(key) or _dashboard_version_new(key)
    return f"{token}.{found.get(content_key, 0)}" if token else ""


def dashboard_get_or_build(user_id: int, builder, *, version: str | None = None) -> dict:
    """The dashboard data of `version` (default: the current one, read in the same round trip), or
    builder()'s from the primary, then stored with that version."""
    return _under_dashboard_version(user_id, dashboard_key(user_id), builder, version=version)[1]


def _under_dashboard_version(user_id: int, key: str, builder, *, version: str | None = None) -> tuple[str, dict]:
    """(version, data) of an entry kept under the learner's dashboard version: one MGET when current (with the
    version's keys, unless `version` is given); else builder()'s data, read from the primary and stored with
    the version ("" and unstored without Redis)."""
    version_key, content_key = dashboard_version_key(user_id), page_version_key("courses")
    found = cache_get_many([key] if version else [version_key, content_key, key])
    version = version or _dashboard_version_of(found, version_key, content_key)
    entry = found.get(key)
    hit = bool(version) and isinstance(entry, dict) and entry.get("version") == version
    record_cache(hit=hit)
    if hit:
        return version, entry["data"]
    data = read_from_primary(builder)  # a fill from a lagging replica would outlive the write's version
    if version:
        cache.set(key, {"version": version, "data": data}, DASHBOARD_TIMEOUT)
    return version, data


# --- A learner's page state (the personal bits of the shared pages) ----------------------------------
# What the pages nginx shares cannot say (enrolled courses, running attempts) changes with exactly the
# writes that renew the dashboard's version (enrollments and attempts of the learner, by services, the admin
# or tasks: the receivers above), so it is stored under that version: the same MGET reads both.


PAGE_STATE_SHAPED = shaped(PAGE_STATE, PageState)


def page_state_key(user_id: int) -> str:
    return f"{PAGE_STATE_SHAPED}:{user_id}"


def page_state_get_or_build(user_id: int, builder) -> tuple[str, PageState]:
    """(version, data) of the learner's page state: one Redis round trip when current; else builder()'s
    data, read from the primary and stored with the version ("" and unstored without Redis)."""
    return _under_dashboard_version(user_id, page_state_key(user_id), builder)


def _dashboard_version_new(key: str) -> str:
    try:
        cache.add(key, uuid.uuid4().hex, DASHBOARD_TIMEOUT)  # a racing reader's token wins: both use it
        return cache.get(key) or ""
    except RedisError:
        return ""


def dashboard_invalidate(user_id: int | None) -> None:
    """The learner's dashboard data is stale: services that change what it shows call this after commit."""
    if user_id:
        cache.delete(dashboard_version_key(user_id))


def _dashboard_forget_on_learner_row_change(sender, instance, **kwargs) -> None:
    # An enrollment or an attempt of the learner, saved or deleted by anyone (a start, an admin edit of
    # the status, the sweeper): the dashboard shows them, so its version goes after the commit.
    user_id = instance.user_id
    if user_id:
        transaction.on_commit(lambda: dashboard_invalidate(user_id), robust=True)


def _dashboard_forget_on_user_change(sender, instance, **kwargs) -> None:
    # The dashboard shows the learner's name, email and profile; any save of the user (profile service,
    # the admin) drops it after the commit.
    user_id = instance.pk
    transaction.on_commit(lambda: dashboard_invalidate(user_id), robust=True)


# --- Leaderboards (Redis sorted sets, report 2.1) ---------------------------------------------
# A board is trusted while its "built" marker lives. A rebuild reads the board's version (`<board>:version`)
# before it reads PostgreSQL, and stores its scores and the marker only while that version is still current
# (one script, so nothing runs between the check and the store). A re-score or a results announcement moves
# the version after its commit: a rebuild that read the old scores just before that commit stores nothing
# (deleting the board and its marker after the commit let it store the old, higher scores, marked built,
# for 24 h or 15 days). A submit's ZADD GT into a test board lands in the board itself, and a rebuild's MAX
# merge keeps it. A topic board holds sums, where a merge cannot tell a submit the rebuild's SELECT counted
# from one it did not (and a sum can go down): the rebuild replaces the board; while it is not built a
# submit's increment is skipped (the next rebuild reads it from PostgreSQL), except while a rebuild runs
# (its lock lives), when it waits in `<board>:pending` by attempt id and the rebuild adds those its SELECT
# did not count. A submit the SELECT counted whose increment arrives after the store (its worker stalled
# between the commit and Redis) is skipped too: the rebuild keeps the ids of the attempts it counted that
# were submitted in the last IN_FLIGHT_SECONDS in `<board>:counted` for as long.

# KEYS: board, marker, rebuild lock, pending increments, attempts the last rebuild counted.
# ARGV: points, member, board TTL, attempt id, lock TTL.
_TOPIC_INCREMENT = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('SISMEMBER', KEYS[5], ARGV[4]) == 0 then
    redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])
    redis.call('EXPIRE', KEYS[1], ARGV[3])
  end
elseif redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HSET', KEYS[4], ARGV[4], ARGV[2] .. ':' .. ARGV[1])
  redis.call('EXPIRE', KEYS[4], ARGV[5])
end
return 1
"""

# KEYS: board, marker, version, the rebuilt scores (a temporary sorted set), rebuild lock, pending increments,
# the recently submitted attempts counted.
# ARGV: the version read before the rebuild's SELECT, the board's TTL, the marker's TTL, the rebuild's lock
# token, how many pending increments the rebuild looked at, "max" (merge) or "sum" (replace, then add the
# pending increments), how long to keep the counted ids, how many there are, those ids, then member, points
# of the pending increments it did not count.
# Returns 1 when stored; 0 when the version moved or the lock was lost meanwhile (nothing stored: a lost
# lock may have let an increment be skipped); 2 when more increments are pending than were looked at.
_BOARD_STORE_IF_CURRENT = """
if redis.call('GET', KEYS[3]) ~= ARGV[1] or redis.call('GET', KEYS[5]) ~= ARGV[4] then
  redis.call('DEL', KEYS[4])
  return 0
end
if redis.call('HLEN', KEYS[6]) ~= tonumber(ARGV[5]) then
  return 2
end
if ARGV[6] == 'max' then
  redis.call('ZUNIONSTORE', KEYS[1], 2, KEYS[1], KEYS[4], 'AGGREGATE', 'MAX')
else
  redis.call('DEL', KEYS[1])
  redis.call('ZUNIONSTORE', KEYS[1], 1, KEYS[4])
end
local counted = tonumber(ARGV[8])
redis.call('DEL', KEYS[7])
for i = 9, 8 + counted do
  redis.call('SADD', KEYS[7], ARGV[i])
end
if counted > 0 then redis.call('EXPIRE', KEYS[7], ARGV[7]) end
for i = 9 + counted, #ARGV, 2 do
  redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i])
end
redis.call('DEL', KEYS[4], KEYS[6])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], 1, 'EX', ARGV[3])
return 1
"""
BOARD_LOCK_SECONDS = 30  # a week's topic board over every attempt can take seconds to read
BOARD_STORE_TRIES = 5
BOARD_WAIT_SECONDS = 3
# How long after its commit a submit's increment may still reach a topic board (it is sent right after the
# commit; a worker stalled longer than this would have it counted twice by a rebuild that read it).
IN_FLIGHT_SECONDS = 60


def test_board_key(test_id: int) -> str:
    return f"{TEST_BOARD}:{test_id}"


def topic_board_key(topic_slug: str, week: str) -> str:
    return f"{TOPIC_BOARD}:{topic_slug}:{week}"


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def leaderboard_record(
    *, test_id: int, attempt_id: int, user_id: int, score: int, topic_scores: dict[str, int], week: str
) -> None:
    """After a submit commits: best score per test (ZADD GT); topic scores added to this week's boards."""
    client = redis_client()
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)
        board = test_board_key(test_id)
        pipe.zadd(board, {str(user_id): score}, gt=True)
        pipe.expire(board, TEST_BOARD_TTL)
        pipe.expire(f"{board}:built", TEST_BOARD_TTL - MARKER_HEADSTART)
        for topic, topic_score in topic_scores.items():
            key = topic_board_key(slugify(topic), week)
            keys = (key, f"{key}:built", f"lock:{key}", f"{key}:pending", f"{key}:counted")
            args = (topic_score, str(user_id), TOPIC_BOARD_TTL, attempt_id, BOARD_LOCK_SECONDS)
            pipe.eval(_TOPIC_INCREMENT, len(keys), *keys, *args)
        pipe.execute()
    except RedisError:
        logger.warning("leaderboards not updated for test %s; they are rebuilt from PostgreSQL", test_id)


def boards_rebuild_later(keys: list[str]) -> None:
    """Scores were added (a live mock's results opened): each board is rebuilt from PostgreSQL at its next
    read, merged with what it holds. Moves the boards' versions: call after the commit."""
    _boards_invalidate(keys, scores_too=False)


def boards_drop(keys: list[str]) -> None:
    """Scores went down (a re-score): each board is emptied and rebuilt from PostgreSQL at its next read.
    Moves the boards' versions: call after the commit.

    boards_rebuild_later is not enough there: a rebuild keeps the higher of Redis' and PostgreSQL's score.
    """
    _boards_invalidate(keys, scores_too=True)


def _boards_invalidate(keys: list[str], *, scores_too: bool) -> None:
    client = redis_client()
    if client is None or not keys:
        return
    try:
        pipe = client.pipeline(transaction=True)
        for key in keys:
            pipe.set(f"{key}:version", uuid.uuid4().hex, ex=_board_ttl(key))
            pipe.delete(f"{key}:built", *([key] if scores_too else []))
        pipe.execute()
    except RedisError:
        logger.warning("could not invalidate %s boards", len(keys))


# One round trip: [built?, the first ARGV[1] members with scores (flat), size, ARGV[2]'s score or nil, how
# many members score more, ARGV[2]'s place in the listed order (0-based)]. Equal scores share a rank
# (1 + members scoring more, "1, 2, 2, 4", as practice.ranking ranks ties), so a learner's rank does not
# depend on the order Redis keeps ties in; the place says which of the tied rows is theirs.
_BOARD_READ = """
local top = {}
if tonumber(ARGV[1]) > 0 then
  top = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
end
local score, above, place = false, false, false
if ARGV[2] ~= '' then
  score = redis.call('ZSCORE', KEYS[1], ARGV[2])
  if score then
    above = redis.call('ZCOUNT', KEYS[1], '(' .. score, '+inf')
    place = redis.call('ZREVRANK', KEYS[1], ARGV[2])
  end
end
return {redis.call('EXISTS', KEYS[2]), top, redis.call('ZCARD', KEYS[1]), score, above, place}
"""


def board_read(*, key: str, user_id: int | None, rebuild, top: int = LEADERBOARD_TOP) -> dict | None:
    """The first `top` (id, score) pairs, the board size and the user's {"rank", "score", "position"} (or
    None when they are not on it); None when Redis cannot serve it (unavailable, or the board is not built
    yet: the caller reads PostgreSQL).

    Members with equal scores are listed as Redis keeps them (ZREVRANGE: the member string, descending;
    `board_order` sorts PostgreSQL's scores the same way) and share a rank: 1 + members scoring more. The
    user's position is their 1-based place in that listed order: among tied rows, the one that is theirs.
    One round trip when the board is built (its marker is read by the same script). `rebuild()` returns
    ({member: score}, {attempt id: its submit time} of the attempts those scores count, or None for a test
    board) from PostgreSQL; it runs
    when the board was never built, Redis lost it or a write moved its version, under a short lock so one
    process rebuilds while the others wait; a rebuild under a moved version stores nothing.
    """
    client = redis_client()
    if client is None:
        return None
    member = str(user_id) if user_id else ""
    try:
        built, flat, total, score, above, place = client.eval(_BOARD_READ, 2, key, f"{key}:built", top, member)
        if not built:
            _board_rebuild(client, key, rebuild)
            built, flat, total, score, above, place = client.eval(_BOARD_READ, 2, key, f"{key}:built", top, member)
    except RedisError:
        return None
    if not built:  # a write moved the version during the rebuild, or the rebuilder is slow
        return None
    pairs = [(int(member), int(float(points))) for member, points in zip(flat[::2], flat[1::2], strict=True)]
    mine = {"rank": above + 1, "score": int(float(score)), "position": place + 1} if score is not None else None
    return {"top": pairs, "total": total, "me": mine}


def board_order(scores: dict[int, int]) -> list[tuple[int, int]]:
    """(member, score) pairs in the order board_read lists them: score descending, then the member as a
    string, descending (Redis' order of equal scores), so a board read from PostgreSQL matches Redis'."""
    return sorted(scores.items(), key=lambda item: (item[1], str(item[0])), reverse=True)


def _board_rebuild(client, key: str, rebuild) -> None:
    """Rebuild the board from PostgreSQL under the version read first (one round trip with the lock)."""
    lock, version_key, token = f"lock:{key}", f"{key}:version", uuid.uuid4().hex
    pipe = client.pipeline(transaction=False)
    pipe.set(lock, token, nx=True, ex=BOARD_LOCK_SECONDS)
    pipe.set(version_key, uuid.uuid4().hex, nx=True, ex=_board_ttl(key))  # none yet (new, expired): this one
    pipe.get(version_key)
    acquired, _, version = pipe.execute()
    if not acquired:
        deadline = time.monotonic() + BOARD_WAIT_SECONDS
        while time.monotonic() < deadline and not client.exists(f"{key}:built"):
            time.sleep(0.05)
        return
    try:
        # What the board keeps until its TTL: read on the primary, not a lagging replica.
        scores, counted = read_from_primary(rebuild)
        _board_store(client, key, version=version or b"", token=token, scores=scores, counted=counted)
    finally:
        client.eval(LOCK_RELEASE_SCRIPT, 1, lock, token)  # only ours: a rebuild past its lock's expiry frees no other


def _board_store(client, key: str, *, version: bytes, token: str, scores: dict, counted: dict | None) -> None:
    temp, ttl = f"{key}:rebuilding", _board_ttl(key)
    keys = (key, f"{key}:built", f"{key}:version", temp, f"lock:{key}", f"{key}:pending", f"{key}:counted")
    since = timezone.now() - timedelta(seconds=IN_FLIGHT_SECONDS)
    in_flight = [attempt_id for attempt_id, submitted_at in (counted or {}).items() if submitted_at >= since]
    for tried in range(BOARD_STORE_TRIES):
        pending = client.hgetall(f"{key}:pending") if counted is not None else {}
        uncounted = [
            part
            for attempt_id, entry in pending.items()
            if int(attempt_id) not in counted
            for part in entry.decode().split(":")
        ]
        mode = "max" if counted is None else "sum"
        args = (version, ttl, ttl - MARKER_HEADSTART, token, len(pending), mode)
        args += (IN_FLIGHT_SECONDS, len(in_flight), *in_flight, *uncounted)
        pipe = client.pipeline(transaction=True)
        if not tried and scores:
            pipe.zadd(temp, {str(member): score for member, score in scores.items()})
        # A test board's MAX keeps any best score a submit ZADDed while PostgreSQL was being read.
        pipe.eval(_BOARD_STORE_IF_CURRENT, len(keys), *keys, *args)
        if pipe.execute()[-1] != 2:
            return
    client.delete(temp)  # submits kept arriving: stored by a later reader's rebuild


def _board_ttl(key: str) -> int:
    return TOPIC_BOARD_TTL if key.startswith(f"{TOPIC_BOARD}:") else TEST_BOARD_TTL


# --- Receivers (cache invalidation only), connected once by CoursesConfig.ready ------------------


def connect_signals() -> None:
    for signal in (post_save, post_delete):
        name = "save" if signal is post_save else "delete"
        signal.connect(_attempt_forget_on_change, sender=TestAttempt, dispatch_uid=f"courses.caches.attempt.{name}")
        signal.connect(_dashboard_forget_on_user_change, sender=User, dispatch_uid=f"courses.caches.dashboard.{name}")
        for model in (Enrollment, TestAttempt):
            signal.connect(
                _dashboard_forget_on_learner_row_change,
                sender=model,
                dispatch_uid=f"courses.caches.dashboard.{model.__name__}.{name}",
            )
        for model in CONTENT_MODELS:
            signal.connect(
                _content_bump_on_save, sender=model, dispatch_uid=f"courses.caches.content.{model.__name__}.{name}"
            )
    if settings.CACHEOPS_ENABLED:
        cache_invalidated.connect(_content_bump_on_cacheops_invalidation, dispatch_uid="courses.caches.content")
