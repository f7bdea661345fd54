"""Staff upload questions as CSV: every row is validated first, and one bad row imports nothing."""

from __future__ import annotations

import csv
import io
from typing import IO

from cacheops import invalidate_model
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from cerebrum.errors import DomainError
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
MAX_ROWS = 5_000
# Values staff commonly type in a spreadsheet, mapped to the stored choice.
DIFFICULTY_ALIASES = {"e": "EASY", "m": "MEDIUM", "h": "HARD"}


class QuestionImportInvalid(DomainError):
    """The file was refused; `row_errors` maps a 1-based data row number (header is row 1) to field errors."""

    code = "question_import_invalid"

    def __init__(self, message: str, *, row_errors: dict[int, dict[str, list[str]]] | None = None):
        super().__init__(message, fields={f"row {row}": _flatten(errors) for row, errors in (row_errors or {}).items()})
        self.row_errors = row_errors or {}


@transaction.atomic
def questions_import_csv(*, csv_file: IO[bytes] | IO[str]) -> list[Question]:
    """Parse, validate every row, then insert all rows in one statement, or raise QuestionImportInvalid."""
    rows = _read_rows(csv_file)
    questions, row_errors = [], {}
    for row_number, row in rows:
        question, errors = _question_from_row(row)
        if errors:
            row_errors[row_number] = errors
        else:
            questions.append(question)
    if row_errors:
        raise QuestionImportInvalid(
            f"{len(row_errors)} of {len(rows)} rows have errors; nothing was imported.", row_errors=row_errors
        )
    created = Question.objects.bulk_create(questions, batch_size=500)
    if settings.CACHEOPS_ENABLED:
        # bulk_create sends no save events, so cacheops would keep serving the old question lists.
        transaction.on_commit(lambda: invalidate_model(Question))
    return created


def _read_rows(csv_file: IO[bytes] | IO[str]) -> list[tuple[int, dict[str, str]]]:
    text = _decode(csv_file.read())
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise QuestionImportInvalid(f"The header row is missing columns: {', '.join(missing)}.")
    reader.fieldnames = header
    rows = [
        (index, row)
        for index, row in enumerate(reader, start=2)
        if any((value or "").strip() for value in row.values())
    ]
    if not rows:
        raise QuestionImportInvalid("The file has a header but no question rows.")
    if len(rows) > MAX_ROWS:
        raise QuestionImportInvalid(f"At most {MAX_ROWS} questions per file; this one has {len(rows)}.")
    return rows


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        # utf-8-sig drops the byte-order mark Excel writes at the start of "CSV UTF-8" files.
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuestionImportInvalid("The file is not UTF-8 text; save it as 'CSV UTF-8'.") from exc


def _question_from_row(row: dict[str, str]) -> tuple[Question, dict[str, list[str]]]:
    values = {column: (row.get(column) or "").strip() for column in COLUMNS}
    values["correct_option"] = values["correct_option"].upper()
    difficulty = values["difficulty"].upper()
    values["difficulty"] = DIFFICULTY_ALIASES.get(difficulty.lower(), difficulty)
    question = Question(**values)
    try:
        question.full_clean()
    except ValidationError as exc:
        return question, exc.message_dict
    return question, {}


def _flatten(errors: dict[str, list[str]]) -> list[str]:
    return [f"{field}: {message}" for field, messages in errors.items() for message in messages]
