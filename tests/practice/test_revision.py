"""Bookmarks, the mistake notebook (written at submit) and the FSRS revision queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cerebrum.errors import NotFound
from courses import caches as course_caches
from courses import rekey
from courses import selectors as course_selectors
from courses import services as course_services
from courses.models import PracticeTestQuestion, TestSection
from practice import revision, selectors, services
from practice.models import Bookmark, MistakeEntry, ReviewCard, ReviewLog
from tests.factories import FreeUserFactory, PracticeTestFactory, QuestionFactory, StaffFactory, UserFactory
from tests.practice.conftest import take

pytestmark = pytest.mark.django_db


def test_every_evaluated_wrong_answer_reaches_the_notebook_at_submit(ten_learner_test):
    me = ten_learner_test["learners"][10]
    q = ten_learner_test["questions"]
    entries = list(selectors.mistake_list(user=me))
    assert sorted((e.question_id, e.chosen_option, e.correct_option) for e in entries) == [
        (q[1].pk, "B", "A"),
        (q[3].pk, "B", "A"),
    ]
    assert [e.question_id for e in selectors.mistake_list(user=me, topic="Genetics")] == [q[3].pk]
    assert [e.question_id for e in selectors.mistake_list(user=me, chapter="Cell")] == [q[1].pk]
    assert list(selectors.mistake_list(user=ten_learner_test["learners"][1])) == []  # all right
    # Learner 9 got all five wrong; each is also a card in the queue.
    assert MistakeEntry.objects.filter(user=ten_learner_test["learners"][9]).count() == 5
    assert ReviewCard.objects.filter(user=me, source=ReviewCard.Source.MISTAKE).count() == 2


def test_notebook_write_is_idempotent(ten_learner_test):
    attempt = ten_learner_test["attempts"][10]
    assert services.mistakes_record(attempts=[attempt]) == 2  # the rows it would write
    assert MistakeEntry.objects.filter(attempt=attempt).count() == 2
    assert ReviewCard.objects.filter(user=attempt.user).count() == 2


def _notebook(question) -> dict[int, tuple[str, str]]:
    return {e.user_id: (e.chosen_option, e.correct_option) for e in MistakeEntry.objects.filter(question=question)}


def _mistake_cards(question) -> set[int]:
    return set(ReviewCard.objects.filter(question=question).values_list("user_id", flat=True))


def test_a_key_change_rebuilds_the_notebook_and_the_queue(ten_learner_test, django_capture_on_commit_callbacks):
    # Given q2, keyed A: learners 5, 9 and 10 chose B (wrong), 1-4, 6 and 8 chose A, 7 left it blank;
    # learner 9 has also bookmarked it.
    learners, q2 = ten_learner_test["learners"], ten_learner_test["questions"][1]
    services.bookmark_add(user=learners[9], question_id=q2.pk)
    assert _notebook(q2) == {learners[n].pk: ("B", "A") for n in (5, 9, 10)}
    assert _mistake_cards(q2) == {learners[n].pk for n in (5, 9, 10)}

    # When staff find the key was B (and the second pass runs, eagerly here)
    with django_capture_on_commit_callbacks(execute=True):
        rekey.question_rekey(question=q2, correct_option="B", changed_by=StaffFactory(), reason="Key was B")

    # Then those right now are out of the notebook, those wrong now are in, once each
    assert _notebook(q2) == {learners[n].pk: ("A", "B") for n in (1, 2, 3, 4, 6, 8)}
    assert not selectors.mistake_list(user=learners[10], chapter="Cell").filter(question=q2).exists()
    assert selectors.mistake_list(user=learners[1]).get().question_id == q2.pk
    # and the queue follows: a card per new mistake, none for an answer now right unless bookmarked
    assert _mistake_cards(q2) == {learners[n].pk for n in (1, 2, 3, 4, 6, 8, 9)}
    new_card = ReviewCard.objects.get(user=learners[1], question=q2)
    assert (new_card.source, new_card.test_id) == (ReviewCard.Source.MISTAKE, ten_learner_test["test"].pk)


def test_a_key_change_and_back_restores_the_notebook(ten_learner_test, django_capture_on_commit_callbacks):
    # Given q4 (key A): learners 3, 4, 5, 9 and 10 chose B, learners 1, 2 and 6 chose A
    learners, q4 = ten_learner_test["learners"], ten_learner_test["questions"][3]
    before = _notebook(q4)

    # When the key goes to C, wrong for both: every answer is a mistake, each showing the new key
    with django_capture_on_commit_callbacks(execute=True):
        rekey.question_rekey(question=q4, correct_option="C")
    assert _notebook(q4) == {
        **{learners[n].pk: ("B", "C") for n in (3, 4, 5, 9, 10)},
        **{learners[n].pk: ("A", "C") for n in (1, 2, 6)},
    }

    # and back to A: as it was at submit, and running the hook again changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        rekey.question_rekey(question=q4, correct_option="A")
    assert _notebook(q4) == before == {learners[n].pk: ("B", "A") for n in (3, 4, 5, 9, 10)}
    assert services.mistakes_rekey(question_id=q4.pk, test_ids=[ten_learner_test["test"].pk]) == {
        "added": 0,
        "removed": 0,
        "corrected": 0,
    }
    assert _mistake_cards(q4) == {learners[n].pk for n in (3, 4, 5, 9, 10)}


def test_a_key_change_keeps_a_secret_verdict_out_of_the_notebook(db, django_capture_on_commit_callbacks):
    # Given a learner right (A) on a free test's question that a live mock running now also uses
    learner = UserFactory()
    free = PracticeTestFactory(question_count=2)
    shared = free.paper_items.order_by("position").first().question
    live = PracticeTestFactory(question_count=0, scheduled_start=timezone.now() - timedelta(minutes=5))
    PracticeTestQuestion.objects.create(test=live, question=shared, position=1)
    take(free, learner, "AA", [5, 5])

    # When its key changes so the learner's A is wrong
    with django_capture_on_commit_callbacks(execute=True):
        rekey.question_rekey(question=shared, correct_option="C")

    # Then no entry: the free test's result keeps that question's verdict secret, so does the notebook
    assert not MistakeEntry.objects.filter(user=learner).exists()


@pytest.mark.parametrize("learners", [2, 12])
def test_the_notebook_rebuild_costs_the_same_queries_for_2_or_12_learners(
    learners, django_assert_num_queries, django_capture_on_commit_callbacks
):
    test = PracticeTestFactory(question_count=2)
    question_id = test.paper_items.order_by("position").values_list("question_id", flat=True)[0]
    for number in range(learners):  # half right, half wrong on the first question
        take(test, UserFactory(), "AA" if number % 2 else "BA", [5, 5])
    rekey.Question.objects.filter(pk=question_id).update(correct_option="B")
    rekey._frozen_keys_correct(question_id=question_id, correct_option="B", test_ids=[test.pk])

    # savepoint; tests, frozen keys, attempts, entries; the entries' delete (select + delete), insert;
    # cards: insert, the delete's select of cards, their review logs' delete (no select: no delete receiver
    # listens on any model but those caches.py names, so Django deletes them in one statement), delete; release
    with django_assert_num_queries(12):
        result = services.mistakes_rekey(question_id=question_id, test_ids=[test.pk])

    assert result == {"added": learners // 2, "removed": learners // 2, "corrected": 0}


def test_a_live_mocks_mistakes_wait_for_its_results(db):
    # Given a learner who got both questions of a running live mock wrong
    test = PracticeTestFactory(question_count=2, scheduled_start=timezone.now() - timedelta(minutes=5))
    learner = UserFactory()
    attempt = take(test, learner, "BB", [5, 5])
    # Then the submit wrote nothing to the notebook: the results-announce step does (the storm's submit is lighter)
    assert not MistakeEntry.objects.filter(user=learner).exists()
    assert not ReviewCard.objects.filter(user=learner).exists()
    # When the window closes and the announce runs twice (the next sweep, a duplicate task)
    with time_machine.travel(course_selectors.results_open_at(test) + timedelta(seconds=1)):
        assert course_services.live_results_announce() == 1
        assert course_services.live_results_announce() == 0
        # Then each wrong answer is in the notebook once, and in the revision queue, due now
        assert MistakeEntry.objects.filter(user=learner, attempt=attempt).count() == 2
        assert len(selectors.mistake_list(user=learner)) == 2
        assert len(revision.due_cards(user=learner, now=timezone.now() + timedelta(minutes=5))) == 2


@pytest.mark.parametrize("learners", [2, 7])
def test_a_live_mocks_announce_writes_the_notebook_in_two_statements_per_chunk_whatever_the_learners(learners):
    # Given a live mock whose learners got both questions wrong, and an announce that takes 3 attempts a call
    test = PracticeTestFactory(question_count=2, scheduled_start=timezone.now() - timedelta(minutes=5))
    for _ in range(learners):
        take(test, UserFactory(), "BB", [5, 5])
    chunks = -(-learners // 3)
    # When its results are announced
    with (
        time_machine.travel(course_selectors.results_open_at(test) + timedelta(seconds=1)),
        pytest.MonkeyPatch.context() as patch,
        CaptureQueriesContext(connection) as queries,
    ):
        patch.setattr(course_services, "ANNOUNCE_CHUNK", 3)
        assert course_services.live_results_announce() == learners
    # Then every wrong answer is in the notebook and the queue, written by one INSERT of each per chunk
    assert MistakeEntry.objects.filter(test=test).count() == ReviewCard.objects.filter(test_id=test.pk).count()
    assert MistakeEntry.objects.filter(test=test).count() == 2 * learners
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert sum(MistakeEntry._meta.db_table in sql for sql in inserts) == chunks
    assert sum(ReviewCard._meta.db_table in sql for sql in inserts) == chunks


def test_a_live_mocks_mistakes_recorded_in_its_window_stay_hidden(db):
    # A re-key during the window records a finished attempt's mistakes (practice.services.mistakes_rekey)
    test = PracticeTestFactory(question_count=2, scheduled_start=timezone.now() - timedelta(minutes=5))
    learner = UserFactory()
    services.mistakes_record(attempts=[take(test, learner, "BB", [5, 5])])
    assert MistakeEntry.objects.filter(user=learner).count() == 2
    assert list(selectors.mistake_list(user=learner)) == []
    assert list(revision.due_cards(user=learner, now=timezone.now() + timedelta(days=1))) == []


def test_bookmark_is_idempotent_and_filterable(db):
    learner = UserFactory()
    genetics = QuestionFactory(chapter="Inheritance", topic="Genetics")
    cell = QuestionFactory(chapter="Cell", topic="Cell cycle")
    assert services.bookmark_add(user=learner, question_id=genetics.pk)[1] is True
    assert services.bookmark_add(user=learner, question_id=genetics.pk)[1] is False
    services.bookmark_add(user=learner, question_id=cell.pk)
    assert Bookmark.objects.filter(user=learner).count() == 2
    assert [b.question_id for b in selectors.bookmark_list(user=learner, topic="Genetics")] == [genetics.pk]
    assert [b.question_id for b in selectors.bookmark_list(user=learner, chapter="Cell")] == [cell.pk]
    assert ReviewCard.objects.filter(user=learner, source=ReviewCard.Source.BOOKMARK).count() == 2
    with pytest.raises(NotFound):
        services.bookmark_add(user=learner, question_id=10**9)
    assert services.bookmark_remove(user=learner, question_id=cell.pk) is True
    assert services.bookmark_remove(user=learner, question_id=cell.pk) is False


def _due_card(user, question):
    revision.cards_add(user_id=user.pk, question_ids=[question.pk], source=ReviewCard.Source.BOOKMARK)
    return ReviewCard.objects.get(user=user, question=question)


def test_fsrs_a_wrong_answer_is_due_sooner_than_a_right_one(db):
    learner = UserFactory()
    wrong_card = _due_card(learner, QuestionFactory())
    right_card = _due_card(learner, QuestionFactory())
    wrong_card, applied_wrong = revision.review_rate(user=learner, card_id=wrong_card.pk, rating=1)
    right_card, applied_right = revision.review_rate(user=learner, card_id=right_card.pk, rating=3)
    assert applied_wrong
    assert applied_right
    assert wrong_card.due < right_card.due
    # The library's own state is kept: stability and difficulty set by FSRS.
    assert wrong_card.card["stability"] < right_card.card["stability"]


def test_a_review_moves_the_due_date_and_is_rated_once(db):
    learner = UserFactory()
    card = _due_card(learner, QuestionFactory())
    before = card.due
    card, applied = revision.review_rate(user=learner, card_id=card.pk, rating=3)
    assert applied
    assert card.due > before
    again, applied_again = revision.review_rate(user=learner, card_id=card.pk, rating=1)  # not due: nothing
    assert not applied_again
    assert again.due == card.due
    assert ReviewLog.objects.filter(card=card).count() == 1


def test_a_retried_rating_with_the_same_key_does_nothing(db):
    learner = UserFactory()
    card = _due_card(learner, QuestionFactory())
    revision.review_rate(user=learner, card_id=card.pk, rating=1, key="tap-1")
    ReviewCard.objects.filter(pk=card.pk).update(due=timezone.now() - timedelta(seconds=1))  # due again
    card, applied = revision.review_rate(user=learner, card_id=card.pk, rating=4, key="tap-1")
    assert not applied
    assert card.reviews == 1


def test_another_learners_card_is_not_found(db):
    card = _due_card(UserFactory(), QuestionFactory())
    with pytest.raises(NotFound):
        revision.review_rate(user=UserFactory(), card_id=card.pk, rating=3)


def test_daily_set_mixes_due_reviews_with_fresh_questions_of_the_weakest_topics(ten_learner_test):
    me = ten_learner_test["learners"][10]
    # My accuracy: Cell cycle 50 %, Genetics 50 %, Photosynthesis 100 %; the bank has more of each.
    fresh_genetics = QuestionFactory(chapter="Inheritance", topic="Genetics")
    fresh_cell = QuestionFactory(chapter="Cell", topic="Cell cycle")
    QuestionFactory(chapter="Plants", topic="Photosynthesis")
    ReviewCard.objects.filter(user=me).update(due=timezone.now() - timedelta(minutes=1))
    daily = revision.daily_set(user=me)
    assert [t["topic"] for t in daily["weakest_topics"]] == ["Cell cycle", "Genetics", "Photosynthesis"]
    assert len(daily["reviews"]) == 2
    fresh_ids = {q.pk for q in daily["fresh"]}
    assert {fresh_genetics.pk, fresh_cell.pk} <= fresh_ids
    assert not fresh_ids & {c.question_id for c in daily["reviews"]}


def test_daily_set_draws_fresh_questions_only_from_the_weakest_topics(ten_learner_test, monkeypatch):
    me = ten_learner_test["learners"][10]
    monkeypatch.setattr(revision, "WEAKEST_TOPICS", 1)
    genetics = QuestionFactory(chapter="Inheritance", topic="Genetics")
    photosynthesis = QuestionFactory(chapter="Plants", topic="Photosynthesis")
    daily = revision.daily_set(user=me)
    fresh = {q.pk for q in daily["fresh"]}
    assert {q.topic for q in daily["fresh"]} == {"Cell cycle"}
    assert genetics.pk not in fresh
    assert photosynthesis.pk not in fresh


def test_streak_counts_consecutive_ist_days(db, django_capture_on_commit_callbacks):
    learner = UserFactory()
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)

    def review_on(days_ago: int) -> None:
        with time_machine.travel(noon - timedelta(days=days_ago), tick=False):
            card = _due_card(learner, QuestionFactory())
            revision.review_rate(user=learner, card_id=card.pk, rating=3)

    def streak(days_later: int = 0) -> int:
        with time_machine.travel(noon + timedelta(days=days_later), tick=False):
            return revision._summary_build(learner)["streak_days"]

    for days_ago in (6, 4, 3):
        review_on(days_ago)
    assert streak(days_later=-3) == 2  # days -4 and -3
    review_on(2)
    review_on(1)
    assert streak() == 4  # none yet today: the streak to yesterday still counts
    review_on(0)
    review_on(0)  # a second review the same day adds nothing
    assert streak() == 5
    assert streak(days_later=2) == 0  # a missed day breaks it


def test_due_today_counts_until_midnight_ist_and_hides_a_running_live_mock(db):
    learner = UserFactory()
    _due_card(learner, QuestionFactory())
    live = PracticeTestFactory(question_count=2, scheduled_start=timezone.now() - timedelta(minutes=5))
    # As a re-key in the window records them (the submit leaves them to the announce): due after it closes
    services.mistakes_record(attempts=[take(live, learner, "BB", [5, 5])])
    summary = revision._summary_build(learner)
    # The mock's cards open when its window closes; near midnight IST that is tomorrow (read it, don't guess it).
    opens = ReviewCard.objects.filter(user=learner, test=live).values_list("due", flat=True).first()
    assert opens is not None
    opens_today = timezone.localtime(opens).date() == timezone.localdate()
    assert summary["due_today"] == (3 if opens_today else 1)
    assert [c.question_id for c in revision.due_cards(user=learner)] == [
        ReviewCard.objects.get(user=learner, source=ReviewCard.Source.BOOKMARK).question_id
    ]


def test_a_live_mocks_announce_reads_each_attempts_own_paper_version_in_one_chunk():
    # Given a live mock whose first question's key changed between two learners' starts (A, then B)
    test = PracticeTestFactory(question_count=2, scheduled_start=timezone.now() - timedelta(minutes=5))
    first, second = UserFactory(), UserFactory()
    earlier = course_services.attempt_start(test=test, user=first)
    question = test.paper_items.order_by("position").first().question
    question.correct_option = "B" if question.correct_option != "B" else "C"
    question.save()
    course_services.question_papers_bump(question_ids=[question.pk])
    test.refresh_from_db()
    later = course_services.attempt_start(test=test, user=second)
    assert (earlier.paper_version, later.paper_version) == (1, 2)
    for attempt in (earlier, later):
        course_services.attempt_answer(attempt=attempt, question_id=question.pk, option=question.correct_option)
        course_services.attempt_submit(attempt=attempt)
    # When its results are announced, both attempts in one chunk
    with time_machine.travel(course_selectors.results_open_at(test) + timedelta(seconds=1)):
        assert course_services.live_results_announce() == 2
    # Then the first learner's answer is wrong by version 1's key, the second's right by version 2's
    assert _notebook(question) == {first.pk: (question.correct_option, earlier_key(test, question))}
    assert _mistake_cards(question) == {first.pk}


def earlier_key(test, question) -> str:
    return course_caches.answer_key_get(test_id=test.pk, version=1)[str(question.pk)]["correct"]


def test_a_live_mocks_announce_chunk_skips_free_users_and_answers_past_attempt_any_n():
    # Given a free live mock with one "attempt any 1 of 2" section (keys A), where a learner and a free
    # user answered both questions B and another learner only the second
    test = PracticeTestFactory(question_count=0, is_free=True, scheduled_start=timezone.now() - timedelta(minutes=5))
    section = TestSection.objects.create(test=test, name="Botany", position=1, attempt_any=1)
    q1, q2 = QuestionFactory(correct_option="A"), QuestionFactory(correct_option="A")
    for position, question in enumerate((q1, q2), start=1):
        PracticeTestQuestion.objects.create(test=test, question=question, position=position, section=section)
    both, second_only = UserFactory(), UserFactory()
    takers = [({"user": both}, (q1, q2)), ({"free_user": FreeUserFactory()}, (q1, q2)), ({"user": second_only}, (q2,))]
    for who, questions in takers:
        attempt = course_services.attempt_start(test=test, **who)
        for question in questions:
            course_services.attempt_answer(attempt=attempt, question_id=question.pk, option="B")
        course_services.attempt_submit(attempt=attempt)
    assert MistakeEntry.objects.count() == 0  # a live mock's submit leaves them to the announce
    # When its results are announced, all three in one chunk
    with time_machine.travel(course_selectors.results_open_at(test) + timedelta(seconds=1)):
        course_services.live_results_announce()
        # Then each learner's first answered question is a mistake; the free user has none
        assert sorted(MistakeEntry.objects.values_list("user_id", "question_id")) == sorted(
            [(both.pk, q1.pk), (second_only.pk, q2.pk)]
        )
        assert sorted(ReviewCard.objects.values_list("user_id", "question_id")) == sorted(
            [(both.pk, q1.pk), (second_only.pk, q2.pk)]
        )
        # And the cards are due now that the results are open, not before
        assert len(revision.due_cards(user=both, now=timezone.now() + timedelta(minutes=5))) == 1
    # A second announce writes nothing more
    with time_machine.travel(course_selectors.results_open_at(test) + timedelta(minutes=2)):
        course_services.live_results_announce()
    assert MistakeEntry.objects.count() == ReviewCard.objects.count() == 2
