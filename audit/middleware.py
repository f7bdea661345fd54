"""The acting user and URL on every audit row a request writes."""

from __future__ import annotations

from django.db import connection
from pghistory.middleware import HistoryMiddleware


class AuditContextMiddleware(HistoryMiddleware):
    """pghistory's middleware (user id and path in `pghistory.Context`, for POST/PUT/PATCH/DELETE), on
    PostgreSQL only: its context is a `set_config()` prepended to each write statement, which SQLite,
    the embedded default, cannot run (and where no trigger would read it)."""

    def __call__(self, request):
        if connection.vendor != "postgresql":
            return self.get_response(request)
        return super().__call__(request)
