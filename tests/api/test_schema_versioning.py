"""The API is versioned: an operation's request or response shape cannot change without the changelog.

docs/api/operations-v1.json holds one shape hash per operation (tests/api/schema_lock.py). A shape
that differs from it fails here until the lock is regenerated; regenerating marks the operation
`changed_in` the current API version, and that version's entry in docs/api.md's changelog must then
name the operation. docs/api/openapi-v1.yaml, the full schema for the mobile teams, must be current.
"""

from __future__ import annotations

import json
import re

from tests.api import schema_lock

REGENERATE = "record the change in docs/api.md's changelog, then run `python -m tests.api.schema_lock`"


def changelog_entries() -> dict[str, str]:
    """{version: the text of its entry} from docs/api.md's "## Changelog" section."""
    text = (schema_lock.ROOT / "docs" / "api.md").read_text()
    section = text.split("## Changelog", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### (\S+)", section, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_operation_has_the_shape_the_lock_records():
    lock = json.loads(schema_lock.LOCK.read_text())["operations"]
    current = schema_lock.operation_shapes(schema_lock.current_schema())
    recorded = {operation: entry["shape"] for operation, entry in lock.items() if "removed_in" not in entry}
    changed = sorted(op for op in current.keys() | recorded.keys() if current.get(op) != recorded.get(op))
    assert not changed, f"API shapes changed: {changed}; {REGENERATE}"


def test_every_change_since_the_baseline_is_in_the_changelog():
    lock = json.loads(schema_lock.LOCK.read_text())
    entries = changelog_entries()
    assert lock["version"] in entries, f"docs/api.md has no changelog entry for the API version {lock['version']}"
    for operation, entry in lock["operations"].items():
        version = entry.get("changed_in") or entry.get("removed_in")
        if version:
            assert f"`{operation}`" in entries.get(version, ""), f"{operation} changed in {version}; {REGENERATE}"


def test_the_published_schema_file_is_current():
    assert schema_lock.SNAPSHOT.read_text() == schema_lock.schema_yaml(schema_lock.current_schema()), REGENERATE


def test_a_changed_shape_is_marked_with_the_current_version():
    # given a lock taken before a response gained a field
    schema = schema_lock.current_schema()
    lock = schema_lock.updated_lock(schema, {})
    schema["info"]["version"] = "1.1.0"
    course = schema["components"]["schemas"]["CourseOutput"]
    course["properties"]["rating"] = {"type": "integer"}
    # when the lock is regenerated
    updated = schema_lock.updated_lock(schema, lock)["operations"]
    # then the operations answering with it, and only those, changed in 1.1.0
    changed = {op for op, entry in updated.items() if entry.get("changed_in") == "1.1.0"}
    assert "GET /api/v1/courses" in changed
    assert "GET /api/v1/me" not in changed
    assert "changed_in" not in updated["GET /api/v1/me"]
