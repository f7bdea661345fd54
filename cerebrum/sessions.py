"""The session engine: Django's cached_db, refusing malformed session keys before any lookup.

A cookie such as `sessionid=abc\x00…` would otherwise reach PostgreSQL, which rejects NUL bytes in
text, and turn every request carrying it into a 500. Django's own keys are lower-case alphanumerics.

A session missing from the cache is read from the primary: cached_db stores what it read, and a replica
that has not replayed a sign-out yet would put the ended session back in the cache for its lifetime
(cerebrum/db_router.py, cache fills).
"""

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBSessionStore

from cerebrum.db_router import primary_reads


class SessionStore(CachedDBSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(super()._validate_session_key(key)) and key.isascii() and key.isalnum()

    def _get_session_from_db(self):
        with primary_reads():
            return super()._get_session_from_db()
