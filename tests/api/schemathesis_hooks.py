"""Schemathesis hooks for tests/api/test_schemathesis.py: schema-valid cases use resources that exist.

Loaded by the `st` process (config `hooks`). A positive (schema-valid) case gets the ids and slugs of
the signed-in student's own resources, from the JSON in SCHEMATHESIS_LIVE_VALUES, so it reaches each
operation's main path instead of a 404. Negative (schema-violating) cases are left alone: they must be
refused, and a real id in their place would make them valid.
"""

from __future__ import annotations

import json
import os

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
        case.body.update({name: value for name, value in body_values.items() if name in case.body})
