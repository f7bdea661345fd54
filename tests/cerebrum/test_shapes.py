"""API serializers derived from selectors' TypedDict shapes (cerebrum.shapes.serializer_for)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, NotRequired, TypedDict

from rest_framework import serializers

from cerebrum.shapes import serializer_for


class Row(TypedDict):
    rank: int
    name: Annotated[str, "Shown on the board."]
    score: float | None
    outcome: Literal["correct", "wrong"]
    note: NotRequired[str]


class Board(TypedDict):
    rows: list[Row]
    best: Row | None
    tags: list[str]
    at: datetime
    extra: dict
    internal: str


def test_a_shape_becomes_a_serializer_with_its_keys_in_order():
    board = serializer_for(Board, exclude=("internal",), fields={"tags": serializers.ListField()})

    fields = board().fields

    assert board.__name__ == "BoardSerializer"
    assert list(fields) == ["rows", "best", "tags", "at", "extra"]
    row = fields["rows"].child
    assert list(row.fields) == ["rank", "name", "score", "outcome", "note"]
    assert (row.fields["name"].help_text, row.fields["score"].allow_null) == ("Shown on the board.", True)
    assert list(row.fields["outcome"].choices) == ["correct", "wrong"]
    assert row.fields["note"].required is False
    assert fields["best"].allow_null is True
    assert type(fields["best"]) is serializer_for(Row)  # one class per shape: one schema component


def test_the_derived_serializer_renders_the_selectors_dict():
    data = {
        "rows": [{"rank": 1, "name": "Asha", "score": None, "outcome": "correct"}],
        "best": None,
        "tags": ["a"],
        "at": datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
        "extra": {"k": 1},
        "internal": "not shown",
    }

    rendered = serializer_for(Board, exclude=("internal",))(data).data

    assert rendered["rows"] == [{"rank": 1, "name": "Asha", "score": None, "outcome": "correct"}]
    assert "internal" not in rendered
    assert rendered["at"].startswith("2026-11-29")
