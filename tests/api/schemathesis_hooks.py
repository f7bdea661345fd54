"""Schemathesis hooks for tests/api/test_schemathesis.py: schema-valid cases use resources that exist.

Loaded by the `st` process (config `hooks`). A positive (schema-valid) case gets the ids and slugs of
the signed-in student's own resources, from the JSON in SCHEMATHESIS_LIVE_VALUES, so it reaches each
operation's main path instead of a 404. Negative (schema-violating) cases are left alone: they must be
refused, and a real id in their place would make them valid.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import schemathesis

VALUES = json.loads(os.environ.get("SCHEMATHESIS_LIVE_VALUES", "{}"))


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    values = VALUES.get("path", {}).get(case.operation.path, {})
    if case.path_parameters:
        case.path_parameters.update({name: value for name, value in values.items() if name in case.path_parameters})
    if case.query and "cursor" in case.query:
        case.query["cursor"] = VALUES["cursor"]
    body_values = VALUES.get("body", {}).get(f"{case.method.upper()} {case.operation.path}", {})
    if isinstance(case.body, dict):
        for name, value in body_values.items():
            if "[]." in name:  # "answers[].question_id": one of these values in each item of the list
                _fill_items(case.body, name, value)
            elif name in case.body and value is None:
                del case.body[name]  # no existing value to give (an optional field left out)
            elif name in case.body:
                case.body[name] = value


def _fill_items(body: dict, name: str, values: list | str) -> None:
    key, _, field = name.partition("[].")
    items = body.get(key)
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict) and field in item:
                item[field] = _now() if values == "$now" else values[index % len(values)]


def _now() -> str:
    return datetime.now(UTC).isoformat()
