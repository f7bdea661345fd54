"""Log in with an email or a phone number (one account key, `accounts.identity`); find a session's user in Redis."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.identity import identity_normalize
from accounts.lockout import account_attempt_reserve, account_capped_mark
from accounts.models import User
from cerebrum.db_router import primary_reads
from cerebrum.metrics import record_cache

# Every signed-in request needs its user; a users SELECT (and its ORM compilation) was ~15 % of a
# cached page's CPU. Redis only, no in-process copy: a deactivation or a password change must end
# the sessions on every app server at once, and deleting one Redis key does that.
SESSION_USER_CACHE_SECONDS = 5 * 60


def session_user_key(user_id) -> str:
    return f"accounts:session-user:v1:{user_id}"


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
        """The session's user: one Redis GET when cached, else the usual SELECT (then cached).

        Django still checks the session's password hash against this object on every request, so a
        password change (a save, which drops the key) logs the other sessions out as before.
        """
        user = user_cached_get(user_id)
        return user if self.user_can_authenticate(user) else None


def user_cached_get(user_id) -> User | None:
    """The user by id: one Redis GET when cached (5 minutes), else a SELECT (then cached); None if none.

    For the session's user and the JWT's (accounts.authentication); any save of the user drops the key.
    """
    key = session_user_key(user_id)
    user = cache.get(key)
    record_cache(hit=user is not None, cache="session-user")
    if user is None:
        # From the primary: a replica behind a password change would cache the old hash and keep
        # the other sessions (and tokens) signed in (cerebrum/db_router.py, cache fills).
        with primary_reads():
            user = User.objects.filter(pk=user_id).first()
        if user is not None:
            cache.set(key, user, SESSION_USER_CACHE_SECONDS)
    return user


@receiver(post_save, sender=User, dispatch_uid="accounts.session_user_forget_on_save")
@receiver(post_delete, sender=User, dispatch_uid="accounts.session_user_forget_on_delete")
def _session_user_forget(sender, instance: User, **kwargs) -> None:
    """Any save of a user (services, the admin, a password change) drops every cached copy of them.

    Dropped now and again after the commit: a request that read the old row before the commit must
    not leave it in Redis. QuerySet.update() sends no signal; only last_active_at is written that way.
    """
    from accounts.services import user_caches_invalidate  # services import this module's helpers

    cache.delete(session_user_key(instance.pk))
    user_id = instance.pk
    transaction.on_commit(lambda: user_caches_invalidate(user_id=user_id), robust=True)
