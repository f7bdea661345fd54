"""The attempt API in the Hindi medium (issue 18 item 5): ?medium=hi at the start, each question's `hi`
(null when untranslated), scoring on the canonical key whatever the medium, explanation_hi in results."""

from __future__ import annotations

import pytest

from courses import caches
from courses.models import PracticeTestQuestion
from tests.factories import PracticeTestFactory, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def student(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    return user


@pytest.fixture
def bilingual_test():
    test = PracticeTestFactory(question_count=0, shuffle=True)
    translated = QuestionFactory(
        text="Which organelle is the powerhouse of the cell?",
        text_hi="कोशिका का ऊर्जा घर कौन सा कोशिकांग है?",
        option_a_hi="सूत्रकणिका",
        option_b_hi="राइबोसोम",
        option_c_hi="",
        option_d_hi="लयनकाय",
        explanation_hi="ATP सूत्रकणिका में बनता है।",
        correct_option="A",
    )
    english_only = QuestionFactory(text="English only")
    PracticeTestQuestion.objects.create(test=test, question=translated, position=1)
    PracticeTestQuestion.objects.create(test=test, question=english_only, position=2)
    return test, translated, english_only


def test_start_in_hindi_returns_the_hindi_version_in_the_learners_option_order(api_client, student, bilingual_test):
    test, translated, english_only = bilingual_test
    response = api_client.post(f"/api/v1/tests/{test.slug}/attempts?medium=hi")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["medium"] == "hi"
    by_id = {item["id"]: item for item in body["paper"]}
    assert by_id[english_only.pk]["hi"] is None
    item = by_id[translated.pk]
    assert item["hi"]["text"] == translated.text_hi
    english_to_hindi = {translated.option_a: "सूत्रकणिका", translated.option_b: "राइबोसोम", translated.option_c: ""}
    for letter, english in item["options"].items():  # shuffled: the Hindi options follow the same order
        if english in english_to_hindi:
            assert item["hi"]["options"][letter] == english_to_hindi[english]


def test_medium_defaults_to_english_and_an_unknown_one_is_refused(api_client, student, bilingual_test):
    test, _, _ = bilingual_test
    assert api_client.post(f"/api/v1/tests/{test.slug}/attempts?medium=ta").status_code == 400
    assert api_client.post(f"/api/v1/tests/{test.slug}/attempts").json()["medium"] == "en"


def test_a_hindi_medium_attempt_is_scored_on_the_canonical_key(api_client, student, bilingual_test):
    test, translated, _ = bilingual_test
    attempt = api_client.post(f"/api/v1/tests/{test.slug}/attempts?medium=hi").json()
    item = next(q for q in attempt["paper"] if q["id"] == translated.pk)
    shown = next(letter for letter, text in item["options"].items() if text == translated.option_a)
    answered = api_client.post(
        f"/api/v1/attempts/{attempt['id']}/answers",
        {"answers": [{"question_id": translated.pk, "option": shown, "seq": 1}]},
        format="json",
    )
    assert answered.status_code == 200, answered.content
    result = api_client.post(f"/api/v1/attempts/{attempt['id']}/submit", {}, format="json").json()
    assert result["correct_count"] == 1
    question = next(q for q in result["questions"] if q["id"] == translated.pk)
    assert question["explanation_hi"] == "ATP सूत्रकणिका में बनता है।"
    key = caches.answer_key_get(test_id=test.pk, version=test.paper_version)
    assert key[str(translated.pk)]["correct"] == "A"
