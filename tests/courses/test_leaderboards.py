"""Leaderboards in Redis sorted sets: best score per test, weekly topic sums, rebuilt from PostgreSQL."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django.utils.text import slugify
from django_redis import get_redis_connection

from accounts import services as accounts_services
from accounts.models import User
from cerebrum.errors import DomainError
from courses import caches, selectors, services
from courses.models import Question
from courses.rekey import question_rekey
from tests.factories import FreeUserFactory, PracticeTestFactory, UserFactory

pytestmark = pytest.mark.django_db


def _take(test, user, options, capture):
    """Answer the paper's questions in order with `options` ("" = blank) and submit, running on-commit work."""
    with capture(execute=True):
        attempt = services.attempt_start(test=test, user=user)
        for question, option in zip(caches.paper_get(test)["questions"], options, strict=False):
            services.attempt_answer(attempt=attempt, question_id=question["id"], option=option)
        return services.attempt_submit(attempt=attempt)


def test_test_board_keeps_best_score_ranks_and_percentile(django_capture_on_commit_callbacks):
    test = PracticeTestFactory(question_count=3)
    ana, ben, cy = UserFactory(name="Ana"), UserFactory(name="Ben"), UserFactory(name="Cy")
    _take(test, ana, "AAA", django_capture_on_commit_callbacks)  # 12
    _take(test, ben, "AB", django_capture_on_commit_callbacks)  # 3
    _take(test, ben, "BBB", django_capture_on_commit_callbacks)  # -3, best stays 3
    _take(test, cy, "", django_capture_on_commit_callbacks)  # 0

    board = selectors.leaderboard_for_test(test=test, user=ben)

    assert [(row["rank"], row["name"], row["score"]) for row in board["top"]] == [
        (1, "Ana", 12),
        (2, "Ben", 3),
        (3, "Cy", 0),
    ]
    assert board["me"] == {"rank": 2, "score": 3, "percentile": 66.7, "position": 2}
    assert board["total"] == 3


def test_free_users_do_not_rank(django_capture_on_commit_callbacks):
    test = PracticeTestFactory(question_count=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.attempt_submit(attempt=services.attempt_start(test=test, free_user=FreeUserFactory()))

    assert selectors.leaderboard_for_test(test=test)["total"] == 0


def test_a_lead_who_signs_up_brings_their_scores_onto_the_built_boards(django_capture_on_commit_callbacks, monkeypatch):
    # Given built test and topic boards, and a lead (free user) who scored 4 on the test
    test = PracticeTestFactory(question_count=2)
    topic = caches.paper_get(test)["questions"][0]["topic"]
    _take(test, UserFactory(name="Ana"), "AA", django_capture_on_commit_callbacks)
    lead = FreeUserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        attempt = services.attempt_start(test=test, free_user=lead)
        services.attempt_answer(attempt=attempt, question_id=caches.paper_get(test)["questions"][0]["id"], option="A")
        services.attempt_submit(attempt=attempt)
    selectors.leaderboard_for_test(test=test)
    selectors.leaderboard_for_topic(topic=topic)

    # When the lead signs up (their attempt becomes the new account's)
    with django_capture_on_commit_callbacks(execute=True):
        asha = accounts_services.user_register(
            password="Chloroplast-2027", name="Asha", free_user=lead, phone="9876543210"
        )

    # Then Redis' boards show her as PostgreSQL does (it counts the attempt now)
    def boards():
        return (
            selectors.leaderboard_for_test(test=test, user=asha),
            selectors.leaderboard_for_topic(topic=topic, user=asha),
            selectors.rank_for_test(test=test, user=asha),
        )

    from_redis = boards()
    monkeypatch.setattr(caches, "redis_client", lambda: None)
    assert from_redis == boards()
    assert (from_redis[0]["me"]["rank"], from_redis[0]["me"]["score"], from_redis[0]["total"]) == (2, 4, 2)


def test_board_rebuilt_from_postgres_when_redis_lost_it(django_capture_on_commit_callbacks):
    test = PracticeTestFactory(question_count=2)
    ana, ben = UserFactory(name="Ana"), UserFactory(name="Ben")
    _take(test, ana, "AB", django_capture_on_commit_callbacks)  # 3
    _take(test, ben, "AA", django_capture_on_commit_callbacks)  # 8
    get_redis_connection("default").flushdb()

    board = selectors.leaderboard_for_test(test=test, user=ana)

    assert [(row["name"], row["score"]) for row in board["top"]] == [("Ben", 8), ("Ana", 3)]
    assert board["me"]["rank"] == 2
    assert get_redis_connection("default").zcard(caches.test_board_key(test.pk)) == 2


def test_top_ten_names_come_from_the_cache_and_follow_a_rename(
    django_capture_on_commit_callbacks, django_assert_num_queries
):
    test = PracticeTestFactory(question_count=1)
    for _ in range(12):
        _take(test, UserFactory(), "A", django_capture_on_commit_callbacks)
    selectors.leaderboard_for_test(test=test)  # board built, its names cached

    with django_assert_num_queries(0):
        board = selectors.leaderboard_for_test(test=test)
    leader = User.objects.get(pk=board["top"][0]["user_id"])
    with django_capture_on_commit_callbacks(execute=True):
        leader.name = "Renamed Leader"
        leader.save(update_fields=["name"])

    assert len(board["top"]) == 10
    assert board["total"] == 12
    assert selectors.leaderboard_for_test(test=test)["top"][0]["name"] == "Renamed Leader"


def test_weekly_topic_board_sums_topic_marks(django_capture_on_commit_callbacks):
    test = PracticeTestFactory(question_count=3)  # topics cycle: organelles, membrane, nucleus
    ana, ben = UserFactory(name="Ana"), UserFactory(name="Ben")
    topic = caches.paper_get(test)["questions"][0]["topic"]
    selectors.leaderboard_for_topic(topic=topic)  # board exists before the submits
    _take(test, ana, "A", django_capture_on_commit_callbacks)
    _take(test, ana, "A", django_capture_on_commit_callbacks)
    _take(test, ben, "B", django_capture_on_commit_callbacks)

    board = selectors.leaderboard_for_topic(topic=topic, user=ben)

    assert [(row["name"], row["score"]) for row in board["top"]] == [("Ana", 8), ("Ben", -1)]
    assert board["week"] == caches.iso_week(timezone.localdate())
    assert board["me"]["rank"] == 2


def test_weekly_topic_board_rebuild_counts_each_submit_once(django_capture_on_commit_callbacks):
    test = PracticeTestFactory(question_count=1)
    topic = caches.paper_get(test)["questions"][0]["topic"]
    ana = UserFactory()
    _take(test, ana, "A", django_capture_on_commit_callbacks)  # before the board was ever read
    _take(test, ana, "A", django_capture_on_commit_callbacks)

    first = selectors.leaderboard_for_topic(topic=topic, user=ana)
    get_redis_connection("default").flushdb()
    rebuilt = selectors.leaderboard_for_topic(topic=topic, user=ana)

    assert first["me"]["score"] == 8
    assert rebuilt["me"]["score"] == 8


def test_board_served_from_postgres_when_redis_is_unavailable(django_capture_on_commit_callbacks, monkeypatch):
    test = PracticeTestFactory(question_count=1)
    ana = UserFactory(name="Ana")
    _take(test, ana, "A", django_capture_on_commit_callbacks)
    monkeypatch.setattr(caches, "redis_client", lambda: None)

    board = selectors.leaderboard_for_test(test=test, user=ana)

    assert board["top"] == [{"rank": 1, "user_id": ana.pk, "name": "Ana", "score": 4}]
    assert board["me"] == {"rank": 1, "score": 4, "percentile": 100.0, "position": 1}


def test_equal_scores_share_a_rank_in_one_order_from_redis_and_from_postgres(
    django_capture_on_commit_callbacks, monkeypatch
):
    # Given four learners, two of them tied on 3
    test = PracticeTestFactory(question_count=2)
    ana, ben, cy, dev = (UserFactory(name=name) for name in ("Ana", "Ben", "Cy", "Dev"))
    for learner, options in ((ana, "AA"), (ben, "AB"), (cy, "BA"), (dev, "")):  # 8, 3, 3, 0
        _take(test, learner, options, django_capture_on_commit_callbacks)

    # When the board is read from Redis, and again while Redis is unavailable (PostgreSQL)
    from_redis = [selectors.leaderboard_for_test(test=test, user=learner) for learner in (ben, cy)]
    my_rank = selectors.rank_for_test(test=test, user=cy)
    monkeypatch.setattr(caches, "redis_client", lambda: None)
    from_postgres = [selectors.leaderboard_for_test(test=test, user=learner) for learner in (ben, cy)]

    # Then the tied learners share rank 2 (1, 2, 2, 4, as practice.ranking ranks ties), everywhere
    assert [(row["rank"], row["score"]) for row in from_redis[0]["top"]] == [(1, 8), (2, 3), (2, 3), (4, 0)]
    assert [(board["me"]["rank"], board["me"]["score"], board["me"]["percentile"]) for board in from_redis] == [
        (2, 3, 75.0)
    ] * 2
    assert (my_rank["rank"], my_rank["percentile"]) == (2, 75.0)
    # ... and each tied learner's position is their own row of the tie (page_state.js marks that row)
    for board, learner in zip(from_redis, (ben, cy), strict=True):
        assert board["top"][board["me"]["position"] - 1]["user_id"] == learner.pk
    assert my_rank["position"] == from_redis[1]["me"]["position"]
    # ... and both sources list the tie in the same order
    assert from_postgres == from_redis


@pytest.mark.parametrize("week", ["2026-48", "2026-W54", "W48", "2026-Wxx"])
def test_topic_board_refuses_malformed_week(week):
    with pytest.raises(DomainError) as error:
        selectors.leaderboard_for_topic(topic="nucleus", week=week)

    assert list(error.value.fields) == ["week"]


def test_topic_board_for_a_past_week_reads_that_week():
    assert selectors.leaderboard_for_topic(topic="nucleus", week="2026-W01")["week"] == "2026-W01"


def test_boards_expire_and_their_built_marker_expires_first(django_capture_on_commit_callbacks):
    test = PracticeTestFactory(question_count=1)
    _take(test, UserFactory(), "A", django_capture_on_commit_callbacks)
    selectors.leaderboard_for_test(test=test)
    redis = get_redis_connection("default")
    key = caches.test_board_key(test.pk)

    board_ttl, marker_ttl = redis.ttl(key), redis.ttl(f"{key}:built")

    assert 24 * 3600 - 5 <= board_ttl <= 24 * 3600
    assert marker_ttl == pytest.approx(board_ttl - 60, abs=5)


# --- Races: a board rebuilt from rows read just before a write (docs/caching.md, leaderboards) ------------


def _board_score(kind: str, test, user) -> int | None:
    """The user's score on the test's board, or on the board of the test's first topic this week."""
    if kind == "test":
        board = selectors.leaderboard_for_test(test=test, user=user)
    else:
        board = selectors.leaderboard_for_topic(topic=caches.paper_get(test)["questions"][0]["topic"], user=user)
    return board["me"] and board["me"]["score"]


_SCORES_READ = {"test": "_test_scores", "topic": "_topic_scores"}


@pytest.mark.parametrize("kind", ["test", "topic"])
def test_a_rescore_committed_while_a_board_is_rebuilt_shows_on_the_next_read(
    kind, django_capture_on_commit_callbacks, monkeypatch, racing
):
    # Given Ana's 4 marks on the board's rows, and a rebuild that reads them just before a key change
    # (A -> B) re-scores her to -1 and commits
    test = PracticeTestFactory(question_count=1)
    ana = UserFactory(name="Ana")
    _take(test, ana, "A", django_capture_on_commit_callbacks)
    question = Question.objects.get(pk=caches.paper_get(test)["questions"][0]["id"])
    rekey = lambda: question_rekey(question=question, correct_option="B", reason="typo in the key")  # noqa: E731
    name = _SCORES_READ[kind]
    with monkeypatch.context() as patch:
        patch.setattr(selectors, name, racing(getattr(selectors, name), rekey))
        _board_score(kind, test, ana)

    # Then the next read has the new score: the rebuild's old scores were not stored under the new version
    assert _board_score(kind, test, ana) == -1


def test_a_results_announcement_committed_while_a_board_is_rebuilt_shows_on_the_next_read(racing):
    # boards_rebuild_later (a live mock's results opening) moves the version like a re-score's drop
    key = caches.test_board_key(4242)
    scores = {1: 10}
    announce = lambda: scores.update({2: 30}) or caches.boards_rebuild_later([key])  # noqa: E731

    read = lambda: (dict(scores), None)  # noqa: E731
    caches.board_read(key=key, user_id=None, rebuild=racing(read, announce))

    assert caches.board_read(key=key, user_id=None, rebuild=read)["top"] == [(2, 30), (1, 10)]


@pytest.mark.parametrize("kind", ["test", "topic"])
def test_a_submit_committed_while_a_board_is_rebuilt_is_on_the_board(
    kind, django_capture_on_commit_callbacks, monkeypatch, racing
):
    # Given a rebuild that reads Ana's 4 marks, then Ben's submit (one wrong answer, -1) commits and reaches
    # Redis before the rebuild stores what it read
    test = PracticeTestFactory(question_count=1)
    ana, ben = UserFactory(name="Ana"), UserFactory(name="Ben")
    _take(test, ana, "A", django_capture_on_commit_callbacks)
    submit = lambda: _take(test, ben, "B", django_capture_on_commit_callbacks)  # noqa: E731
    name = _SCORES_READ[kind]
    with monkeypatch.context() as patch:
        patch.setattr(selectors, name, racing(getattr(selectors, name), submit))
        _board_score(kind, test, ana)

    # Then both are on the board, each counted once
    assert _board_score(kind, test, ben) == -1
    assert _board_score(kind, test, ana) == 4


def test_a_topic_submit_the_rebuild_already_counted_is_not_added_again(django_capture_on_commit_callbacks, monkeypatch):
    # Given a submit that commits before the rebuild's SELECT but reaches Redis while the rebuild runs
    test = PracticeTestFactory(question_count=1)
    ana = UserFactory(name="Ana")
    topic = caches.paper_get(test)["questions"][0]["topic"]
    late, read = [], selectors._topic_scores

    def read_then_increment(*args):
        rows = read(*args)
        caches.leaderboard_record(**late[0])
        return rows

    with monkeypatch.context() as patch:
        patch.setattr(caches, "leaderboard_record", lambda **kwargs: late.append(kwargs))
        _take(test, ana, "A", django_capture_on_commit_callbacks)  # committed, its increment held back
    with monkeypatch.context() as patch:
        patch.setattr(selectors, "_topic_scores", read_then_increment)
        selectors.leaderboard_for_topic(topic=topic)

    assert selectors.leaderboard_for_topic(topic=topic, user=ana)["me"]["score"] == 4


def test_a_topic_submit_the_rebuild_counted_reaching_redis_after_the_store_is_not_added_again(
    django_capture_on_commit_callbacks, monkeypatch
):
    # Given a submit that committed, whose increment is held back (a stalled worker) past a whole rebuild
    test = PracticeTestFactory(question_count=1)
    ana = UserFactory(name="Ana")
    topic = caches.paper_get(test)["questions"][0]["topic"]
    late = []
    with monkeypatch.context() as patch:
        patch.setattr(caches, "leaderboard_record", lambda **kwargs: late.append(kwargs))
        _take(test, ana, "A", django_capture_on_commit_callbacks)
    selectors.leaderboard_for_topic(topic=topic)  # the rebuild's SELECT counts it; the board is built

    # When the held-back increment reaches the built board
    caches.leaderboard_record(**late[0])

    # Then her 4 marks are counted once
    assert selectors.leaderboard_for_topic(topic=topic, user=ana)["me"]["score"] == 4


def test_a_topic_board_rebuilt_over_its_old_sums_follows_a_sum_that_went_down(django_capture_on_commit_callbacks):
    # Given Ana's 4 marks on a built topic board, whose marker is then dropped (a live mock's results opened)
    test = PracticeTestFactory(question_count=1)
    ana = UserFactory(name="Ana")
    topic = caches.paper_get(test)["questions"][0]["topic"]
    _take(test, ana, "A", django_capture_on_commit_callbacks)
    selectors.leaderboard_for_topic(topic=topic)
    caches.boards_rebuild_later([caches.topic_board_key(slugify(topic), caches.iso_week(timezone.localdate()))])
    # When she loses a mark while the board is not built (the increment is left to the rebuild)
    _take(test, ana, "B", django_capture_on_commit_callbacks)

    # Then the rebuilt sum is 3, not the higher of the old board's 4 and PostgreSQL's 3
    assert selectors.leaderboard_for_topic(topic=topic, user=ana)["me"]["score"] == 3


@pytest.mark.parametrize("learners", [1, 10])
def test_a_board_read_after_a_redis_restart_costs_the_same_round_trips_for_1_and_10_rows(
    learners, django_capture_on_commit_callbacks, redis_round_trips
):
    # Given a board of `learners` learners, its names cached, then Redis restarted empty
    test = PracticeTestFactory(question_count=1)
    for _ in range(learners):
        _take(test, UserFactory(), "A", django_capture_on_commit_callbacks)
    selectors.leaderboard_for_test(test=test)
    get_redis_connection("default").flushdb()
    redis_round_trips.reset()

    # When the board is read again
    board = selectors.leaderboard_for_test(test=test)

    # Then the rebuild and the names' new user versions are a fixed number of round trips, not one per row:
    # board read, lock and version, store, unlock, board read, names' MGET, their versions, names' store
    assert len(board["top"]) == learners
    assert redis_round_trips.count == 8, redis_round_trips.commands


@pytest.mark.parametrize("kind", ["test", "topic"])
def test_a_warm_board_is_one_redis_round_trip_and_no_sql(
    kind, django_capture_on_commit_callbacks, redis_round_trips, django_assert_num_queries
):
    test = PracticeTestFactory(question_count=1)
    ana = UserFactory(name="Ana")
    _take(test, ana, "A", django_capture_on_commit_callbacks)
    _board_score(kind, test, ana)  # built, with its names
    redis_round_trips.reset()

    with django_assert_num_queries(0):
        assert _board_score(kind, test, ana) == 4

    assert redis_round_trips.count == 2, redis_round_trips.commands  # the board's pipeline, the names' MGET


def test_a_rebuild_slower_than_its_lock_does_not_free_the_lock_another_rebuild_took(
    django_capture_on_commit_callbacks, monkeypatch
):
    # Given a test board whose rebuild outlives its lock while another process takes the lock
    test = PracticeTestFactory(question_count=1)
    _take(test, UserFactory(), "A", django_capture_on_commit_callbacks)
    client, lock = get_redis_connection("default"), f"lock:{caches.test_board_key(test.pk)}"
    client.delete(caches.test_board_key(test.pk), f"{caches.test_board_key(test.pk)}:built")
    scores, called = selectors._test_scores, []

    def slow_scores(*args, **kwargs):
        if not called:  # the rebuild's read (the PostgreSQL fallback reads again after it)
            client.set(lock, "another-rebuild", ex=30)  # ours expired; another process took it
        called.append(1)
        return scores(*args, **kwargs)

    monkeypatch.setattr(selectors, "_test_scores", slow_scores)
    selectors.leaderboard_for_test(test=test)

    # Then the other rebuild's lock is still there
    assert client.get(lock) == b"another-rebuild"
