"""The acting user for audit rows written outside a request (tasks, commands, shells)."""

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
