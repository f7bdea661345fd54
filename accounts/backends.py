"""Log in with an email or a phone number (one account key, `accounts.identity`); find a session's user in Redis."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from accounts import caches
from accounts.identity import identity_normalize
from accounts.lockout import account_attempt_reserve, account_capped_mark
from accounts.models import User
from cerebrum.db_router import primary_reads


class EmailOrPhoneBackend(ModelBackend):
    """Web login, API token login and anything else calling `authenticate()` go through here."""

    def authenticate(self, request, username: str | None = None, password: str | None = None, **kwargs):
        if not username or not password:
            return None
        identity = identity_normalize(username)
        reservation = account_attempt_reserve(identity)
        if reservation is None:
            account_capped_mark(request, identity)
            raise PermissionDenied("This account had too many failed logins in the last hour.")
        user = User.objects.filter(Q(email=identity) | Q(phone=identity)).first()
        if user is None:
            User().set_password(password)  # same work either way: no user enumeration by timing
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            reservation.release()  # only failed checks count towards the account's hourly cap
            return user
        return None

    def get_user(self, user_id):
        """The session's user: one Redis round trip when cached, else the usual SELECT (then cached).

        Django still checks the session's password hash against this object on every request, so a
        password change (a save, which makes the cached copy stale: accounts.caches) logs the other
        sessions out as before.
        """
        user = user_cached_get(user_id)
        return user if self.user_can_authenticate(user) else None


def user_cached_get(user_id) -> User | None:
    """The user by id: one Redis round trip when cached (5 minutes, accounts.caches), else a SELECT (then cached).

    For the session's user and the JWT's (accounts.authentication); any save of the user makes it stale.
    """
    return caches.session_user_get_or_load(user_id, lambda: _user_from_primary(user_id))


def _user_from_primary(user_id) -> User | None:
    # From the primary: a replica behind a password change would cache the old hash and keep the other
    # sessions (and tokens) signed in (cerebrum/db_router.py, cache fills).
    with primary_reads():
        return User.objects.filter(pk=user_id).first()
