"""Question bank export and re-import in CSV and XLSX: a round trip keeps every character, escapes
formula-like cells on the way out (CSV injection), and a bad row or a formula cell imports nothing."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from courses.models import Question
from courses.question_import import (
    ALL_COLUMNS,
    COLUMNS,
    QuestionImportInvalid,
    escape_formula,
    questions_export,
    questions_import,
    unescape_formula,
)
from tests.factories import QuestionFactory

pytestmark = pytest.mark.django_db

# Cells a spreadsheet would run as formulas, a Devanagari question, and an apostrophe that is only text.
TRICKY = [
    {"text": '=HYPERLINK("http://attacker.example","Click")', "option_a": "+91 98000 00000", "option_b": "-5 °C"},
    {"text": "कोशिका का ऊर्जा घर कौन सा है?", "option_a": "माइटोकॉन्ड्रिया", "option_b": "@cell", "explanation": "'s"},
    {"text": "'=already quoted", "option_c": "\u200bzero width", "option_d": "'"},
]


def _bank() -> list[Question]:
    return [QuestionFactory(**fields) for fields in TRICKY]


def _snapshot(questions) -> list[tuple]:
    return [tuple(getattr(question, column) for column in COLUMNS) for question in questions]


def _csv_cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _xlsx_cells(content: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_round_trip_keeps_every_question_exactly(file_format):
    # Given a bank with formula-like cells and Devanagari, exported
    originals = _bank()
    before = _snapshot(originals)
    content = questions_export(queryset=Question.objects.all(), file_format=file_format)
    Question.objects.all().delete()

    # When the export is imported again
    created = questions_import(upload=io.BytesIO(content))

    # Then the same questions come back, character for character
    assert len(created) == 3
    assert _snapshot(Question.objects.order_by("pk")) == before


def test_csv_export_escapes_formula_cells_and_starts_with_a_bom():
    _bank()

    content = questions_export(queryset=Question.objects.all(), file_format="csv")

    assert content.startswith("\ufeff".encode())
    header, first, second, third = _csv_cells(content)
    assert header == list(ALL_COLUMNS)
    row = dict(zip(header, first, strict=True))
    assert row["text"] == '\'=HYPERLINK("http://attacker.example","Click")'
    assert (row["option_a"], row["option_b"]) == ("'+91 98000 00000", "'-5 °C")
    second = dict(zip(header, second, strict=True))
    assert (second["text"], second["option_b"], second["explanation"]) == (TRICKY[1]["text"], "'@cell", "''s")
    third = dict(zip(header, third, strict=True))
    assert (third["text"], third["option_d"]) == ("''=already quoted", "''")
    # No cell of the file starts a formula.
    assert not [cell for row in (first, second, third) for cell in row if cell[:1] in ("=", "+", "-", "@")]


def test_xlsx_export_has_no_formula_cells():
    _bank()

    content = questions_export(queryset=Question.objects.all(), file_format="xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert [cell.data_type for row in sheet.iter_rows() for cell in row if cell.data_type == "f"] == []
    rows = _xlsx_cells(content)
    assert rows[0] == list(ALL_COLUMNS)
    assert rows[1][COLUMNS.index("text")] == '\'=HYPERLINK("http://attacker.example","Click")'
    assert rows[2][COLUMNS.index("text")] == TRICKY[1]["text"]


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-1", "@x", "\tx", "'", "'s", "''", "'=x", "plain", "", "मराठी", "a=b"]
)
def test_unescape_is_the_inverse_of_escape(value):
    assert unescape_formula(escape_formula(value)) == value


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_export_with_a_bad_row_imports_nothing_and_names_the_row(file_format):
    # Given an export whose second question row (file row 3) was broken in the spreadsheet
    _bank()
    content = questions_export(queryset=Question.objects.all(), file_format=file_format)
    Question.objects.all().delete()
    content = _break_row(content, file_format, row=3, column="correct_option", value="E")

    with pytest.raises(QuestionImportInvalid) as refusal:
        questions_import(upload=io.BytesIO(content))

    assert refusal.value.row_errors == {3: {"correct_option": ["Value 'E' is not a valid choice."]}}
    assert refusal.value.message == "1 of 3 rows have errors; nothing was imported."
    assert Question.objects.count() == 0


def _break_row(content: bytes, file_format: str, *, row: int, column: str, value: str) -> bytes:
    index = COLUMNS.index(column)
    if file_format == "csv":
        rows = _csv_cells(content)
        rows[row - 1][index] = value
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return ("\ufeff" + buffer.getvalue()).encode()
    book = openpyxl.load_workbook(io.BytesIO(content))
    book.active.cell(row=row, column=index + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD = ["11", "Biomolecules", "Enzymes", "MEDIUM", "Malonate inhibits:", "Competitive", "Non-competitive", "Feedback",
        "Allosteric", "A", ""]  # fmt: skip


def test_an_xlsx_formula_cell_is_refused_for_its_row():
    # Given a workbook whose row 3 computes its key with a formula (Excel shows its last value, if any)
    formula = list(GOOD)
    formula[COLUMNS.index("correct_option")] = '=IF(1=1,"A","B")'
    content = _xlsx([list(COLUMNS), GOOD, formula, GOOD])

    with pytest.raises(QuestionImportInvalid) as refusal:
        questions_import(upload=io.BytesIO(content))

    assert list(refusal.value.row_errors) == [3]
    assert refusal.value.row_errors[3]["correct_option"][0] == "A formula; type the value instead."
    assert Question.objects.count() == 0


@pytest.mark.parametrize("bad", ["Mal\x00onate", "Mal\x01onate", "Malonate\x7f"])
def test_a_csv_cell_with_a_control_character_is_refused_for_its_row(bad):
    # Review (issue 14 item 7 sibling): an uploaded file's cells never pass the request middleware, and
    # PostgreSQL refuses a NUL outright (the whole import failed without naming the row).
    broken = list(GOOD)
    broken[COLUMNS.index("text")] = bad
    buffer = io.StringIO()
    csv.writer(buffer).writerows([list(COLUMNS), GOOD, broken])

    with pytest.raises(QuestionImportInvalid) as refusal:
        questions_import(upload=io.BytesIO(buffer.getvalue().encode()))

    assert list(refusal.value.row_errors) == [3]
    assert list(refusal.value.row_errors[3]) == ["text"]
    assert Question.objects.count() == 0


def test_xlsx_numbers_typed_as_numbers_import_as_text():
    row = list(GOOD)
    row[COLUMNS.index("ncert_class")] = 12  # Excel stores a typed 12 as a number
    content = _xlsx([list(COLUMNS), row, [None] * len(COLUMNS)])  # and a trailing empty row

    created = questions_import(upload=io.BytesIO(content))

    assert [question.ncert_class for question in created] == ["12"]


def test_a_damaged_xlsx_is_refused_with_a_reason():
    with pytest.raises(QuestionImportInvalid) as refusal:
        questions_import(upload=io.BytesIO(b"PK\x03\x04 not really a workbook"))

    assert refusal.value.message == "The file is not a readable XLSX workbook."


def test_import_costs_the_same_queries_for_1_or_120_rows():
    counts = []
    for size in (1, 120):
        rows = [list(COLUMNS)] + [[*GOOD[:4], f"Question {number}", *GOOD[5:]] for number in range(size)]
        with CaptureQueriesContext(connection) as queries:
            created = questions_import(upload=io.BytesIO(_xlsx(rows)))
        counts.append(len(queries))
        assert len(created) == size
        assert all(question.pk for question in created)

    assert counts[0] == counts[1]  # one INSERT per 500 rows, nothing per row
    assert counts[1] <= 11  # savepoints included


# --- Admin ----------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    staff = User.objects.create_superuser("exporter@cerebrum.test", "export-pass-1", name="Exporter")
    client.force_login(staff)
    return client


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_admin_export_downloads_and_reimports_through_the_import_page(staff_client, file_format):
    before = _snapshot(_bank())

    export = staff_client.get(reverse("admin:courses_question_export", args=[file_format]))
    Question.objects.all().delete()
    upload = SimpleUploadedFile(f"bank.{file_format}", export.content)
    response = staff_client.post(reverse("admin:courses_question_import"), {"file": upload})

    assert export.status_code == 200
    assert export["Content-Disposition"] == f'attachment; filename="cerebrum-questions.{file_format}"'
    assert response.status_code == 302
    assert _snapshot(Question.objects.order_by("pk")) == before


def test_admin_export_action_exports_only_the_selected(staff_client):
    chosen, _ = QuestionFactory(text="=chosen"), QuestionFactory(text="other")

    response = staff_client.post(
        reverse("admin:courses_question_changelist"), {"action": "export_csv", "_selected_action": [chosen.pk]}
    )

    assert response.status_code == 200
    rows = _csv_cells(response.content)
    assert [row[COLUMNS.index("text")] for row in rows[1:]] == ["'=chosen"]


def test_admin_import_page_names_the_formula_row(staff_client):
    formula = list(GOOD)
    formula[COLUMNS.index("text")] = "=1+1"
    upload = SimpleUploadedFile("bank.xlsx", _xlsx([list(COLUMNS), formula]))

    response = staff_client.post(reverse("admin:courses_question_import"), {"file": upload})

    assert response.status_code == 400
    assert response.context["row_errors"] == [(2, {"text": ["A formula; type the value instead."]})]
    assert b"nothing was imported" in response.content


def test_unknown_export_format_is_not_found(staff_client):
    assert staff_client.get(reverse("admin:courses_question_export", args=["pdf"])).status_code == 404
