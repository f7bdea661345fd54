"""The committed API contract: docs/api/openapi-v1.yaml and one shape hash per operation (docs/api/operations-v1.json).

A shape is what a generated client depends on: the operation id, parameters, request body and every
response with its schema, `$ref`s resolved, descriptions and examples left out. When a shape changes,
`write` marks the operation `changed_in` the current API version (SPECTACULAR_SETTINGS["VERSION"]),
and tests/api/test_schema_versioning.py then wants that version's changelog entry in docs/api.md to
name the operation. Regenerate after recording the change in the changelog:

    DJANGO_SETTINGS_MODULE=cerebrum.settings.test DATABASE_URL=... REDIS_URL=... \\
        .venv/bin/python -m tests.api.schema_lock
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "docs" / "api" / "openapi-v1.yaml"
LOCK = ROOT / "docs" / "api" / "operations-v1.json"
PROSE = {"description", "summary", "title", "example", "examples", "externalDocs", "tags"}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def current_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def schema_yaml(schema: dict) -> str:
    from drf_spectacular.renderers import OpenApiYamlRenderer

    return OpenApiYamlRenderer().render(schema, renderer_context={}).decode()


def operation_shapes(schema: dict) -> dict[str, str]:
    """{"METHOD /path": sha256 of the operation's shape} for every operation."""
    components = schema.get("components", {})
    shapes = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            shape = _resolve(operation, components, frozenset())
            shape.pop("security", None)
            canonical = json.dumps(shape, sort_keys=True, separators=(",", ":"), default=str)
            shapes[f"{method.upper()} {path}"] = hashlib.sha256(canonical.encode()).hexdigest()
    return dict(sorted(shapes.items()))


def _resolve(node, components: dict, seen: frozenset):
    if isinstance(node, list):
        return [_resolve(item, components, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            return {"$ref": ref}  # a recursive structure: its name stands for it
        _, _, kind, name = ref.split("/")
        return _resolve(components[kind][name], components, seen | {ref})
    return {key: _resolve(value, components, seen) for key, value in node.items() if key not in PROSE}


def updated_lock(schema: dict, lock: dict) -> dict:
    """The lock for `schema`: unchanged operations keep their entry, changed or new ones are `changed_in` now."""
    version = schema["info"]["version"]
    operations = {}
    for operation, shape in operation_shapes(schema).items():
        previous = lock.get("operations", {}).get(operation)
        if previous is not None and previous["shape"] == shape:
            operations[operation] = previous
        elif not lock:
            operations[operation] = {"shape": shape}  # the baseline: the schema as first published
        else:
            operations[operation] = {"shape": shape, "changed_in": version}
    for operation, previous in lock.get("operations", {}).items():
        if operation not in operations:
            operations[operation] = previous if "removed_in" in previous else {"removed_in": version}
    return {"version": version, "operations": dict(sorted(operations.items()))}


def write() -> None:
    schema = current_schema()
    lock = json.loads(LOCK.read_text()) if LOCK.exists() else {}
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(schema_yaml(schema))
    LOCK.write_text(json.dumps(updated_lock(schema, lock), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    import django

    django.setup()
    write()
