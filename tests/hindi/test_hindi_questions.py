"""Hindi versions of questions (issue 18 item 5): the review rule, the admin's flag, the import's Hindi
columns, and the paper's Hindi part with English where a translation is missing."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from accounts.models import User
from courses import caches
from courses.hindi import hindi_needs_review, in_medium
from courses.models import PracticeTestQuestion
from courses.question_import import ALL_COLUMNS, questions_import
from tests.factories import PracticeTestFactory, QuestionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("texts", "flagged"),
    [
        (("कोशिका का ऊर्जा घर कौन सा है?", "माइटोकॉन्ड्रिया"), False),
        (("DNA की द्विकुंडलित संरचना किसने दी?", "वॉटसन और क्रिक"), False),  # a Latin term in moderation
        (("β-कैरोटीन से कौन सा विटामिन बनता है? (2019)",), False),  # Greek, digits, punctuation
        (("", "", ""), False),  # nothing to review
        (("Which organelle is the powerhouse of the cell?",), True),  # English pasted into a Hindi field
        (("কোষের শক্তিঘর কোনটি?",), True),  # Bengali
        (("خلیہ کا پاور ہاؤس",), True),  # Urdu
        (("ATP NADPH RuBisCO Calvin", "चक्र"), True),  # mostly Latin
    ],
)
def test_review_rule(texts, flagged):
    assert hindi_needs_review(*texts) is flagged


def test_a_question_saved_with_another_script_is_kept_and_flagged():
    question = QuestionFactory(text_hi="কোষের শক্তিঘর কোনটি?")
    question.refresh_from_db()
    assert question.text_hi == "কোষের শক্তিঘর কোনটি?"
    assert question.hindi_needs_review is True
    question.text_hi = "कोशिका का ऊर्जा घर कौन सा है?"
    question.save(update_fields=["text_hi"])
    question.refresh_from_db()
    assert question.hindi_needs_review is False


@pytest.fixture
def staff_client(client):
    staff = User.objects.create_superuser("hindi-staff@cerebrum.test", "hindi-pass-1", name="Hindi Staff")
    client.force_login(staff)
    return client


def test_admin_lists_and_filters_hindi_needing_review(staff_client):
    good = QuestionFactory(text="Good one", text_hi="कोशिका का ऊर्जा घर कौन सा है?")
    bad = QuestionFactory(text="Bad one", text_hi="কোষের শক্তিঘর কোনটি?")
    url = reverse("admin:courses_question_changelist")
    flagged = staff_client.get(url, {"hindi_needs_review__exact": "1"})
    assert flagged.status_code == 200
    assert "Hindi needs review" in flagged.content.decode()
    ids = {row.pk for row in flagged.context["cl"].result_list}
    assert ids == {bad.pk}
    assert good.pk not in ids
    change = staff_client.get(reverse("admin:courses_question_change", args=[bad.pk]))
    assert "Hindi (हिन्दी)" in change.content.decode()


def test_admin_edit_saves_hindi_and_the_flag(staff_client):
    question = QuestionFactory()
    url = reverse("admin:courses_question_change", args=[question.pk])
    form = {
        name: getattr(question, name)
        for name in ("ncert_class", "chapter", "topic", "difficulty", "text", "correct_option", "explanation")
    }
    form |= {f"option_{x}": getattr(question, f"option_{x}") for x in "abcd"}
    form |= {"is_active": "on", "text_hi": "Plain English text", "option_a_hi": "माइटोकॉन्ड्रिया"}
    response = staff_client.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    question.refresh_from_db()
    assert question.option_a_hi == "माइटोकॉन्ड्रिया"
    assert question.hindi_needs_review is True  # "Plain English text" outweighs one Hindi word


def _csv(rows: list[dict], columns) -> io.BytesIO:
    import csv

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode("utf-8-sig"))


BASE_ROW = {
    "ncert_class": "11",
    "chapter": "Cell: The Unit of Life",
    "topic": "Cell organelles",
    "difficulty": "E",
    "text": "Which organelle is the powerhouse of the cell?",
    "option_a": "Mitochondrion",
    "option_b": "Ribosome",
    "option_c": "Golgi body",
    "option_d": "Lysosome",
    "correct_option": "a",
    "explanation": "ATP is made in mitochondria.",
}


def test_import_with_hindi_columns_and_without_them():
    hindi = {
        "text_hi": "कोशिका का ऊर्जा घर कौन सा कोशिकांग है?",
        "option_a_hi": "सूत्रकणिका (माइटोकॉन्ड्रिया)",
        "option_b_hi": "राइबोसोम",
        "option_c_hi": "",
        "option_d_hi": "লাইসোজোম",  # Bengali: imported, flagged
        "explanation_hi": "ATP सूत्रकणिका में बनता है।",
    }
    (imported,) = questions_import(upload=_csv([BASE_ROW | hindi], ALL_COLUMNS))
    imported.refresh_from_db()
    assert imported.text_hi == hindi["text_hi"]
    assert imported.option_c_hi == ""
    assert imported.explanation_hi == hindi["explanation_hi"]
    assert imported.hindi_needs_review is True
    # A file without the Hindi columns (the old template) still imports, with no Hindi
    (plain,) = questions_import(upload=_csv([BASE_ROW], list(BASE_ROW)))
    plain.refresh_from_db()
    assert (plain.text_hi, plain.hindi_needs_review) == ("", False)


def test_paper_carries_hindi_and_english_prevails_where_missing():
    test = PracticeTestFactory(question_count=0)
    translated = QuestionFactory(
        text="Powerhouse?", text_hi="ऊर्जा घर?", option_a_hi="सूत्रकणिका", explanation_hi="व्याख्या"
    )
    english_only = QuestionFactory(text="English only")
    PracticeTestQuestion.objects.create(test=test, question=translated, position=1)
    PracticeTestQuestion.objects.create(test=test, question=english_only, position=2)
    paper = caches.paper_get(test)
    first, second = paper["questions"]
    assert "hi" not in second
    text, options = in_medium(first, "hi")
    assert text == "ऊर्जा घर?"
    assert options["A"] == "सूत्रकणिका"
    assert options["B"] == translated.option_b  # no Hindi for B: English
    assert in_medium(second, "hi") == ("English only", english_only.options)
    assert in_medium(first, "en") == ("Powerhouse?", translated.options)
    key = caches.answer_key_get(test_id=test.pk, version=test.paper_version)
    assert key[str(translated.pk)]["explanation_hi"] == "व्याख्या"


def test_demo_cell_chapter_questions_carry_hindi_and_others_stay_english():
    from courses.management.demo_seed import question_rows

    rows = question_rows(0)
    hindi = [question for question in rows if question.text_hi]
    assert {question.chapter for question in hindi} == {"Cell: The Unit of Life"}
    assert len(hindi) == 12
    assert not any(question.hindi_needs_review for question in hindi)
    powerhouse = next(q for q in hindi if "aerobic respiration" in q.text and q.text.startswith("Which of the"))
    letter = powerhouse.correct_option.lower()
    assert getattr(powerhouse, f"option_{letter}_hi") == "सूत्रकणिका (माइटोकॉन्ड्रिया)"
