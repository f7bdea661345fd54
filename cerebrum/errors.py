"""One domain error type; the API and the pages map it to HTTP in one place each.

API: `cerebrum.api.exception_handler` (DRF's EXCEPTION_HANDLER) → `{"error": {"code", "message", "fields"}}`
with `status`. Pages: `cerebrum.middleware.DomainErrorMiddleware` → NotFound is the 404 page, any other
refusal its `status` with its message on templates/error.html. A view catches one only to show it on
a form (`accounts.forms.form_add_domain_error`) or as a flash message after a redirect.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the client can act on. `fields` maps field names to lists of messages."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unprocessable(DomainError):
    status = 422
    code = "unprocessable"
