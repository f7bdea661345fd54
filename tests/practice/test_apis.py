"""The practice API end to end: own objects only (another learner's is a 404), a linked parent reads the
child's analysis, declared filters, idempotent writes, and query budgets that do not grow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from courses import caches as course_caches
from courses.models import PracticeTestQuestion
from practice.models import ReviewCard
from tests.factories import CourseFactory, ParentLinkFactory, PracticeTestFactory, QuestionFactory, UserFactory
from tests.practice.conftest import take

pytestmark = pytest.mark.django_db


def as_user(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def test_own_analysis_over_the_api(api_client, ten_learner_test):
    attempt = ten_learner_test["attempts"][10]
    response = as_user(api_client, ten_learner_test["learners"][10]).get(f"/api/v1/attempts/{attempt.pk}/analysis")
    assert response.status_code == 200
    body = response.json()
    assert (body["summary"]["score"], body["summary"]["negative_marks"]) == (10, 2)
    assert (body["standing"]["rank"], body["standing"]["percentile"]) == (5, "60.0000000")
    assert body["standing"]["predicted_neet_rank"]["is_estimate"] is True


def test_another_learners_analysis_is_404_and_a_linked_parent_reads_it(api_client, ten_learner_test):
    attempt = ten_learner_test["attempts"][10]
    url = f"/api/v1/attempts/{attempt.pk}/analysis"
    assert as_user(api_client, ten_learner_test["learners"][1]).get(url).status_code == 404
    assert as_user(api_client, UserFactory()).get(f"/api/v1/attempts/{10**9}/analysis").status_code == 404
    parent = ParentLinkFactory(student=ten_learner_test["learners"][10]).parent
    assert as_user(api_client, parent).get(url).status_code == 200
    stranger_parent = ParentLinkFactory().parent
    assert as_user(api_client, stranger_parent).get(url).status_code == 404


def test_a_parent_reads_but_cannot_write_the_childs_notebook_or_queue(api_client, ten_learner_test):
    child = ten_learner_test["learners"][10]
    parent = ParentLinkFactory(student=child).parent
    client = as_user(api_client, parent)
    assert client.get("/api/v1/me/notebook").json()["results"] == []  # the parent's own, empty
    card = ReviewCard.objects.filter(user=child).first()
    response = client.post(f"/api/v1/me/revision/cards/{card.pk}/rating", {"rating": 3}, format="json")
    assert response.status_code == 404


def test_analysis_waits_while_running_and_until_a_live_mock_closes(api_client, db):
    learner = UserFactory()
    live = PracticeTestFactory(question_count=2, scheduled_start=timezone.now() - timedelta(minutes=5))
    attempt = take(live, learner, "AB", [5, 5])
    response = as_user(api_client, learner).get(f"/api/v1/attempts/{attempt.pk}/analysis")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "results_pending"


def test_notebook_lists_only_mine_and_filters_by_topic(api_client, ten_learner_test):
    client = as_user(api_client, ten_learner_test["learners"][10])
    rows = client.get("/api/v1/me/notebook").json()["results"]
    assert sorted(row["question"]["topic"] for row in rows) == ["Cell cycle", "Genetics"]
    genetics = client.get("/api/v1/me/notebook", {"topic": "Genetics"}).json()["results"]
    assert [(row["chosen_option"], row["correct_option"]) for row in genetics] == [("B", "A")]
    refused = client.get("/api/v1/me/notebook", {"subject": "Botany"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "unknown_parameter"


def test_a_question_from_another_learners_attempt_can_be_bookmarked_but_their_queue_is_not_mine(
    api_client, ten_learner_test
):
    # Given learner 10's attempt of a public test (their notebook and queue hold q2 and q4)
    q2 = ten_learner_test["questions"][1]
    newcomer = UserFactory()  # never sat the test
    client = as_user(api_client, newcomer)

    # When the newcomer bookmarks a question of that attempt: fine, questions are shared
    response = client.post("/api/v1/me/bookmarks", {"question_id": q2.pk}, format="json")

    # Then it is in their bookmarks and queue, and nothing of learner 10's is
    assert response.status_code == 201
    queue = client.get("/api/v1/me/revision").json()
    assert [card["question"]["id"] for card in queue["due"]] == [q2.pk]
    assert queue["due_today"] == 1
    assert client.get("/api/v1/me/notebook").json()["results"] == []
    others_card = ReviewCard.objects.get(user=ten_learner_test["learners"][10], question=q2)
    assert (
        client.post(f"/api/v1/me/revision/cards/{others_card.pk}/rating", {"rating": 3}, format="json").status_code
        == 404
    )
    assert ReviewCard.objects.get(pk=others_card.pk).reviews == 0


def test_bookmark_twice_is_one_bookmark(api_client, db):
    question = QuestionFactory(topic="Genetics")
    client = as_user(api_client, UserFactory())
    assert client.post("/api/v1/me/bookmarks", {"question_id": question.pk}, format="json").status_code == 201
    assert client.post("/api/v1/me/bookmarks", {"question_id": question.pk}, format="json").status_code == 200
    assert [row["question"]["id"] for row in client.get("/api/v1/me/bookmarks").json()["results"]] == [question.pk]
    assert client.post("/api/v1/me/bookmarks", {"question_id": 10**9}, format="json").status_code == 404
    assert client.delete(f"/api/v1/me/bookmarks/{question.pk}").status_code == 204
    assert client.get("/api/v1/me/bookmarks").json()["results"] == []


def test_revision_queue_rating_is_idempotent(api_client, db, django_capture_on_commit_callbacks):
    learner = UserFactory()
    client = as_user(api_client, learner)
    question = QuestionFactory()
    client.post("/api/v1/me/bookmarks", {"question_id": question.pk}, format="json")
    queue = client.get("/api/v1/me/revision").json()
    assert (queue["due_today"], queue["streak_days"], len(queue["due"])) == (1, 0, 1)
    card_id = queue["due"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):  # the rating drops the cached summary
        first = client.post(f"/api/v1/me/revision/cards/{card_id}/rating", {"rating": 3}, format="json").json()
    second = client.post(f"/api/v1/me/revision/cards/{card_id}/rating", {"rating": 1}, format="json").json()
    assert (first["applied"], second["applied"]) == (True, False)
    assert second["card"]["due"] == first["card"]["due"]
    assert client.get("/api/v1/me/revision").json()["streak_days"] == 1
    bad = client.post(f"/api/v1/me/revision/cards/{card_id}/rating", {"rating": 7}, format="json")
    assert bad.status_code == 400


def test_daily_set_over_the_api(api_client, ten_learner_test):
    QuestionFactory(chapter="Cell", topic="Cell cycle")
    body = as_user(api_client, ten_learner_test["learners"][10]).get("/api/v1/me/revision/daily").json()
    assert [t["topic"] for t in body["weakest_topics"]][:2] == ["Cell cycle", "Genetics"]
    assert body["fresh"]


@pytest.mark.parametrize("rows", [1, 30])
def test_list_query_budgets_do_not_grow(api_client, django_assert_max_num_queries, rows):
    learner = UserFactory()
    client = as_user(api_client, learner)
    for _ in range(rows):
        client.post("/api/v1/me/bookmarks", {"question_id": QuestionFactory().pk}, format="json")
    ReviewCard.objects.filter(user=learner).update(due=timezone.now() - timedelta(minutes=1))
    for url in ("/api/v1/me/bookmarks", "/api/v1/me/notebook", "/api/v1/me/revision", "/api/v1/me/revision/daily"):
        client.get(url)  # warm the protected-question set
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200


def test_analysis_api_query_budget(api_client, ten_learner_test, django_assert_max_num_queries):
    attempt = ten_learner_test["attempts"][10]
    client = as_user(api_client, ten_learner_test["learners"][10])
    client.get(f"/api/v1/attempts/{attempt.pk}/analysis")
    with django_assert_max_num_queries(6):
        assert client.get(f"/api/v1/attempts/{attempt.pk}/analysis").status_code == 200


def test_page_another_learner_404_parent_200(client, ten_learner_test):
    attempt = ten_learner_test["attempts"][10]
    url = f"/attempts/{attempt.pk}/analysis/"
    client.force_login(ten_learner_test["learners"][2])
    assert client.get(url).status_code == 404
    client.force_login(ParentLinkFactory(student=ten_learner_test["learners"][10]).parent)
    response = client.get(url)
    assert response.status_code == 200
    assert "Estimate:" in response.content.decode()


def test_the_notebook_keeps_the_verdict_of_a_question_a_live_mock_also_uses(api_client, db):
    # Given wrong answers in a free test, one to a question that a live mock running now also uses
    learner = UserFactory()
    free = PracticeTestFactory(question_count=2)
    shared, public = [item.question for item in free.paper_items.order_by("position")]
    live = PracticeTestFactory(question_count=0, scheduled_start=timezone.now() - timedelta(minutes=5))
    PracticeTestQuestion.objects.create(test=live, question=shared, position=1)
    take(free, learner, "BB", [5, 5])

    # When the learner reads the notebook
    rows = as_user(api_client, learner).get("/api/v1/me/notebook").json()["results"]

    # Then only the public question is listed: "B is wrong" would give away part of the live mock's key,
    # which the free test's own result keeps secret
    assert [(row["question"]["id"], row["chosen_option"], row["correct_option"]) for row in rows] == [
        (public.pk, "B", "A")
    ]


@pytest.mark.parametrize("protected_by", ["upcoming live mock", "course-only test"])
def test_a_protected_question_cannot_be_bookmarked_by_its_id(api_client, db, protected_by):
    # Given a question only an upcoming live mock (or a course's own test) uses: ids are sequential
    fields = (
        {"scheduled_start": timezone.now() + timedelta(days=1)}
        if protected_by == "upcoming live mock"
        else {"course": CourseFactory(), "is_free": False}
    )
    question = PracticeTestFactory(question_count=1, **fields).paper_items.get().question
    client = as_user(api_client, UserFactory())

    # When a learner who never sat that test bookmarks it by id
    response = client.post("/api/v1/me/bookmarks", {"question_id": question.pk}, format="json")

    # Then it is a 404, as for a missing question, and its text is in no list
    assert response.status_code == 404
    assert client.get("/api/v1/me/bookmarks").json()["results"] == []
    assert client.get("/api/v1/me/revision").json()["due"] == []


def test_bookmarks_read_the_secret_questions_once_per_page_not_twice_a_row(api_client, monkeypatch):
    # Each row's correct_option and explanation read the live mocks' question ids (a Redis round trip): 2 a row
    learner = UserFactory()
    client = as_user(api_client, learner)
    for question in QuestionFactory.create_batch(10):
        assert client.post("/api/v1/me/bookmarks", {"question_id": question.pk}, format="json").status_code == 201
    reads, real = [], course_caches.protected_question_ids_get_or_load
    monkeypatch.setattr(
        course_caches, "protected_question_ids_get_or_load", lambda loader: reads.append(1) or real(loader)
    )

    rows = client.get("/api/v1/me/bookmarks").json()["results"]

    assert len(rows) == 10
    assert all(row["question"]["correct_option"] for row in rows)
    assert len(reads) == 1
