"""The Hindi medium in Chromium at 390 px (issue 18 item 5): a learner with the interface in Hindi starts a
test in Hindi, sees the questions in Devanagari and the screen's words (the heading, attempt.js's messages)
in Hindi, views one question in English (NTA's "View in"), and the answers are scored on the canonical key
whatever the medium or the learner's option order."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from courses.models import PracticeTestQuestion, Question
from courses.models import TestAttempt as Attempt
from tests.factories import PracticeTestFactory, QuestionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def _bilingual_test():
    test = PracticeTestFactory(title="NEET Hindi Mock", question_count=0, shuffle=True)
    first = QuestionFactory(
        text="Which organelle is the site of aerobic respiration?",
        option_a="Mitochondrion",
        option_b="Ribosome",
        option_c="Lysosome",
        option_d="Centriole",
        correct_option="A",
        text_hi="वायवीय श्वसन का स्थल कौन-सा कोशिकांग है?",
        option_a_hi="सूत्रकणिका",
        option_b_hi="राइबोसोम",
        option_c_hi="लयनकाय",
        option_d_hi="तारककेंद्रक",
    )
    second = QuestionFactory(
        text="Which organelle has hydrolytic enzymes active at acidic pH?",
        option_a="Golgi apparatus",
        option_b="Lysosome",
        option_c="Ribosome",
        option_d="Mitochondrion",
        correct_option="B",
        text_hi="किस कोशिकांग में अम्लीय pH पर सक्रिय जल-अपघटनी एंजाइम होते हैं?",
        option_a_hi="गॉल्जी उपकरण",
        option_b_hi="लयनकाय",
        option_c_hi="",  # no Hindi for this option: English prevails
        option_d_hi="सूत्रकणिका",
    )
    for position, question in enumerate((first, second), start=1):
        PracticeTestQuestion.objects.create(test=test, question=question, position=position)
    return test


def _current(page) -> Question:
    return Question.objects.get(pk=int(page.locator("#question").get_attribute("data-question")))


def _expect_english_where_hindi_is_missing(page, question: Question) -> None:
    """An option without a Hindi version shows its English text (one of the two questions has one)."""
    for letter, english in question.options.items():
        if not getattr(question, f"option_{letter.lower()}_hi"):
            expect(page.locator("#question-options")).to_contain_text(english)


def test_start_in_hindi_switch_one_question_to_english_and_score_on_the_key(browser, live_server):
    # Given a learner whose interface is in Hindi, and a shuffled test with Hindi versions
    user = UserFactory(name="Asha Verma")
    client = Client()
    client.force_login(user)
    test = _bilingual_test()
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            },
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "hi", "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        # When they open the test: the page is in Hindi and the medium defaults to Hindi
        page.goto(f"/tests/{test.slug}/")
        expect(page.locator("html")).to_have_attribute("lang", "hi")
        expect(page.get_by_label("हिन्दी (Hindi)")).to_be_checked()
        page.get_by_role("button", name="टेस्ट शुरू करें").click()

        # Then the screen's own words are Hindi: "Question 1 of 2", the title, the palette's labels
        expect(page.locator("#question-heading")).to_have_text(re.compile(r"^प्रश्न\s+1\s+\(कुल 2 में से\)$"))
        expect(page).to_have_title(re.compile(r"· प्रश्न 1 ·"))
        expect(page.locator('.palette a.pal[data-n="2"]')).to_have_attribute("aria-label", "प्रश्न 2, नहीं देखा गया")
        # and the question and its options are in Devanagari
        expect(page.locator("#question-text")).to_have_attribute("lang", "hi")
        question = _current(page)
        expect(page.locator("#question-text")).to_have_text(question.text_hi)
        assert DEVANAGARI.search(page.locator("#question-options").inner_text())
        _expect_english_where_hindi_is_missing(page, question)
        attempt = Attempt.objects.get(user=user, test=test)
        assert attempt.medium == "hi"

        # When they answer it in Hindi with the right option (wherever the shuffle put it) ...
        right_hi = getattr(question, f"option_{question.correct_option.lower()}_hi")
        page.locator("label.option", has_text=right_hi).click()
        # ... and view this question in English
        page.get_by_label("इसमें देखें").select_option("en")
        expect(page.locator("#question-text")).to_have_text(question.text)
        right_en = question.options[question.correct_option]
        expect(page.locator("label.option", has_text=right_en).locator("input")).to_be_checked()
        page.get_by_role("button", name="सहेजें और आगे बढ़ें").click()

        # Then attempt.js speaks Hindi: the save is confirmed, the title and the palette follow the question
        expect(page.locator("#save-status")).to_have_text("सहेजा गया")
        expect(page).to_have_title(re.compile(r"· प्रश्न 2 ·"))
        expect(page.locator('.palette a.pal[data-n="1"]')).to_have_attribute("aria-label", "प्रश्न 1, उत्तर दिया")
        # and the next question is in Hindi again (the switch was for one question); they answer it wrongly
        second = _current(page)
        assert second.pk != question.pk
        expect(page.locator("#question-text")).to_have_text(second.text_hi)
        expect(page.get_by_label("इसमें देखें")).to_have_value("hi")
        _expect_english_where_hindi_is_missing(page, second)
        wrong_letter = next(letter for letter in "ABCD" if letter != second.correct_option)
        wrong_text = getattr(second, f"option_{wrong_letter.lower()}_hi") or second.options[wrong_letter]
        page.locator("label.option", has_text=wrong_text).click()
        # offline: the answer waits on the device, and the banner says so in Hindi
        context.set_offline(True)
        page.get_by_role("button", name="सहेजें और आगे बढ़ें").click()
        expect(page.locator("#net-banner")).to_have_text(
            "आप ऑफ़लाइन हैं। 1 उत्तर इस डिवाइस पर प्रतीक्षा में है और कनेक्शन लौटने पर भेजे जाएँगे।"
        )
        context.set_offline(False)
        expect(page.locator("#save-status")).to_have_text("सहेजा गया")

        # And the first question, opened again, is still in English
        page.locator('.palette a.pal[data-n="1"]').click()
        expect(page.locator("#question-text")).to_have_text(question.text)

        # When they submit: one right, one wrong, on the canonical key
        page.get_by_role("button", name="टेस्ट जमा करें").click()
        expect(page.locator("#submit-dialog-heading")).to_have_text("क्या टेस्ट जमा करें?")
        page.get_by_role("button", name="हाँ, जमा करें").click()
        expect(page.locator("#score")).to_have_text(str(test.marks_correct + test.marks_wrong))
        attempt.refresh_from_db()
        assert (attempt.correct_count, attempt.wrong_count) == (1, 1)
    finally:
        context.close()
