"""The exam and result pages in the Hindi medium (issue 18 item 5), without JavaScript: the medium chosen
at the start, NTA's "View in" for one question (?view_in=), English where a translation is missing, the
same queries as an English page, and solutions with the Hindi explanation."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses import services
from courses.models import PracticeTestQuestion
from tests.factories import PracticeTestFactory, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner(client):
    user = UserFactory()
    client.force_login(user)
    return user


@pytest.fixture
def paper():
    test = PracticeTestFactory(question_count=0)
    translated = QuestionFactory(
        text="Which organelle makes most of the cell's ATP?",
        text_hi="कोशिका का अधिकांश ATP कौन-सा कोशिकांग बनाता है?",
        option_a="Mitochondrion",
        option_a_hi="सूत्रकणिका",
        option_b_hi="राइबोसोम",
        correct_option="A",
        explanation="Aerobic respiration happens in mitochondria.",
        explanation_hi="वायवीय श्वसन सूत्रकणिका में होता है।",
    )
    english_only = QuestionFactory(text="An English-only question")
    PracticeTestQuestion.objects.create(test=test, question=translated, position=1)
    PracticeTestQuestion.objects.create(test=test, question=english_only, position=2)
    return test, translated, english_only


def test_start_form_posts_the_medium_and_the_exam_page_opens_in_it(client, learner, paper):
    test, translated, _ = paper
    response = client.post(f"/tests/{test.slug}/start/", {"medium": "hi"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert translated.text_hi in page
    assert "सूत्रकणिका" in page
    assert translated.option_c in page  # no Hindi for C: English
    assert '<option value="hi" lang="hi" selected>' in page


def test_view_in_shows_one_question_in_the_other_medium_and_english_when_untranslated(client, learner, paper):
    test, translated, english_only = paper
    attempt = services.attempt_start(test=test, user=learner, medium="hi")
    english = client.get(f"/attempts/{attempt.pk}/", {"q": 1, "view_in": "en"}).content.decode()
    assert translated.text in english
    assert translated.text_hi not in english
    untranslated = client.get(f"/attempts/{attempt.pk}/", {"q": 2}).content.decode()
    assert english_only.text in untranslated
    assert "No Hindi version of this question: shown in English." in untranslated
    assert 'id="view-in-note" hidden' not in untranslated


def test_a_hindi_page_costs_the_same_queries_as_an_english_one(client, learner, paper):
    test, _, _ = paper
    counts = {}
    for medium in ("en", "hi"):
        attempt = services.attempt_start(test=test, user=learner, medium=medium)
        client.get(f"/attempts/{attempt.pk}/")  # warm the paper and the attempt
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/attempts/{attempt.pk}/").status_code == 200
        counts[medium] = len(queries)
        services.attempt_submit(attempt=attempt)
    assert counts["hi"] == counts["en"]


def test_solutions_of_a_hindi_attempt_show_the_hindi_explanation(client, learner, paper):
    test, translated, english_only = paper
    attempt = services.attempt_start(test=test, user=learner, medium="hi")
    services.attempt_answers_save(attempt=attempt, answers=[{"question_id": translated.pk, "option": "A", "seq": 1}])
    services.attempt_submit(attempt=attempt)
    page = client.get(f"/attempts/{attempt.pk}/result/").content.decode()
    assert "वायवीय श्वसन सूत्रकणिका में होता है।" in page
    assert "(सूत्रकणिका)" in page  # the correct option's text, in Hindi
    assert english_only.text in page


def test_the_no_javascript_exam_screen_and_submit_page_speak_hindi(client, learner, paper):
    test, _, _ = paper
    attempt = services.attempt_start(test=test, user=learner, medium="hi")
    client.cookies["django_language"] = "hi"

    screen = client.get(f"/attempts/{attempt.pk}/", {"q": 2}).content.decode()
    confirm = client.get(f"/attempts/{attempt.pk}/submit/").content.decode()

    assert 'प्रश्न <span id="question-number">2</span> <span class="muted">(कुल 2 में से)' in screen
    assert 'aria-label="प्रश्न 1, नहीं देखा गया"' in screen  # the palette, built in Python
    # attempt.js's words, in the page's JSON shared by every learner of the paper version (courses.exam_screen)
    exam = json.loads(re.search(r'<script id="exam-paper" type="application/json">(.*?)</script>', screen).group(1))
    assert exam["messages"]["saved"] == "सहेजा गया"
    assert exam["messages"]["waiting"] == ["%(n)s उत्तर इस डिवाइस पर प्रतीक्षा में है", "%(n)s उत्तर इस डिवाइस पर प्रतीक्षा में हैं"]
    assert "क्या टेस्ट जमा करें?" in confirm
    assert "अब तक आपके उत्तर" in confirm
    assert "नहीं, टेस्ट पर वापस जाएँ" in confirm
