"""The acting user for audit rows written outside a request (tasks, commands, shells).

In the platform package so any app may name who acts (the `audit` app, which defines the trail,
sits above every app and is imported by none); docs/audit.md."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pghistory
from django.db import connection


@contextlib.contextmanager
def acting(*, user_id: int | None, **metadata) -> Iterator[None]:
    """Name who acts for the audit rows written inside the block, e.g. a management command run by
    staff: `with acting(user_id=staff.id, command="rescore"): ...`. A no-op on SQLite (no triggers)."""
    if connection.vendor != "postgresql":
        yield
        return
    with pghistory.context(user=user_id, **metadata):
        yield
