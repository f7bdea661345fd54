"""Every acknowledged answer is kept and scored: fault sequences against a live server (PostgreSQL + Redis).

The answer's store of record is PostgreSQL (docs/exam.md), so Redis losing its data or coming back with
old data changes nothing: these tests do that to the test Redis database in the middle of an attempt.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest
import requests
import time_machine
from django.db import connection, connections
from django.utils import timezone
from django_redis import get_redis_connection
from rest_framework_simplejwt.tokens import RefreshToken

from courses import caches, selectors, services
from courses.models import AttemptAnswer
from courses.models import TestAttempt as Attempt
from tests.factories import PracticeTestFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


class Learner:
    """One learner's HTTP client for the exam API (a JWT, as the app sends)."""

    def __init__(self, live_server, user):
        self.base = f"{live_server.url}/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {RefreshToken.for_user(user).access_token}"

    def start(self, slug: str) -> dict:
        response = self.session.post(f"{self.base}/tests/{slug}/attempts", timeout=30)
        assert response.status_code == 201, response.text
        return response.json()

    def answer(self, attempt_id: int, *items: dict) -> requests.Response:
        return self.session.post(
            f"{self.base}/attempts/{attempt_id}/answers", json={"answers": list(items)}, timeout=30
        )

    def state(self, attempt_id: int) -> dict:
        return self.session.get(f"{self.base}/attempts/{attempt_id}", timeout=30).json()

    def submit(self, attempt_id: int) -> requests.Response:
        return self.session.post(f"{self.base}/attempts/{attempt_id}/submit", timeout=60)


def _item(question_id: int, option: str, seq: int) -> dict:
    return {"question_id": question_id, "option": option, "seq": seq}


@pytest.fixture
def started(live_server):
    test = PracticeTestFactory(question_count=4)
    learner = Learner(live_server, UserFactory())
    attempt = learner.start(test.slug)
    return learner, attempt["id"], [q["id"] for q in attempt["paper"]]


def test_redis_flushed_mid_attempt_loses_no_answer(started):
    # Given two acknowledged answers
    learner, attempt_id, (q1, q2, q3, _) = started
    assert learner.answer(attempt_id, _item(q1, "A", 1), _item(q2, "B", 2)).status_code == 200

    # When Redis loses everything (a restart without persistence), and the learner goes on
    get_redis_connection("default").flushdb()
    assert learner.answer(attempt_id, _item(q3, "C", 3)).status_code == 200

    # Then the resumed screen and the score have all three
    state = learner.state(attempt_id)
    assert {qid: a["option"] for qid, a in state["answers"].items()} == {str(q1): "A", str(q2): "B", str(q3): "C"}
    assert state["last_seq"] == 3
    result = learner.submit(attempt_id).json()
    assert Attempt.objects.get(pk=attempt_id).answers == {str(q1): "A", str(q2): "B", str(q3): "C"}
    assert (result["correct_count"], result["wrong_count"]) == (1, 2)  # the factory's key is A


def test_redis_restored_with_old_data_reverts_no_answer(started):
    # Given Q1=A acknowledged, and a copy of everything Redis holds at that moment
    learner, attempt_id, (q1, *_) = started
    assert learner.answer(attempt_id, _item(q1, "A", 1)).status_code == 200
    redis = get_redis_connection("default")
    snapshot = {key: (redis.dump(key), max(redis.pttl(key), 0)) for key in redis.keys("*")}

    # When Q1 is changed to B, then Redis comes back with the old copy (a failover to a stale replica)
    assert learner.answer(attempt_id, _item(q1, "B", 2)).status_code == 200
    redis.flushdb()
    for key, (dumped, ttl) in snapshot.items():
        redis.restore(key, ttl, dumped, replace=True)

    # Then the screen and the score both have B
    assert learner.state(attempt_id)["answers"][str(q1)]["option"] == "B"
    learner.submit(attempt_id)
    assert Attempt.objects.get(pk=attempt_id).answers == {str(q1): "B"}


def test_an_answer_from_a_tab_after_a_submit_from_another_is_409_and_not_scored(started):
    # Given tab 1 has the exam open and tab 2 submits it
    learner, attempt_id, (q1, q2, *_) = started
    assert learner.answer(attempt_id, _item(q1, "A", 1)).status_code == 200
    tab1_state = learner.state(attempt_id)
    assert learner.submit(attempt_id).status_code == 200

    # When tab 1 saves an answer
    late = learner.answer(attempt_id, _item(q2, "A", tab1_state["last_seq"] + 1))

    # Then it is refused, not stored, and the score is what was acknowledged before the submit
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "attempt_closed"
    assert not AttemptAnswer.objects.filter(attempt_id=attempt_id, question_id=q2).exists()
    assert Attempt.objects.get(pk=attempt_id).answers == {str(q1): "A"}


def test_retries_and_out_of_order_answers_keep_the_newest(started):
    learner, attempt_id, (q1, *_) = started
    assert learner.answer(attempt_id, _item(q1, "C", 5)).json() == {"saved": 1, "acknowledged_seq": 5}
    # an older request arriving late, and a retry of the newest, change nothing
    assert learner.answer(attempt_id, _item(q1, "A", 4)).json() == {"saved": 0, "acknowledged_seq": 5}
    assert learner.answer(attempt_id, _item(q1, "C", 5)).json() == {"saved": 0, "acknowledged_seq": 5}
    assert learner.state(attempt_id)["answers"][str(q1)] == {"option": "C", "marked_for_review": False, "seq": 5}


THREADS = 8
SENDS_PER_THREAD = 25


def test_every_acknowledged_answer_is_the_scored_one_while_another_tab_submits(live_server):
    # Given a 20-question attempt, and 8 threads (tabs, retries) answering it with increasing seqs
    test = PracticeTestFactory(question_count=20)
    learner = Learner(live_server, UserFactory())
    attempt = learner.start(test.slug)
    question_ids = [q["id"] for q in attempt["paper"]]
    seqs, lock = itertools.count(1), threading.Lock()
    acknowledged: list[tuple[int, int, str]] = []  # (seq, question, option) that got a 2xx
    refused: list[int] = []
    halfway = threading.Event()

    def answer_many(thread: int) -> None:
        rng = random.Random(thread)
        for index in range(SENDS_PER_THREAD):
            if index == SENDS_PER_THREAD // 2:
                halfway.set()
            with lock:
                seq = next(seqs)
            question, option = rng.choice(question_ids), rng.choice("ABCD")
            response = learner.answer(attempt["id"], _item(question, option, seq))
            if response.status_code == 200:
                acknowledged.append((seq, question, option))
            else:
                assert (response.status_code, response.json()["error"]["code"]) == (409, "attempt_closed")
                refused.append(seq)

    def submit_midway() -> int:
        halfway.wait(timeout=60)
        return learner.submit(attempt["id"]).status_code

    # When one more tab submits while they are answering
    with ThreadPoolExecutor(max_workers=THREADS + 1) as pool:
        answering = [pool.submit(answer_many, thread) for thread in range(THREADS)]
        submitted = pool.submit(submit_midway)
        for future in answering:
            future.result()

    # Then per question, the newest acknowledged answer is exactly the scored one; the rest got 409
    assert submitted.result() == 200
    assert acknowledged  # the submit really landed in the middle
    assert refused
    newest: dict[str, tuple[int, str]] = {}
    for seq, question, option in acknowledged:
        if seq > newest.get(str(question), (0, ""))[0]:
            newest[str(question)] = (seq, option)
    scored = Attempt.objects.get(pk=attempt["id"]).answers
    assert scored == {question: option for question, (_, option) in newest.items()}
    assert len(acknowledged) + len(refused) == THREADS * SENDS_PER_THREAD


def test_the_answer_path_does_not_touch_redis(started):
    # Given an attempt whose paper and attempt row are already cached
    learner, attempt_id, (q1, *_) = started
    learner.answer(attempt_id, _item(q1, "A", 1))
    redis = get_redis_connection("default")
    before = set(redis.keys("*"))

    # When more answers are saved
    learner.answer(attempt_id, _item(q1, "B", 2), _item(q1, "D", 3))

    # Then Redis holds no answer data at all (no key was written for them)
    assert not [key for key in set(redis.keys("*")) - before if b"answer" in key]
    assert caches.redis_client() is not None


def test_a_redis_restored_with_an_old_attempt_does_not_hide_extra_time(started):
    # Given the running attempt cached in Redis, and a copy of Redis at that moment
    learner, attempt_id, _ = started
    learner.state(attempt_id)
    redis = get_redis_connection("default")
    snapshot = {key: (redis.dump(key), max(redis.pttl(key), 0)) for key in redis.keys("*")}
    deadline = Attempt.objects.get(pk=attempt_id).expires_at

    # When staff grant 10 minutes, then Redis comes back with the old attempt
    from courses import services

    services.attempt_grant_extra_time(attempt=Attempt(pk=attempt_id), seconds=600, reason="Power cut", granted_by=None)
    redis.flushdb()
    for key, (dumped, ttl) in snapshot.items():
        redis.restore(key, ttl, dumped, replace=True)

    # Then the screen's deadline is still the extended one
    from datetime import datetime, timedelta

    shown = datetime.fromisoformat(learner.state(attempt_id)["deadline"].replace("Z", "+00:00"))
    assert shown == deadline + timedelta(minutes=10)


def test_an_answer_without_seq_racing_another_is_stored_not_dropped(started):
    # Given Q1=A, and another save without seq (a second plain-form tab, an old app's one-answer body)
    # that wrote Q1 as "the newest so far" (seq 2) and has not committed yet
    learner, attempt_id, (q1, *_) = started
    assert learner.answer(attempt_id, _item(q1, "A", 1)).status_code == 200
    dsn = {key: value for key, value in connection.get_connection_params().items() if key != "cursor_factory"}
    with psycopg.connect(**dsn) as other, psycopg.connect(**dsn, autocommit=True) as watcher:
        other.execute(
            "UPDATE attempt_answers SET option = 'C', seq = 2 WHERE attempt_id = %s AND question_id = %s",
            [attempt_id, q1],
        )

        # When this learner's old app saves Q1=B without seq meanwhile (it read seq 1 as the newest)
        with ThreadPoolExecutor(max_workers=1) as pool:
            late = pool.submit(
                lambda: learner.session.post(
                    f"{learner.base}/attempts/{attempt_id}/answers", json={"question_id": q1, "option": "B"}, timeout=60
                )
            )
            _wait_for_a_lock_wait(watcher)
            other.commit()
            acknowledged = late.result()

    # Then the acknowledged B is what is stored and scored, newer than the save it waited for
    assert acknowledged.status_code == 200
    assert acknowledged.json() == {"saved": 1, "acknowledged_seq": 3}
    learner.submit(attempt_id)
    assert Attempt.objects.get(pk=attempt_id).answers == {str(q1): "B"}


def _wait_for_a_lock_wait(watcher) -> None:
    """Until a backend of this database waits for a row lock (the racing save reached the conflict)."""
    for _ in range(600):
        waiting = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the racing save never waited for the row lock")


def test_a_live_mocks_attempt_closed_while_the_announce_runs_still_gets_its_after_submit_work(monkeypatch):
    # Given a live mock past its results time: one attempt submitted, one still running (the sweep has
    # not reached it yet), and an after-submit hook (as practice's mistake notebook) that holds the
    # announce's transaction open at its first attempt
    test = PracticeTestFactory(
        question_count=2, scheduled_start=timezone.now() - timedelta(minutes=1), duration_minutes=60
    )
    done = services.attempt_start(test=test, user=UserFactory())
    services.attempt_submit(attempt=done)
    running = services.attempt_start(test=test, user=UserFactory())
    ran, in_announce, release = [], threading.Event(), threading.Event()

    def hook(attempts):
        ran.extend(attempt.pk for attempt in attempts)
        if threading.current_thread() is not threading.main_thread():
            in_announce.set()
            release.wait(10)

    monkeypatch.setattr(services, "after_submit_hooks", [hook])

    def announce():
        try:
            services.live_results_announce()
        finally:
            connections.close_all()

    with time_machine.travel(selectors.results_open_at(test) + timedelta(seconds=1)):
        announcing = threading.Thread(target=announce)
        announcing.start()
        while not in_announce.is_set() and announcing.is_alive():
            announcing.join(0.01)
        # When the sweep closes the running attempt while the announce is in its transaction
        services.attempt_submit(attempt=running)
        release.set()
        announcing.join(10)
        services.live_results_announce()  # the next sweep's announce

    # Then every finished attempt's hooks ran, each once
    assert sorted(ran) == sorted([done.pk, running.pk])


def test_a_live_mock_started_at_once_from_many_tabs_is_one_attempt():
    # Given a live mock and one learner; when eight tabs start it at the same instant (each its own
    # connection, no transaction around a start's SELECT and INSERT)
    test = PracticeTestFactory(
        question_count=2, scheduled_start=timezone.now() - timedelta(minutes=1), duration_minutes=60
    )
    user = UserFactory()
    barrier = threading.Barrier(8)

    def start():
        try:
            barrier.wait(10)
            return services.attempt_start(test=test, user=user).pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        started = list(pool.map(lambda _: start(), range(8)))
    # Then every tab has the same attempt, and there is one
    assert Attempt.objects.filter(test=test, user=user).count() == 1
    assert set(started) == {Attempt.objects.get(test=test, user=user).pk}


def test_a_start_right_after_a_submit_on_another_device_reads_the_primary(settings, monkeypatch):
    # Given read replicas (a lagging one would still show the submitted attempt running) and a learner
    # who has just submitted attempt 1 of a three-attempt test on their phone
    from cerebrum import db_router

    test, user = PracticeTestFactory(question_count=2, max_attempts=3), UserFactory()
    first = services.attempt_start(test=test, user=user)
    services.attempt_submit(attempt=first)
    settings.DATABASE_REPLICAS = ["replica1"]  # not configured: a read sent there fails
    settings.DATABASE_ROUTERS = ["cerebrum.db_router.PrimaryReplicaRouter"]
    monkeypatch.setattr(db_router, "replica_lag_seconds", lambda alias: 0.0)
    db_router.forget_replica_lag()
    token = db_router._pinned_until.set(0.0)  # the laptop: no read-your-writes pin from the phone's writes
    try:
        # When they start again from the laptop
        second = services.attempt_start(test=test, user=user)
    finally:
        db_router._pinned_until.reset(token)
        db_router.forget_replica_lag()
    # Then the start decided on the primary's rows: a new attempt, not the submitted one as "running"
    assert (second.attempt_number, second.status) == (2, Attempt.Status.IN_PROGRESS)
