"""The hand-computed fixture: a 5-question test (Botany q1-q3, Zoology q4-q5, every key "A") taken by
10 learners with known answers and seconds, through the real start / answer / submit services."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.utils import timezone

from courses import services
from courses.models import PracticeTestQuestion, TestAttempt, TestSection
from tests.factories import PracticeTestFactory, QuestionFactory, UserFactory

TOPICS = [
    ("Cell", "Cell cycle"),
    ("Cell", "Cell cycle"),
    ("Plants", "Photosynthesis"),
    ("Inheritance", "Genetics"),
    ("Inheritance", "Genetics"),
]
# learner → answers to q1..q5 ("-" = not answered); learner i (1-9) spends 10 x i seconds on each answer.
ANSWERS = {
    1: "AAAAA",  # 20
    2: "AAAAB",  # 15
    3: "AAABB",  # 10
    4: "AABB-",  # 2 right 2 wrong: 6
    5: "ABBB-",  # 1 right 3 wrong: 1
    6: "BAAAA",  # 15
    7: "-----",  # 0
    8: "AAA--",  # 12
    9: "BBBBB",  # -5
    10: "ABABA",  # "me": 3 right (q1, q3, q5), 2 wrong: 10
}
MY_SECONDS = [30, 90, 20, 60, 40]


def take(test, user, answers: str, seconds: list[int]) -> TestAttempt:
    attempt = services.attempt_start(test=test, user=user)
    TestAttempt.objects.filter(pk=attempt.pk).update(started_at=timezone.now() - timedelta(minutes=20))
    question_ids = list(test.paper_items.order_by("position").values_list("question_id", flat=True))
    items = [
        {"question_id": qid, "option": option, "marked_for_review": False, "seq": n, "time_spent_seconds": spent}
        for n, (qid, option, spent) in enumerate(zip(question_ids, answers, seconds, strict=True), start=1)
        if option != "-"
    ]
    if items:
        services.attempt_answers_save(attempt=attempt, answers=items)
    return services.attempt_submit(attempt=attempt)


@pytest.fixture
def rank_bands(db):
    """The demo rank bands of migration 0002 (a transactional test elsewhere may have emptied the table)."""
    from django.apps import apps

    importlib.import_module("practice.migrations.0002_demo_rank_bands").add_demo_rows(apps, None)


@pytest.fixture
def ten_learner_test(rank_bands):
    test = PracticeTestFactory(question_count=0, slug="hand-computed", title="Hand-computed mock")
    botany = TestSection.objects.create(test=test, name="Botany", position=1)
    zoology = TestSection.objects.create(test=test, name="Zoology", position=2)
    questions = []
    for position, (chapter, topic) in enumerate(TOPICS, start=1):
        question = QuestionFactory(chapter=chapter, topic=topic, correct_option="A")
        PracticeTestQuestion.objects.create(
            test=test, question=question, position=position, section=botany if position <= 3 else zoology
        )
        questions.append(question)
    learners, attempts = {}, {}
    for number, answers in ANSWERS.items():
        learners[number] = UserFactory()
        seconds = MY_SECONDS if number == 10 else [10 * number] * 5
        attempts[number] = take(test, learners[number], answers, seconds)
    return {"test": test, "questions": questions, "learners": learners, "attempts": attempts}
