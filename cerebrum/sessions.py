"""The session engine: Django's cached_db, refusing malformed session keys before any lookup.

A cookie such as `sessionid=abc\x00…` would otherwise reach PostgreSQL, which rejects NUL bytes in
text, and turn every request carrying it into a 500. Django's own keys are lower-case alphanumerics.
"""

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBSessionStore


class SessionStore(CachedDBSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(super()._validate_session_key(key)) and key.isascii() and key.isalnum()
