"""Item analysis against a hand-computed fixture; re-scoring after a key change; the admin's filters.

The fixture: a 4-question test (keys A, B, C, D), five learners L1..L5 (first attempts, in this order):

    learner   Q1  Q2  Q3  Q4   right (key D for Q4)   NTA score (+4/-1/0)
    L1        A   B   C   A    1 1 1 0 = 3            12 - 1 = 11
    L2        A   B   D   B    1 1 0 0 = 2             8 - 2 =  6
    L3        A   C   C   B    1 0 1 0 = 2             8 - 2 =  6
    L4        A   B   A   -    1 1 0 0 = 2             8 - 1 =  7
    L5        B   -   B   D    0 0 0 1 = 1             4 - 2 =  2

Facility p (share right): Q1 4/5 = 0.8, Q2 3/5 = 0.6, Q3 2/5 = 0.4, Q4 1/5 = 0.2.
Discrimination: N = 5, group size n = round(0.27 * 5) = round(1.35) = 1; upper = L1 (3 right), lower =
L5 (1 right). D = (right in upper - right in lower) / n: Q1 (1-0)/1 = 1, Q2 1, Q3 1, Q4 (0-1)/1 = -1.
KR-20: k = 4; sum(pq) = .8*.2 + .6*.4 + .4*.6 + .2*.8 = .16 + .24 + .24 + .16 = 0.8; totals 3,2,2,2,1:
mean 2, population variance (1+0+0+0+1)/5 = 0.4; KR-20 = 4/3 * (1 - 0.8/0.4) = 4/3 * -1 = -1.333.
Mean right 2, SD sqrt(0.4) = 0.632.

Q4's key is wrong (the strongest learner chose A, the weakest D): after re-keying Q4 to A,
L1 has 4 right (16 marks) and L5 none (0 right, 3 wrong: -3); L2, L3, L4 keep theirs (Q4 B, B, blank).
Totals 4,2,2,2,0: mean 2, variance (4+0+0+0+4)/5 = 1.6; sum(pq) still 0.8 (Q4: only L1 chose A, p = 0.2);
KR-20 = 4/3 * (1 - 0.8/1.6) = 4/3 * 0.5 = 0.667; Q4's discrimination (1-0)/1 = +1.

Time on Q1: 10, 20, 30, 40, 50 s -> mean 30 s; Q2: only L1 sent time (90 s) -> 90 s; Q3, Q4: none.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cerebrum.cache import l1_clear
from cerebrum.errors import DomainError
from courses import caches, item_analysis, models, rekey, selectors, services
from courses.models import PaperVersion, PracticeTest, PracticeTestQuestion, QuestionKeyChange, QuestionStatistics
from tests.factories import PracticeTestFactory, QuestionFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

KEYS = "ABCD"
CHOICES = {"L1": "ABCA", "L2": "ABDB", "L3": "ACCB", "L4": "ABA-", "L5": "B-BD"}
SECONDS = {"L1": (10, 90), "L2": (20, 0), "L3": (30, 0), "L4": (40, 0), "L5": (50, 0)}


def _paper(question_count: int = 4, **test_fields) -> tuple[PracticeTest, list]:
    test = PracticeTestFactory(question_count=0, **test_fields)
    questions = [
        QuestionFactory(correct_option=KEYS[index % 4], topic=f"Topic {index + 1}") for index in range(question_count)
    ]
    for position, question in enumerate(questions, start=1):
        PracticeTestQuestion.objects.create(test=test, question=question, position=position)
    return test, questions


def _take(test, user, choices: str, questions, capture, seconds=()) -> models.TestAttempt:
    """Answer in paper order ("-" = blank), with time per question, and submit (running on-commit work)."""
    with capture(execute=True):
        attempt = services.attempt_start(test=test, user=user)
        # The server caps time spent by the time since the start: this attempt began 10 minutes ago.
        models.TestAttempt.objects.filter(pk=attempt.pk).update(started_at=timezone.now() - timedelta(minutes=10))
        items = [
            {
                "question_id": question.pk,
                "option": "" if choice == "-" else choice,
                "seq": seq,
                "time_spent_seconds": seconds[seq - 1] if seq <= len(seconds) else 0,
            }
            for seq, (question, choice) in enumerate(zip(questions, choices, strict=True), start=1)
            if choice != "-" or (seq <= len(seconds) and seconds[seq - 1])
        ]
        services.attempt_answers_save(attempt=attempt, answers=items)
        return services.attempt_submit(attempt=attempt)


@pytest.fixture
def fixture_test(django_capture_on_commit_callbacks):
    test, questions = _paper()
    learners = {name: UserFactory(name=name) for name in CHOICES}
    attempts = {
        name: _take(test, learners[name], CHOICES[name], questions, django_capture_on_commit_callbacks, SECONDS[name])
        for name in CHOICES
    }
    return test, questions, learners, attempts


def _stats(test) -> list[QuestionStatistics]:
    return list(QuestionStatistics.objects.filter(test=test).order_by("position"))


def test_statistics_match_the_hand_computed_fixture(fixture_test):
    test, questions, _, attempts = fixture_test
    assert [attempts[name].score for name in CHOICES] == [11, 6, 6, 7, 2]

    statistics = item_analysis.item_analysis_compute(test_id=test.pk)

    statistics.refresh_from_db()
    assert (statistics.takers, statistics.question_count) == (5, 4)
    assert statistics.mean_correct == pytest.approx(2.0)
    assert statistics.sd_correct == pytest.approx(0.4**0.5)
    assert statistics.kr20 == pytest.approx(-4 / 3)
    rows = _stats(test)
    assert [row.question_id for row in rows] == [question.pk for question in questions]
    assert [row.facility for row in rows] == pytest.approx([0.8, 0.6, 0.4, 0.2])
    assert [row.discrimination for row in rows] == pytest.approx([1.0, 1.0, 1.0, -1.0])
    assert [row.option_counts for row in rows] == [
        {"A": 4, "B": 1, "C": 0, "D": 0, "": 0},
        {"A": 0, "B": 3, "C": 1, "D": 0, "": 1},
        {"A": 1, "B": 1, "C": 2, "D": 1, "": 0},
        {"A": 1, "B": 2, "C": 0, "D": 1, "": 1},
    ]
    assert [row.average_seconds for row in rows] == [pytest.approx(30.0), pytest.approx(90.0), None, None]
    assert [row.correct_option for row in rows] == list(KEYS)


def test_only_each_learners_first_finished_attempt_counts(fixture_test, django_capture_on_commit_callbacks):
    test, questions, learners, _ = fixture_test
    # L5 tries again and gets everything right: a second attempt, left out as Moodle does by default.
    _take(test, learners["L5"], "ABCD", questions, django_capture_on_commit_callbacks)

    item_analysis.item_analysis_compute(test_id=test.pk)

    assert models.TestStatistics.objects.get(test=test).takers == 5
    assert [row.facility for row in _stats(test)] == pytest.approx([0.8, 0.6, 0.4, 0.2])


@pytest.mark.parametrize(
    ("totals", "upper", "lower"),
    [
        ([3, 2, 2, 2, 1], [0], [4]),  # N = 5: n = round(1.35) = 1
        ([5, 1, 4, 0, 3, 2, 6, 7, 8, 9], [8, 9, 7], [1, 3, 5]),  # N = 10: n = round(2.7) = 3, by total
        ([1, 1], [1], [0]),  # N = 2: n = 1, a tie broken by order (the earlier attempt ranks lower)
        ([4], [], []),  # one taker: no groups, discrimination undefined
    ],
)
def test_upper_and_lower_groups_are_27_percent_by_total(totals, upper, lower):
    got_upper, got_lower = item_analysis.upper_lower_groups(totals)

    assert sorted(got_upper) == sorted(upper)
    assert sorted(got_lower) == sorted(lower)


def test_undefined_statistics_are_none_not_errors():
    one_taker = item_analysis.analyse(key={1: "A", 2: "B"}, responses=[{"1": "A"}])
    no_spread = item_analysis.analyse(key={1: "A", 2: "B"}, responses=[{"1": "A"}, {"1": "A"}])
    nobody = item_analysis.analyse(key={1: "A", 2: "B"}, responses=[])

    assert (one_taker.kr20, one_taker.items[0].discrimination, one_taker.items[0].facility) == (None, None, 1.0)
    assert no_spread.kr20 is None  # every taker 1 right: zero variance
    assert (nobody.kr20, nobody.items[0].facility, nobody.mean_correct) == (None, None, None)


def test_computation_costs_the_same_queries_for_2_or_12_takers(django_capture_on_commit_callbacks):
    counts = []
    for takers in (2, 12):
        test, questions = _paper(question_count=6)
        for number in range(takers):
            _take(
                test,
                UserFactory(),
                "ABCDAB"[: 1 + number % 6],
                questions[: 1 + number % 6],
                django_capture_on_commit_callbacks,
            )
        with CaptureQueriesContext(connection) as queries:
            item_analysis.item_analysis_compute(test_id=test.pk)
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert counts[1] <= 9  # timeout, paper, answers, times, three writes (+ savepoint bookkeeping)


def test_rekey_rescores_every_attempt_and_the_leaderboard(fixture_test, django_capture_on_commit_callbacks):
    test, questions, learners, attempts = fixture_test
    staff = StaffFactory()
    board = selectors.leaderboard_for_test(test=test)
    assert {row["name"]: row["score"] for row in board["top"]} == {"L1": 11, "L4": 7, "L2": 6, "L3": 6, "L5": 2}

    with django_capture_on_commit_callbacks(execute=True):
        change = rekey.question_rekey(question=questions[3], correct_option="a", changed_by=staff, reason="Wrong key")

    scores = {name: models.TestAttempt.objects.get(pk=attempts[name].pk).score for name in CHOICES}
    assert scores == {"L1": 16, "L2": 6, "L3": 6, "L4": 7, "L5": -3}
    l5 = models.TestAttempt.objects.get(pk=attempts["L5"].pk)
    assert (l5.correct_count, l5.wrong_count, l5.unanswered_count) == (0, 3, 1)
    assert l5.topic_breakdown["Topic 4"] == {
        "chapter": questions[3].chapter,
        "total": 1,
        "correct": 0,
        "wrong": 1,
        "unanswered": 0,
        "score": -1,
    }
    board = selectors.leaderboard_for_test(test=test, user=learners["L5"])
    assert {row["name"]: row["score"] for row in board["top"]} == {"L1": 16, "L4": 7, "L2": 6, "L3": 6, "L5": -3}
    assert [row["name"] for row in board["top"]][:2] == ["L1", "L4"]
    assert board["me"]["rank"] == 5
    # The log staff see, and the analysis redone on the new key (see the module docstring).
    assert (change.old_option, change.new_option, change.changed_by, change.reason) == ("D", "A", staff, "Wrong key")
    assert (change.test_ids, change.attempts_rescored, change.scores_changed) == ([test.pk], 5, 2)
    assert models.TestStatistics.objects.get(test=test).kr20 == pytest.approx(2 / 3)
    assert [row.discrimination for row in _stats(test)] == pytest.approx([1.0, 1.0, 1.0, 1.0])
    assert _stats(test)[3].correct_option == "A"
    frozen = PaperVersion.objects.get(test=test, version=attempts["L1"].paper_version)
    assert frozen.answer_key[str(questions[3].pk)]["correct"] == "A"


def test_rekey_corrects_the_key_a_running_attempt_will_be_scored_on(fixture_test, django_capture_on_commit_callbacks):
    test, questions, _, _ = fixture_test
    late = UserFactory(name="Late")
    with django_capture_on_commit_callbacks(execute=True):
        running = services.attempt_start(test=test, user=late)
        services.attempt_answer(attempt=running, question_id=questions[3].pk, option="A")
        caches.answer_key_get(test_id=test.pk, version=running.paper_version)  # the old key is cached

    with django_capture_on_commit_callbacks(execute=True):
        rekey.question_rekey(question=questions[3], correct_option="A")
    l1_clear()  # this process's copy (30 s at most in production; the second re-score pass covers it)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = services.attempt_submit(attempt=running)

    assert (submitted.score, submitted.correct_count) == (4, 1)


def test_rekey_refuses_a_bad_or_unchanged_key(fixture_test):
    _, questions, _, attempts = fixture_test

    with pytest.raises(DomainError):
        rekey.question_rekey(question=questions[0], correct_option="E")
    with pytest.raises(DomainError) as unchanged:
        rekey.question_rekey(question=questions[0], correct_option="A")

    assert unchanged.value.code == "key_unchanged"
    assert QuestionKeyChange.objects.count() == 0
    assert models.TestAttempt.objects.get(pk=attempts["L1"].pk).score == 11


def test_rescoring_twice_changes_nothing_more(fixture_test):
    test, questions, _, _ = fixture_test
    rekey.question_rekey(question=questions[3], correct_option="A")

    assert rekey.attempts_rescore(test_ids=[test.pk]) == (5, 0)


# --- When it runs ----------------------------------------------------------------------------------


def test_a_closed_live_mock_is_analysed_once_after_its_results_open(fixture_test):
    test, _, _, _ = fixture_test
    PracticeTest.objects.filter(pk=test.pk).update(
        scheduled_start=timezone.now() - timedelta(hours=2), results_announced_at=timezone.now()
    )

    assert item_analysis.closed_mocks_analyse() == 1
    assert item_analysis.closed_mocks_analyse() == 0
    assert models.TestStatistics.objects.get(test=test).takers == 5


def test_nightly_run_analyses_tests_with_new_attempts_but_not_a_mock_still_running(
    fixture_test, django_capture_on_commit_callbacks
):
    test, _, _, _ = fixture_test
    running_mock, questions = _paper(scheduled_start=timezone.now() - timedelta(minutes=5))
    _take(running_mock, UserFactory(), "ABCD", questions, django_capture_on_commit_callbacks)

    assert item_analysis.recent_tests_analyse() == 1

    assert models.TestStatistics.objects.filter(test=test).exists()
    assert not models.TestStatistics.objects.filter(test=running_mock).exists()


def test_the_beat_schedule_runs_both_analyses():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {"courses.item_analysis_closed_mocks", "courses.item_analysis_nightly"} <= tasks


# --- Admin ----------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def _row(test, question, **stats) -> QuestionStatistics:
    return QuestionStatistics.objects.create(test=test, question=question, correct_option="A", takers=40, **stats)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("discrimination=negative", ["miskeyed"]),
        ("facility=lt10", ["too hard"]),
        ("facility=gt90", ["too easy"]),
        ("discrimination=good", ["good"]),
        ("options=wrong_beats_key", ["miskeyed"]),
        ("", ["miskeyed", "too hard", "too easy", "good"]),
    ],
)
def test_admin_filters_find_the_bad_questions(staff_client, query, expected):
    test, _ = _paper(question_count=0)
    named = {name: QuestionFactory(text=name) for name in ("miskeyed", "too hard", "too easy", "good")}
    _row(test, named["miskeyed"], facility=0.2, discrimination=-0.3, option_counts={"A": 8, "B": 25, "": 7})
    _row(test, named["too hard"], facility=0.05, discrimination=0.1, option_counts={"A": 2, "B": 1, "": 37})
    _row(test, named["too easy"], facility=0.95, discrimination=0.05, option_counts={"A": 38, "C": 2})
    _row(test, named["good"], facility=0.5, discrimination=0.5, option_counts={"A": 20, "B": 10, "C": 10})

    response = staff_client.get(reverse("admin:courses_questionstatistics_changelist") + f"?{query}")

    assert response.status_code == 200
    shown = [row.question.text for row in response.context["cl"].result_list]
    assert sorted(shown) == sorted(expected)
    for name in expected:
        assert reverse("admin:courses_question_change", args=[named[name].pk]).encode() in response.content
    if "miskeyed" in expected:  # its options, the key in bold: the wrong B was chosen 25 times
        assert "<b>A: 8</b> · B: 25 · C: 0 · D: 0 · blank: 7" in response.content.decode()


def test_admin_statistics_pages_cost_the_same_for_1_or_40_rows(staff_client):
    test, _ = _paper(question_count=0)
    _row(test, QuestionFactory(), facility=0.5, discrimination=0.5)
    staff_client.get(reverse("admin:courses_questionstatistics_changelist"))  # the session and user cached
    with CaptureQueriesContext(connection) as one:
        staff_client.get(reverse("admin:courses_questionstatistics_changelist"))
    for _ in range(39):
        _row(test, QuestionFactory(), facility=0.5, discrimination=0.5)
    with CaptureQueriesContext(connection) as forty:
        response = staff_client.get(reverse("admin:courses_questionstatistics_changelist"))

    assert response.status_code == 200
    assert len(forty) == len(one)


def test_changing_the_key_in_the_admin_rescores_and_logs(
    staff_client, fixture_test, django_capture_on_commit_callbacks
):
    test, questions, _, attempts = fixture_test
    question = questions[3]
    url = reverse("admin:courses_question_change", args=[question.pk])
    form = staff_client.get(url).context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(correct_option="A", is_active="on")

    with django_capture_on_commit_callbacks(execute=True):  # the re-key task runs after the save commits
        response = staff_client.post(url, data, follow=True)

    assert response.status_code == 200
    assert "re-scored in the background" in response.content.decode()
    assert models.TestAttempt.objects.get(pk=attempts["L1"].pk).score == 16
    change = QuestionKeyChange.objects.get()
    assert (change.old_option, change.new_option, change.attempts_rescored, change.reason) == (
        "D",
        "A",
        5,
        "Admin edit",
    )
    assert change.changed_by.is_staff
    log = staff_client.get(reverse("admin:courses_questionkeychange_changelist"))
    assert log.status_code == 200
    assert reverse("admin:courses_question_change", args=[question.pk]).encode() in log.content


@pytest.mark.usefixtures("broker_down")
def test_changing_the_key_with_the_broker_down_rescores_here(
    staff_client, fixture_test, django_capture_on_commit_callbacks
):
    test, questions, _, attempts = fixture_test
    url = reverse("admin:courses_question_change", args=[questions[3].pk])
    form = staff_client.get(url).context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(correct_option="A", is_active="on")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, data, follow=True)

    assert response.status_code == 200
    assert models.TestAttempt.objects.get(pk=attempts["L1"].pk).score == 16
    assert QuestionKeyChange.objects.get().attempts_rescored == 5


def test_test_statistics_admin_links_to_its_questions(staff_client, fixture_test):
    test, _, _, _ = fixture_test
    item_analysis.item_analysis_compute(test_id=test.pk)

    response = staff_client.get(reverse("admin:courses_teststatistics_changelist"))

    assert response.status_code == 200
    assert f"?test__id__exact={test.pk}".encode() in response.content
    assert b"-1.33" in response.content


def test_rescore_action_applies_a_changed_marking_to_finished_attempts(staff_client, fixture_test):
    # Given the fixture's test re-marked without negative marks (+4 / 0 / 0)
    test, _, _, attempts = fixture_test
    PracticeTest.objects.filter(pk=test.pk).update(marks_wrong=0)

    response = staff_client.post(
        reverse("admin:courses_practicetest_changelist"),
        {"action": "rescore", "_selected_action": [test.pk]},
        follow=True,
    )

    assert response.status_code == 200
    scores = {name: models.TestAttempt.objects.get(pk=attempts[name].pk).score for name in CHOICES}
    assert scores == {"L1": 12, "L2": 8, "L3": 8, "L4": 8, "L5": 4}
    assert "Re-scored 5 attempts; 5 scores changed." in response.content.decode()


def test_rescoring_costs_the_same_queries_for_3_or_12_attempts(django_capture_on_commit_callbacks):
    counts = []
    for takers in (3, 12):
        test, questions = _paper()
        for number in range(takers):
            _take(
                test,
                UserFactory(),
                "BADC"[: 1 + number % 4],
                questions[: 1 + number % 4],
                django_capture_on_commit_callbacks,
            )
        PracticeTest.objects.filter(pk=test.pk).update(marks_wrong=-2)  # every wrong answer now costs more
        with CaptureQueriesContext(connection) as queries:
            rekey.attempts_rescore(test_ids=[test.pk])
        counts.append(len(queries))

    assert counts[0] == counts[1]  # tests, frozen papers, the attempts (locked), one bulk UPDATE
    assert models.TestAttempt.objects.filter(score=-2).count() == 1 + 3  # one wrong answer: number % 4 == 0


def test_seed_demo_leaves_the_item_analysis_filled_in():
    # `make run`'s demo data: staff open Question statistics and see the seeded attempts analysed.
    call_command("seed_demo", size="small", stdout=io.StringIO())

    analysed = models.TestStatistics.objects.filter(takers__gt=1)
    assert analysed.exists()
    rows = QuestionStatistics.objects.filter(test__in=analysed.values("test"))
    assert rows.filter(discrimination__isnull=False).exists()
    assert rows.filter(facility__gt=0, facility__lt=1).exists()
