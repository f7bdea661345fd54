"""The exam's rules: sections and NTA scoring, live mocks nobody can game, per-learner order, extra time,
paper versions, time spent, and the state/summary the exam screen reads (docs/exam.md)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from cerebrum.cache import l1_clear, page_cache_bump
from cerebrum.errors import Conflict, DomainError
from courses import caches, selectors, services
from courses.exam_screen import exam_shell, screen_values
from courses.models import AttemptAnswer, AttemptTimeGrant, PracticeTestQuestion, TestSection
from courses.models import TestAttempt as Attempt
from courses.scoring import Marking, max_score, score_answers
from tests.factories import (
    ChapterNoteFactory,
    CourseFactory,
    PracticeTestFactory,
    QuestionFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
NTA = Marking()


def _item(question_id: int, option: str, seq: int, **extra) -> dict:
    return {"question_id": question_id, "option": option, "seq": seq, **extra}


def _sectioned_test(sizes: dict[str, tuple[int, int | None]], **fields):
    """A test with sections {name: (question count, attempt_any)}; every key is "A"."""
    test = PracticeTestFactory(question_count=0, **fields)
    position = 0
    for index, (name, (count, attempt_any)) in enumerate(sizes.items(), start=1):
        section = TestSection.objects.create(test=test, name=name, position=index, attempt_any=attempt_any)
        for _ in range(count):
            position += 1
            PracticeTestQuestion.objects.create(
                test=test, question=QuestionFactory(), position=position, section=section
            )
    return test


# --- Sections and NTA scoring ------------------------------------------------------------------------


KEY = {str(n): {"correct": "A", "topic": "T", "chapter": "C"} for n in range(1, 8)}


@pytest.mark.parametrize(
    ("answers", "expected_score", "not_evaluated"),
    [
        pytest.param({"1": "A", "2": "A", "3": "A", "4": "A", "5": "A"}, 20, 0, id="all-answered-right"),
        pytest.param({"4": "A", "5": "A", "6": "B", "7": "A"}, 4 + 4 - 1, 1, id="fourth-answer-not-evaluated"),
        pytest.param({"7": "B", "6": "A", "5": "B"}, -1 + 4 - 1, 0, id="three-answered-all-count"),
        pytest.param({}, 0, 0, id="blank"),
    ],
)
def test_attempt_any_n_of_m_scores_the_first_n_answered_in_the_learners_order(answers, expected_score, not_evaluated):
    # Given section A (1-3, compulsory) and section B (4-7, attempt any 3 of 4)
    sections = [
        {"name": "A", "question_ids": [1, 2, 3], "attempt_any": None},
        {"name": "B", "question_ids": [4, 5, 6, 7], "attempt_any": 3},
    ]

    # When
    result = score_answers(answers=answers, answer_key=KEY, marking=NTA, sections=sections)

    # Then: past the third answered question of B, answers are not evaluated (0 marks, counted unanswered)
    assert result.score == expected_score
    assert result.section_breakdown["B"]["not_evaluated"] == not_evaluated
    assert result.correct_count + result.wrong_count + result.unanswered_count == 7


def test_max_score_counts_n_of_an_any_n_section():
    sections = [
        {"name": "A", "question_ids": [1] * 35, "attempt_any": None},
        {"name": "B", "question_ids": [1] * 15, "attempt_any": 10},
    ]
    assert max_score(question_count=50, marking=NTA, sections=sections) == 45 * 4


def test_any_n_of_m_follows_the_learners_shuffled_order_through_submit():
    # Given a test whose only section counts any 2 of 4, shuffled per learner
    test = _sectioned_test({"Biology": (4, 2)}, shuffle=True)
    user = UserFactory()
    attempt = services.attempt_start(test=test, user=user)
    order = attempt.question_order
    # When the learner answers their 4th, 1st and 3rd question (right, wrong, right on the canonical key)
    shown_right = {str(q): "ABCD"[attempt.option_orders[str(q)].index("A")] for q in order}
    shown_wrong = {str(q): "ABCD"[attempt.option_orders[str(q)].index("B")] for q in order}
    services.attempt_answers_save(
        attempt=attempt,
        answers=[
            _item(order[3], shown_right[str(order[3])], 1),
            _item(order[0], shown_wrong[str(order[0])], 2),
            _item(order[2], shown_right[str(order[2])], 3),
        ],
    )
    result = services.attempt_submit(attempt=attempt)
    # Then the first two in the learner's order (1st: wrong, 3rd: right) count; the 4th is not evaluated
    assert result.score == -1 + 4
    assert result.section_breakdown["Biology"]["not_evaluated"] == 1


def test_neet_2025_pattern_marks_per_test():
    # Given 4 sections of 3 questions (NEET's 45 each, scaled down) and the default +4/-1/0
    test = _sectioned_test({"Physics": (3, None), "Chemistry": (3, None), "Botany": (3, None), "Zoology": (3, None)})
    attempt = services.attempt_start(test=test, user=UserFactory())
    paper = caches.paper_get(test)
    assert [s["name"] for s in paper["sections"]] == ["Physics", "Chemistry", "Botany", "Zoology"]
    physics, chemistry = paper["sections"][0]["question_ids"], paper["sections"][1]["question_ids"]
    # When two physics answers are right and one chemistry answer is wrong
    services.attempt_answers_save(
        attempt=attempt, answers=[_item(physics[0], "A", 1), _item(physics[1], "A", 2), _item(chemistry[0], "C", 3)]
    )
    result = services.attempt_submit(attempt=attempt)
    # Then
    assert result.score == 4 + 4 - 1
    assert result.section_breakdown["Physics"]["score"] == 8
    assert result.section_breakdown["Chemistry"] == {
        "total": 3,
        "correct": 0,
        "wrong": 1,
        "unanswered": 2,
        "not_evaluated": 0,
        "score": -1,
    }


# --- Live mock: one attempt, results when the window closes ------------------------------------------


def _live(**fields):
    return PracticeTestFactory(
        question_count=3, scheduled_start=timezone.now() - timedelta(minutes=1), duration_minutes=60, **fields
    )


def test_a_live_mocks_after_submit_work_runs_once_when_its_results_open(
    monkeypatch, django_capture_on_commit_callbacks
):
    # Given an after-submit hook (as practice's mistake notebook) and a learner in a running live mock
    ran = []
    monkeypatch.setattr(services, "after_submit_hooks", [lambda attempts: ran.extend(a.pk for a in attempts)])
    test, user = _live(), UserFactory()
    other = services.attempt_start(test=test, user=UserFactory())  # still writing until the sweep closes it
    # When the learner submits, twice (a double click, the retry of a lost response)
    with django_capture_on_commit_callbacks(execute=True):
        attempt = services.attempt_start(test=test, user=user)
        services.attempt_submit(attempt=attempt)
        services.attempt_submit(attempt=attempt)
    # Then the submit leaves the hooks, the result message and the boards for the results-announce step
    assert ran == []
    assert services.live_results_announce() == 0  # the window is still open
    assert ran == []
    # When the window closes: the sweep closes the other attempt, then the announce runs, and runs again
    after = selectors.results_open_at(test) + timedelta(seconds=1)
    with time_machine.travel(after), django_capture_on_commit_callbacks(execute=True):
        assert services.attempts_expire_overdue() == 1
        assert services.live_results_announce() == 2
        assert services.live_results_announce() == 0
    # Then each finished attempt's hooks ran exactly once (the one the sweep closed after the window too:
    # the results were open then, but not yet announced)
    assert sorted(ran) == sorted([attempt.pk, other.pk])


def test_an_ordinary_tests_after_submit_work_runs_at_submit_once(monkeypatch, django_capture_on_commit_callbacks):
    ran = []
    monkeypatch.setattr(services, "after_submit_hooks", [lambda attempts: ran.extend(a.pk for a in attempts)])
    attempt = services.attempt_start(test=PracticeTestFactory(question_count=2), user=UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        services.attempt_submit(attempt=attempt)
        services.attempt_submit(attempt=attempt)
    assert ran == [attempt.pk]
    assert services.live_results_announce() == 0


def test_a_live_mock_can_be_started_once_whatever_max_attempts_says():
    test, user = _live(max_attempts=3), UserFactory()
    first = services.attempt_start(test=test, user=user)
    assert services.attempt_start(test=test, user=user).pk == first.pk  # a second tab: the same attempt
    services.attempt_submit(attempt=first)

    with pytest.raises(Conflict) as refused:
        services.attempt_start(test=test, user=user)

    assert refused.value.code == "attempt_limit"
    assert Attempt.objects.filter(test=test, user=user).count() == 1


def test_live_mock_results_are_hidden_until_the_window_closes(api_client, django_capture_on_commit_callbacks):
    # Given a learner who submitted a live mock while it is still running
    test, user = _live(), UserFactory()
    qid = caches.paper_get(test)["questions"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        attempt = services.attempt_start(test=test, user=user)
        services.attempt_answer(attempt=attempt, question_id=qid, option="A")
        services.attempt_submit(attempt=attempt)
    api_client.force_authenticate(user)

    # Then score, key, solutions, leaderboard and the result message all wait
    result = api_client.get(f"/api/v1/attempts/{attempt.pk}/result").json()
    assert (result["score"], result["correct_count"], result["topic_breakdown"]) == (None, 0, {})
    assert result["results_open_at"] is not None
    assert all("correct" not in q and "explanation" not in q for q in result["questions"])
    assert api_client.get(f"/api/v1/tests/{test.slug}/leaderboard").json()["top"] == []
    assert caches.redis_client().zcard(caches.test_board_key(test.pk)) == 0
    history = selectors.dashboard_for_user(user=user)["test_history"]
    assert [row["score"] for row in history] == [None]
    assert services.live_results_announce() == 0
    from communications.models import CommunicationLog

    assert not CommunicationLog.objects.filter(template="test_result").exists()

    # When the window closes (start + duration + 1 minute)
    test.scheduled_start = timezone.now() - timedelta(minutes=62)
    test.save(update_fields=["scheduled_start"])
    page_cache_bump("courses")  # what the commit of that save does (cerebrum.cache)
    caches.dashboard_invalidate(user.pk)

    # Then everything opens, and the result message goes out once
    result = api_client.get(f"/api/v1/attempts/{attempt.pk}/result").json()
    assert (result["score"], result["results_open_at"]) == (4, None)
    assert result["questions"][0]["correct"] == "A"
    board = api_client.get(f"/api/v1/tests/{test.slug}/leaderboard").json()
    assert [(row["user_id"], row["score"]) for row in board["top"]] == [(user.pk, 4)]
    assert services.live_results_announce() == 1
    assert services.live_results_announce() == 0
    assert CommunicationLog.objects.filter(template="test_result").count() >= 1


# --- Per-learner order ----------------------------------------------------------------------------


def test_two_learners_see_different_orders_and_both_score_right_on_the_canonical_key():
    # Given a shuffled 12-question test and two learners
    test = PracticeTestFactory(question_count=12, shuffle=True)
    key = caches.answer_key_get(test_id=test.pk, version=1)
    first, second = UserFactory(), UserFactory()
    attempts = [services.attempt_start(test=test, user=user) for user in (first, second)]
    papers = [selectors.attempt_state(attempt=a)["paper"] for a in attempts]

    # Then they see different orders of questions and of options
    assert [q["id"] for q in papers[0]] != [q["id"] for q in papers[1]]
    assert sorted(q["id"] for q in papers[0]) == sorted(q["id"] for q in papers[1])
    assert attempts[0].option_orders != attempts[1].option_orders
    # and each picks the right text by the letter they saw: both score full marks
    for attempt, paper in zip(attempts, papers, strict=True):
        items = []
        for seq, question in enumerate(paper, start=1):
            right_text = caches.paper_get(test)["questions"][0]["options"][key[str(question["id"])]["correct"]]
            shown = next(letter for letter, text in question["options"].items() if text == right_text)
            items.append(_item(question["id"], shown, seq))
        services.attempt_answers_save(attempt=attempt, answers=items)
        assert services.attempt_submit(attempt=attempt).score == 12 * 4


def test_the_order_is_reproducible_and_the_result_shows_the_learners_own():
    test = PracticeTestFactory(question_count=6, shuffle=True)
    paper = caches.paper_get(test)
    seed = f"{test.pk}:v1:user:42"
    assert services.learner_order(paper=paper, seed=seed) == services.learner_order(paper=paper, seed=seed)

    attempt = services.attempt_start(test=test, user=UserFactory())
    question = attempt.question_order[0]
    shown = "ABCD"[attempt.option_orders[str(question)].index("A")]  # where the canonical key A is shown
    services.attempt_answers_save(attempt=attempt, answers=[_item(question, shown, 1)])
    submitted = services.attempt_submit(attempt=attempt)

    rows = selectors.attempt_view(attempt=submitted, reveal=True)
    assert [row["id"] for row in rows] == attempt.question_order
    assert (rows[0]["chosen"], rows[0]["correct"]) == (shown, shown)
    assert submitted.answers == {str(question): "A"}


# --- No test question with its answer on a public page -------------------------------------------


def test_note_practice_questions_never_come_from_live_or_course_only_tests():
    note = ChapterNoteFactory(chapter="Cell: The Unit of Life", grade="11")
    live, course_only = _live(), PracticeTestFactory(question_count=2, is_free=False, course=CourseFactory())
    free = PracticeTestFactory(question_count=2)
    secret = set(live.paper_items.values_list("question_id", flat=True)) | set(
        course_only.paper_items.values_list("question_id", flat=True)
    )

    shown = {q.pk for q in selectors.note_practice_questions(note=note, limit=50)}

    assert shown == set(free.paper_items.values_list("question_id", flat=True))
    assert not shown & secret


def test_a_free_tests_result_hides_the_key_of_a_question_a_live_mock_shares(django_capture_on_commit_callbacks):
    live = _live()
    shared = live.paper_items.first().question_id
    free = PracticeTestFactory(question_count=1)
    PracticeTestQuestion.objects.create(test=free, question_id=shared, position=2)
    attempt = services.attempt_start(test=free, user=UserFactory())
    done = services.attempt_submit(attempt=attempt)

    rows = {row["id"]: row for row in selectors.attempt_view(attempt=done, reveal=True)}

    assert "correct" not in rows[shared]
    assert [row.get("correct") for qid, row in rows.items() if qid != shared] == ["A"]


def test_a_results_secret_questions_are_read_once_not_once_per_question(
    django_capture_on_commit_callbacks, monkeypatch
):
    # A 20-question free test's result read the live mocks' question ids (a Redis round trip each) once per
    # question: 9.8 % of the gunicorn workers' time in the held bench's profile (2026-11-29)
    free = PracticeTestFactory(question_count=20)
    done = services.attempt_submit(attempt=services.attempt_start(test=free, user=UserFactory()))
    reads = _counted(monkeypatch, caches, "protected_question_ids_get_or_load")

    selectors.attempt_view(attempt=done, reveal=True)

    assert reads == [1]


def _counted(monkeypatch, module, name: str) -> list[int]:
    """[calls so far] of module.name, which still runs."""
    calls, real = [0], getattr(module, name)

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_the_notes_page_shows_no_live_mock_question(client):
    note = ChapterNoteFactory(chapter="Cell: The Unit of Life", grade="11")
    live = _live()
    body = client.get(f"/notes/read/{note.slug}/").content.decode()
    for item in live.paper_items.select_related("question"):
        assert item.question.text not in body


# --- Extra time, edits, paper versions ------------------------------------------------------------


def test_staff_grant_extra_time_to_one_learner_logged_with_a_reason():
    test = _live()
    attempt, other = (services.attempt_start(test=test, user=UserFactory()) for _ in range(2))
    deadline = attempt.expires_at
    staff = StaffFactory()

    services.attempt_grant_extra_time(attempt=attempt, seconds=600, reason="Power cut at the centre", granted_by=staff)

    attempt.refresh_from_db()
    other.refresh_from_db()
    test.refresh_from_db()
    assert attempt.expires_at == deadline + timedelta(minutes=10)
    assert other.expires_at == deadline
    assert selectors.attempt_state(attempt=attempt)["deadline"] == deadline + timedelta(minutes=10)
    assert list(AttemptTimeGrant.objects.values_list("seconds", "reason", "granted_by")) == [
        (600, "Power cut at the centre", staff.pk)
    ]
    assert selectors.results_open_at(test) == test.scheduled_start + timedelta(minutes=60 + 10 + 1)


@pytest.mark.parametrize(("seconds", "reason", "field"), [(0, "x", "seconds"), (60, " ", "reason")])
def test_extra_time_refusals(seconds, reason, field):
    attempt = services.attempt_start(test=_live(), user=UserFactory())
    with pytest.raises(DomainError) as refused:
        services.attempt_grant_extra_time(attempt=attempt, seconds=seconds, reason=reason, granted_by=None)
    assert list(refused.value.fields) == [field]


def test_extra_time_keeps_answers_open_past_the_old_deadline():
    test = PracticeTestFactory(question_count=1, duration_minutes=30)
    attempt = services.attempt_start(test=test, user=UserFactory())
    qid = attempt.test.paper_items.first().question_id
    services.attempt_grant_extra_time(attempt=attempt, seconds=300, reason="Medical break", granted_by=None)
    attempt.refresh_from_db()

    # 32 minutes in: past the old deadline and its grace, inside the new one
    with time_machine.travel(attempt.started_at + timedelta(minutes=32)):
        assert services.attempt_answers_save(attempt=attempt, answers=[_item(qid, "A", 1)])["saved"] == 1
    with time_machine.travel(attempt.started_at + timedelta(minutes=36)), pytest.raises(Conflict):
        services.attempt_answers_save(attempt=attempt, answers=[_item(qid, "B", 2)])


def _paper_cached_as(test, paper: dict) -> None:
    """Redis and this process's L1 now hold `paper` under the test's version-1 key."""
    cache.set(caches.paper_key(test.pk, 1), paper, caches.PAPER_TIMEOUT)
    l1_clear()


def test_a_reload_numbers_the_paper_as_the_attempt_started_whatever_order_the_cached_paper_has():
    # Given a running attempt of an unshuffled test: Q1 answered, Q2 answered and marked, Q3 visited
    # (issue 15's learner journey, just before its reload)
    test = PracticeTestFactory(question_count=3)
    attempt = services.attempt_start(test=test, user=UserFactory())
    q1, q2, q3 = (item.question_id for item in test.paper_items.order_by("position"))
    services.attempt_answers_save(
        attempt=attempt,
        answers=[_item(q1, "A", 1), _item(q2, "B", 2, marked_for_review=True), _item(q3, "C", 3), _item(q3, "", 4)],
    )

    # When the cached paper comes back with the same questions in another order (Q1's question third)
    paper = caches.paper_get(test)
    reordered = [{**question, "number": n} for n, question in enumerate(reversed(paper["questions"]), start=1)]
    _paper_cached_as(test, {**paper, "questions": reordered})
    reloaded = Attempt.objects.get(pk=attempt.pk)
    state = selectors.attempt_state(attempt=reloaded)

    # Then the reload numbers the questions as before, and every acknowledged answer is on its question
    assert [(q["number"], q["id"]) for q in state["paper"]] == [(1, q1), (2, q2), (3, q3)]
    shell = exam_shell(test_id=test.pk, version=1)
    values = screen_values(shell, selectors.attempt_progress(attempt=reloaded), attempt=reloaded, number=3)
    assert re.findall(r'class="pal s-(\w+)" data-q="(\d+)" data-n="(\d+)"', values["palette_0"]) == [
        ("answered", str(q1), "1"),
        ("answered_and_marked", str(q2), "2"),
        ("not_answered", str(q3), "3"),
    ]
    # ... and so do the question-paper view and the result page after the submit
    assert [row["id"] for row in selectors.attempt_view(attempt=attempt)] == [q1, q2, q3]
    submitted = services.attempt_submit(attempt=attempt)
    assert [row["id"] for row in selectors.attempt_view(attempt=submitted, reveal=True)] == [q1, q2, q3]
    assert submitted.score == 4 - 1


def test_a_changed_question_makes_a_new_version_and_running_attempts_keep_theirs():
    # Given a running attempt on version 1
    test = PracticeTestFactory(question_count=2)
    running = services.attempt_start(test=test, user=UserFactory())
    question = test.paper_items.first().question

    # When staff edit the question's key and text (as the admin does), and Redis loses every paper
    question.text, question.correct_option = "Edited question", "B"
    question.save()
    services.question_papers_bump(question_ids=[question.pk])
    caches.redis_client().flushdb()
    from cerebrum.cache import l1_clear

    l1_clear()
    test.refresh_from_db()

    # Then the next start gets version 2; the running attempt keeps version 1's text and key
    fresh = services.attempt_start(test=test, user=UserFactory())
    assert (running.paper_version, fresh.paper_version) == (1, 2)
    assert selectors.attempt_paper(running)[0]["text"] != "Edited question"
    assert selectors.attempt_paper(fresh)[0]["text"] == "Edited question"
    services.attempt_answer(attempt=running, question_id=question.pk, option="A")
    assert services.attempt_submit(attempt=running).correct_count == 1


def test_a_duration_edit_applies_to_the_next_start():
    test = PracticeTestFactory(question_count=1, duration_minutes=30, max_attempts=5)
    user = UserFactory()
    first = services.attempt_start(test=test, user=user)
    test.duration_minutes = 90
    test.save(update_fields=["duration_minutes"])
    services.attempt_submit(attempt=first)

    second = services.attempt_start(test=selectors.test_get(slug=test.slug), user=user)

    assert round((second.expires_at - second.started_at).total_seconds()) == 90 * 60
    assert round((first.expires_at - first.started_at).total_seconds()) == 30 * 60


# --- Time spent, visits, state and summary -------------------------------------------------------


def test_time_spent_adds_up_per_question_and_never_exceeds_the_servers_clock():
    test = PracticeTestFactory(question_count=3)
    attempt = services.attempt_start(test=test, user=UserFactory())
    Attempt.objects.filter(pk=attempt.pk).update(started_at=timezone.now() - timedelta(seconds=100))
    q1, q2, q3 = (item.question_id for item in test.paper_items.order_by("position"))

    services.attempt_answers_save(attempt=attempt, answers=[_item(q1, "A", 1, time_spent_seconds=30)])
    services.attempt_answers_save(attempt=attempt, answers=[_item(q1, "B", 2, time_spent_seconds=20)])
    services.attempt_answers_save(attempt=attempt, answers=[_item(q1, "B", 2, time_spent_seconds=20)])  # retry
    # a client claiming more than the clock allows is capped at what is left (100 - 50)
    services.attempt_answers_save(
        attempt=attempt, answers=[_item(q2, "", 3, time_spent_seconds=40), _item(q3, "", 4, time_spent_seconds=40)]
    )

    spent = dict(AttemptAnswer.objects.filter(attempt=attempt).values_list("question_id", "time_spent_seconds"))
    assert spent[q1] == 50
    assert spent[q2] == 40
    assert spent[q3] <= 10
    assert sum(spent.values()) <= 100


def test_state_and_summary_follow_ntas_palette():
    # Given a 2-section test and a learner who visited, answered, marked
    test = _sectioned_test({"Botany": (3, None), "Zoology": (2, None)})
    attempt = services.attempt_start(test=test, user=UserFactory())
    botany, zoology = (s["question_ids"] for s in caches.paper_get(test)["sections"])
    services.attempt_answers_save(
        attempt=attempt,
        answers=[
            _item(botany[0], "A", 1),  # answered
            _item(botany[1], "B", 2, marked_for_review=True),  # answered and marked
            _item(botany[2], "", 3),  # visited, not answered
            _item(zoology[0], "", 4, marked_for_review=True),  # marked, no answer
        ],
    )

    state = selectors.attempt_state(attempt=attempt)
    summary = selectors.attempt_summary(attempt=attempt, state=state)

    assert state["last_seq"] == 4
    assert sorted(state["visited"]) == sorted([*botany, zoology[0]])
    assert state["answers"][str(botany[1])] == {"option": "B", "marked_for_review": True, "seq": 2}
    assert str(botany[2]) not in state["answers"]
    assert [s["name"] for s in state["sections"]] == ["Botany", "Zoology"]
    assert "correct" not in str(state["paper"])
    assert {k: summary[k] for k in selectors.PALETTE_STATES} == {
        "not_visited": 1,
        "not_answered": 1,
        "answered": 1,
        "marked_for_review": 1,
        "answered_and_marked": 1,
    }
    assert [(s["name"], s["total"], s["answered"]) for s in summary["sections"]] == [
        ("Botany", 3, 1),
        ("Zoology", 2, 0),
    ]


def test_a_batch_may_carry_several_changes_of_one_question():
    test = PracticeTestFactory(question_count=1)
    attempt = services.attempt_start(test=test, user=UserFactory())
    qid = test.paper_items.first().question_id

    saved = services.attempt_answers_save(
        attempt=attempt, answers=[_item(qid, "C", 7), _item(qid, "A", 3), _item(qid, "D", 9)]
    )

    assert saved == {"saved": 1, "acknowledged_seq": 9}
    assert services.attempt_answers(attempt) == ({str(qid): "D"}, set())


@pytest.mark.parametrize("count", [0, 201])
def test_a_batch_of_none_or_too_many_is_refused(count):
    test = PracticeTestFactory(question_count=1)
    attempt = services.attempt_start(test=test, user=UserFactory())
    qid = test.paper_items.first().question_id
    with pytest.raises(DomainError):
        services.attempt_answers_save(attempt=attempt, answers=[_item(qid, "A", n + 1) for n in range(count)])


# --- The deadline: the server submits -------------------------------------------------------------


def test_at_the_deadline_the_sweep_scores_everything_acknowledged_and_closes_answers(settings):
    # Given acknowledged answers, then the clock and the grace run out
    test = PracticeTestFactory(question_count=3, duration_minutes=30)
    attempt = services.attempt_start(test=test, user=UserFactory())
    q1, q2, _ = (item.question_id for item in test.paper_items.order_by("position"))
    services.attempt_answers_save(attempt=attempt, answers=[_item(q1, "A", 1), _item(q2, "C", 2)])

    with time_machine.travel(attempt.expires_at + timedelta(seconds=31)):
        # When the beat task runs (every minute)
        from courses import tasks

        assert tasks.attempts_expire_overdue() == 1
        # Then it was scored with both answers, and a late answer is refused
        with pytest.raises(Conflict):
            services.attempt_answers_save(attempt=attempt, answers=[_item(q2, "A", 3)])

    attempt.refresh_from_db()
    assert (attempt.status, attempt.score, attempt.answers) == (
        Attempt.Status.EXPIRED,
        4 - 1,
        {str(q1): "A", str(q2): "C"},
    )
    schedule = settings.CELERY_BEAT_SCHEDULE["courses-attempts-expire"]
    assert (schedule["task"], schedule["schedule"]) == ("courses.attempts_expire_overdue", 60.0)


def test_announcing_a_live_mock_marks_its_boards_for_a_rebuild(django_capture_on_commit_callbacks):
    test, user = _live(), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        attempt = services.attempt_start(test=test, user=user)
        services.attempt_submit(attempt=attempt)
    redis = caches.redis_client()
    topic = next(iter(Attempt.objects.get(pk=attempt.pk).topic_breakdown))
    board = caches.topic_board_key(topic.lower().replace(" ", "-"), caches.iso_week(timezone.localdate()))
    redis.set(f"{board}:built", 1)  # the week's board was built before the results opened

    with (
        time_machine.travel(test.scheduled_start + timedelta(minutes=62)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.live_results_announce() == 1

    assert not redis.exists(f"{board}:built")
