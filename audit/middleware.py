"""The acting user and URL on every audit row a request writes, paid for only by statements that write one."""

from __future__ import annotations

import functools
import re
import uuid

import orjson
import pghistory.trigger
import pgtrigger
import psycopg.pq
from django.db import connection
from pghistory import config


class AuditContextMiddleware:
    """Names the request's user and path on the audit rows its statements write (docs/audit.md).

    pghistory's own HistoryMiddleware prepends `SELECT set_config(...)` (and a JSON dump of the
    context) to every statement of every request, and reads `request.user` up front, which loads the
    session on every request, JWT ones included. Here the same two settings the pghistory triggers read
    are prepended only to a statement that inserts into, updates or deletes from an audited table
    (the tables of the `audit` app's event models), and the user is read at that moment: the session's
    user, or the JWT user DRF set on the request by then. A start, an answer or a page view writes no
    audited row and pays nothing. PostgreSQL only: SQLite, the embedded default, has no triggers.

    Limit: a write reaching an audited table only through another table's trigger would carry no
    context (there is none today; pghistory's triggers sit on the audited tables themselves).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if connection.vendor != "postgresql" or request.method not in config.middleware_methods():
            return self.get_response(request)
        with connection.execute_wrapper(_RequestAuditContext(request)):
            return self.get_response(request)


class _RequestAuditContext:
    """A connection execute wrapper: pghistory's context variables on the request's audited writes."""

    def __init__(self, request):
        self.request = request
        self.context_id = ""

    def __call__(self, execute, sql, params, many, context):
        if not (isinstance(sql, str) and audited_write(sql)) or not _can_prepend(context["cursor"]):
            return execute(sql, params, many, context)
        self.context_id = self.context_id or str(uuid.uuid4())  # one context row per request
        values = (self.context_id, orjson.dumps({"user": self._user_id(), "url": self.request.path}).decode())
        if isinstance(params, dict):
            placeholders = ("%(pghistory__context_id)s", "%(pghistory__context_metadata)s")
            named = dict(zip(("pghistory__context_id", "pghistory__context_metadata"), values, strict=True))
            params = [{**item, **named} for item in params] if many else {**params, **named}
        else:
            placeholders = ("%s", "%s")
            params = [(*values, *item) for item in params] if many else (*values, *(params or ()))
        prefix = f"SELECT set_config('pghistory.context_id', {placeholders[0]}, true), "
        prefix += f"set_config('pghistory.context_metadata', {placeholders[1]}, true); "
        result = execute(prefix + sql, params, many, context)
        while result is not None and result.nextset():  # the statement's own result comes after set_config's
            pass
        return result

    def _user_id(self) -> int | None:
        user = getattr(self.request, "user", None)
        return user.pk if user is not None and user.is_authenticated else None


def audited_write(sql: str) -> bool:
    """True if `sql` inserts into, updates or deletes from a table the audit triggers watch."""
    return _audited_write_pattern().search(sql) is not None


@functools.cache
def _audited_write_pattern() -> re.Pattern:
    """Built from pghistory's registered triggers: each table with the operations it records (INSERT,
    UPDATE, DELETE), so an attempt's INSERT at start (its trigger is update-only) does not match."""
    verbs = {"INSERT": r"INSERT\s+INTO", "UPDATE": "UPDATE", "DELETE": r"DELETE\s+FROM"}
    alternatives = sorted(
        rf'{verbs[operation]}\s+"?{re.escape(model._meta.db_table)}"?(?!\w)'
        for model, trigger in pgtrigger.registered()
        if isinstance(trigger, pghistory.trigger.Event)
        for operation in str(trigger.operation).split(" OR ")
    )
    # `FOR UPDATE OF "test_attempts"` names the table after OF, so a locking read does not match.
    return re.compile(rf"\b(?:{'|'.join(alternatives)})", re.IGNORECASE)


def _can_prepend(cursor) -> bool:
    # A named (server-side) cursor cannot take a second statement, and an aborted transaction runs none.
    return not getattr(cursor, "name", None) and (
        cursor.connection.info.transaction_status != psycopg.pq.TransactionStatus.INERROR
    )
