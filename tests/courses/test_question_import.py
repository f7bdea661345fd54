"""Question import (django-import-export): every row is validated first; one bad row imports none and names its row."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import User
from courses.models import Question
from courses.question_import import COLUMNS, QuestionImportInvalid, questions_import

GOOD_ROW = {
    "ncert_class": "11",
    "chapter": "Biomolecules",
    "topic": "Enzymes",
    "difficulty": "MEDIUM",
    "text": "Malonate inhibits succinic dehydrogenase. This is an example of:",
    "option_a": "Competitive inhibition",
    "option_b": "Non-competitive inhibition",
    "option_c": "Feedback inhibition",
    "option_d": "Allosteric activation",
    "correct_option": "A",
    "explanation": "Malonate resembles succinate and competes for the active site.",
}


def _csv(rows: list[dict], *, columns=COLUMNS, bom: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


def _rows(count: int, **changes) -> list[dict]:
    return [{**GOOD_ROW, "text": f"{GOOD_ROW['text']} ({number})", **changes} for number in range(count)]


@pytest.mark.django_db
@pytest.mark.parametrize("bom", [False, True])
def test_good_file_imports_every_row(bom):
    created = questions_import(upload=io.BytesIO(_csv(_rows(3), bom=bom)))

    assert len(created) == 3
    assert Question.objects.count() == 3
    question = Question.objects.order_by("id").first()
    assert (question.ncert_class, question.topic, question.correct_option) == ("11", "Enzymes", "A")
    assert question.options["A"] == "Competitive inhibition"


@pytest.mark.django_db
def test_lenient_spellings_are_normalised():
    questions_import(upload=io.BytesIO(_csv(_rows(1, difficulty="h", correct_option=" c "))))

    question = Question.objects.get()
    assert (question.difficulty, question.correct_option) == ("HARD", "C")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"correct_option": "E"}, "correct_option"),
        ({"ncert_class": "10"}, "ncert_class"),
        ({"difficulty": "IMPOSSIBLE"}, "difficulty"),
        ({"text": ""}, "text"),
        ({"option_c": ""}, "option_c"),
        ({"option_a": "x" * 501}, "option_a"),
    ],
)
def test_one_bad_row_imports_none_and_reports_its_row_number(change, field):
    # Given rows 2..4 (the header is row 1) where row 3 is wrong
    rows = _rows(3)
    rows[1].update(change)

    with pytest.raises(QuestionImportInvalid) as refusal:
        questions_import(upload=io.BytesIO(_csv(rows)))

    assert list(refusal.value.row_errors) == [3]
    assert list(refusal.value.row_errors[3]) == [field]
    assert Question.objects.count() == 0


@pytest.mark.django_db
def test_every_bad_row_is_reported_not_only_the_first():
    rows = _rows(4)
    rows[0]["correct_option"] = ""
    rows[3]["ncert_class"] = "13"

    with pytest.raises(QuestionImportInvalid) as refusal:
        questions_import(upload=io.BytesIO(_csv(rows)))

    assert sorted(refusal.value.row_errors) == [2, 5]
    assert refusal.value.message == "2 of 4 rows have errors; nothing was imported."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_csv(_rows(1), columns=COLUMNS[:-1]), "The header row is missing columns: explanation."),
        (_csv([]), "The file has a header but no question rows."),
        ("ncert_class\n".encode("utf-16"), "The file is not UTF-8 text; save it as 'CSV UTF-8'."),
    ],
)
def test_unusable_files_are_refused_with_a_reason(content, message):
    with pytest.raises(QuestionImportInvalid) as refusal:
        questions_import(upload=io.BytesIO(content))

    assert refusal.value.message == message
    assert Question.objects.count() == 0


@pytest.fixture
def staff_client(client, db):
    staff = User.objects.create_superuser("importer@cerebrum.test", "import-pass-1", name="Importer")
    client.force_login(staff)
    return client


def test_admin_import_page_imports_a_good_file(staff_client):
    upload = SimpleUploadedFile("questions.csv", _csv(_rows(2)), content_type="text/csv")

    response = staff_client.post(reverse("admin:courses_question_import"), {"file": upload})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:courses_question_changelist")
    assert Question.objects.count() == 2


def test_admin_import_page_shows_each_bad_row_and_imports_nothing(staff_client):
    rows = _rows(3)
    rows[2]["correct_option"] = "Z"
    upload = SimpleUploadedFile("questions.csv", _csv(rows), content_type="text/csv")

    response = staff_client.post(reverse("admin:courses_question_import"), {"file": upload})

    assert response.status_code == 400
    assert response.context["row_errors"][0][0] == 4
    assert b"nothing was imported" in response.content
    assert b"correct_option" in response.content
    assert Question.objects.count() == 0


def test_question_changelist_links_to_the_import_page(staff_client):
    response = staff_client.get(reverse("admin:courses_question_changelist"))

    assert reverse("admin:courses_question_import").encode() in response.content


def test_the_downloadable_template_imports_as_is(staff_client):
    template = staff_client.get(reverse("admin:courses_question_import_template"))
    upload = SimpleUploadedFile("template.csv", template.content, content_type="text/csv")

    response = staff_client.post(reverse("admin:courses_question_import"), {"file": upload})

    assert template["Content-Type"] == "text/csv; charset=utf-8"
    assert response.status_code == 302
    assert Question.objects.get().topic == "Enzymes"
