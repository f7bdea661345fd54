"""Question bank import and export in CSV and XLSX, on django-import-export (issue 19 item 8).

Guarantees (tests/courses/test_question_import.py):
- Every row is validated (the model's full_clean) before anything is kept: one bad row imports nothing,
  and every bad row is named by its row number in the file (the header is row 1) with its fields' errors.
- CSV is read as UTF-8, with or without the byte-order mark Excel writes ("CSV UTF-8"); Devanagari and
  any other script round-trip. CSV exports start with that mark, so Excel opens them as UTF-8.
- Export escapes CSV/formula injection (OWASP "CSV Injection"): a cell starting with =, +, -, @, a tab
  or a carriage return is written with a leading apostrophe, so a spreadsheet shows it as text instead
  of running it; import takes that apostrophe off again, so an export re-imports unchanged.
  django-import-export's own IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is not used: it deletes a leading
  "=" (changing the question) and leaves +, - and @ alone.
- A formula in an uploaded XLSX cell is refused for its row (the value Excel last computed may be
  missing or stale); type the value instead.
- The Hindi columns (text_hi, option_a_hi .. option_d_hi, explanation_hi) are optional; a row whose
  Hindi is in another script is imported and flagged "Hindi needs review" (courses.hindi, docs/hindi.md).
- Import creates questions; it never edits existing ones (a changed key must re-score attempts:
  courses.rekey.question_rekey).
"""

from __future__ import annotations

import io
from typing import IO

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from import_export import resources
from import_export.formats import base_formats
from import_export.results import RowResult

from cerebrum.errors import DomainError
from cerebrum.text import has_control_characters
from courses import caches
from courses.models import Question

COLUMNS = (
    "ncert_class",
    "chapter",
    "topic",
    "difficulty",
    "text",
    "option_a",
    "option_b",
    "option_c",
    "option_d",
    "correct_option",
    "explanation",
)
# Optional (issue 18 item 5): a file without them imports as before; blank cells mean "English prevails".
HINDI_COLUMNS = Question.HINDI_FIELDS
ALL_COLUMNS = (*COLUMNS, *HINDI_COLUMNS)
MAX_ROWS = 5_000
# Values staff commonly type in a spreadsheet, mapped to the stored choice.
DIFFICULTY_ALIASES = {"e": "EASY", "m": "MEDIUM", "h": "HARD"}
# OWASP: cells starting with these are run as formulas by Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
FORMULAS = "__formula_columns__"  # set on each row while it is imported
CONTROL_CHARACTER_MESSAGE = "Control characters (such as NUL) are not allowed; retype the cell."
FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": base_formats.XLSX.CONTENT_TYPE}


class QuestionImportInvalid(DomainError):
    """The file was refused; `row_errors` maps a row number in the file (header is row 1) to field errors."""

    code = "question_import_invalid"

    def __init__(self, message: str, *, row_errors: dict[int, dict[str, list[str]]] | None = None):
        super().__init__(message, fields={f"row {row}": _flatten(errors) for row, errors in (row_errors or {}).items()})
        self.row_errors = row_errors or {}


class FormulaCell(str):
    """An XLSX cell that holds a formula (its text, e.g. "=A1+1"): refused on import."""


def escape_formula(value):
    """The cell as a spreadsheet should store it: text that would start a formula gets a leading apostrophe.

    A value already starting with the apostrophe gets one more, so unescape_formula is its exact inverse.
    """
    if isinstance(value, str) and value.startswith((*FORMULA_TRIGGERS, ESCAPE)):
        return ESCAPE + value
    return value


def unescape_formula(value):
    """The inverse of escape_formula for an imported cell: drops one apostrophe before a trigger or another."""
    if isinstance(value, str) and value.startswith(ESCAPE) and value[1:2] and value[1] in (*FORMULA_TRIGGERS, ESCAPE):
        return value[1:]
    return value


class QuestionResource(resources.ModelResource):
    """The question bank's columns (COLUMNS), validated by Question.full_clean, bulk-created."""

    class Meta:
        model = Question
        fields = ALL_COLUMNS
        export_order = ALL_COLUMNS
        import_id_fields = ()
        force_init_instance = True  # import only creates: no lookup per row
        clean_model_instances = True
        skip_diff = True
        use_bulk = True
        batch_size = 500

    def before_import_row(self, row, **kwargs):
        row[FORMULAS] = [column for column in ALL_COLUMNS if isinstance(row.get(column), FormulaCell)]
        for column in ALL_COLUMNS:
            row[column] = _cell(row.get(column))
        row["correct_option"] = row["correct_option"].upper()
        difficulty = row["difficulty"].upper()
        row["difficulty"] = DIFFICULTY_ALIASES.get(difficulty.lower(), difficulty)

    def import_instance(self, instance, row, **kwargs):
        formulas = {column: ["A formula; type the value instead."] for column in row.get(FORMULAS, [])}
        # A file's cells never pass the request middleware (issue 14 item 7): refuse control
        # characters here, per cell, before PostgreSQL refuses a NUL for the whole file.
        control = {
            column: [CONTROL_CHARACTER_MESSAGE]
            for column in ALL_COLUMNS
            if isinstance(row.get(column), str) and has_control_characters(row[column])
        }
        super().import_instance(instance, row, **kwargs)
        instance.hindi_review_refresh()  # bulk_create skips Question.save()
        if formulas or control:
            raise ValidationError({**control, **formulas})

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return not any(row.get(column) for column in ALL_COLUMNS)  # an empty line in the file

    def after_import(self, dataset, result, **kwargs):
        # ModelResource resets the id sequence to MAX(id) here (loaddata's habit for imported ids). No id
        # is imported, and moving the sequence back under a concurrent insert would reuse its id.
        pass

    def export_field(self, field, instance, **kwargs):
        return escape_formula(super().export_field(field, instance, **kwargs))


class XLSXFormulaAware(base_formats.XLSX):
    """The library's XLSX reader, except that formula cells come through as FormulaCell, not their cached value."""

    def create_dataset(self, in_stream):
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(in_stream), read_only=True, data_only=False)
        rows = book.active.iter_rows()
        dataset = tablib.Dataset()
        dataset.headers = [cell.value for cell in next(rows, [])]
        for row in rows:
            dataset.append([FormulaCell(cell.value) if cell.data_type == "f" else cell.value for cell in row])
        return dataset


@transaction.atomic
def questions_import(*, upload: IO[bytes] | IO[str]) -> list[Question]:
    """Import a CSV or XLSX file (told apart by content) of questions: all rows, or none and QuestionImportInvalid."""
    dataset = _dataset(upload.read())
    resource = QuestionResource()
    result = resource.import_data(
        dataset, use_transactions=True, rollback_on_validation_errors=True, retain_instance_in_row_result=True
    )
    # The library numbers data rows from 1; in the file the header is row 1.
    row_errors = {row.number + 1: row.error_dict for row in result.invalid_rows}
    for number, errors in result.row_errors():
        row_errors[number + 1] = {"row": [str(error.error) for error in errors]}
    if row_errors or result.base_errors:
        transaction.set_rollback(True)
        rows = result.total_rows - result.totals[RowResult.IMPORT_TYPE_SKIP]
        message = f"{len(row_errors)} of {rows} rows have errors; nothing was imported."
        if not row_errors:
            message = "The questions could not be saved; nothing was imported."
        raise QuestionImportInvalid(message, row_errors=dict(sorted(row_errors.items())))
    # bulk_create sends no save events: without this, cached question lists and pages would stay old.
    caches.content_changed(Question)
    return [row.instance for row in result.rows if row.import_type == RowResult.IMPORT_TYPE_NEW]


questions_import_csv = questions_import  # the entry point's former name


def questions_export(*, queryset, file_format: str) -> bytes:
    """The questions as a "csv" (UTF-8 with BOM) or "xlsx" file, with COLUMNS, formula-like cells escaped."""
    dataset = QuestionResource().export(queryset=queryset.order_by("pk"))
    if file_format == "csv":
        return ("\ufeff" + base_formats.CSV().export_data(dataset)).encode("utf-8")
    if file_format == "xlsx":
        return base_formats.XLSX().export_data(dataset)
    raise DomainError("Export as csv or xlsx.", fields={"format": ["Choose csv or xlsx."]})


def _dataset(content: bytes | str) -> tablib.Dataset:
    if isinstance(content, bytes) and content.startswith(b"PK\x03\x04"):  # a zip: XLSX
        try:
            dataset = XLSXFormulaAware().create_dataset(content)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise QuestionImportInvalid("The file is not a readable XLSX workbook.") from exc
    else:
        dataset = base_formats.CSV().create_dataset(_decode(content))
    dataset.headers = [str(name or "").strip().lower() for name in dataset.headers or []]
    missing = [column for column in COLUMNS if column not in dataset.headers]
    if missing:
        raise QuestionImportInvalid(f"The header row is missing columns: {', '.join(missing)}.")
    for column in [name for name in HINDI_COLUMNS if name not in dataset.headers]:
        dataset.append_col([""] * dataset.height, header=column)
    filled = sum(1 for row in dataset if any(_cell(value) for value in row))
    if not filled:
        raise QuestionImportInvalid("The file has a header but no question rows.")
    if filled > MAX_ROWS:
        raise QuestionImportInvalid(f"At most {MAX_ROWS} questions per file; this one has {filled}.")
    return dataset


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        # utf-8-sig drops the byte-order mark Excel writes at the start of "CSV UTF-8" files.
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuestionImportInvalid("The file is not UTF-8 text; save it as 'CSV UTF-8'.") from exc


def _cell(value) -> str:
    """A cell as text: numbers typed in a spreadsheet (11, 11.0) become "11"; escaping is undone."""
    if value is None:
        return ""
    if isinstance(value, FormulaCell):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unescape_formula(str(value).strip())


def _flatten(errors: dict[str, list[str]]) -> list[str]:
    return [f"{field}: {message}" for field, messages in errors.items() for message in messages]
