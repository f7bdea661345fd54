"""Login lockout: whom django-axes counts, the per-account cap, and what a locked-out client sees.

Two limits (issue 14 item 4), both keyed by the account key of `accounts.identity.identity_normalize`:

- django-axes locks one (account, client address) pair after AXES_FAILURE_LIMIT (5) failures for
  AXES_COOLOFF_TIME (15 minutes): AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]. Other
  people's failures, from another address or for another account, never lock a learner out; the
  client address comes from `cerebrum.client_ip` (TRUSTED_PROXY_COUNT), never nginx's own address.
- One account gets at most ACCOUNT_FAILURE_CAP (100) failed password checks per rolling hour,
  whatever the addresses (OWASP ASVS 4.0 V2.2.1, "no more than 100 failed attempts per hour").
  Each check reserves a slot before the password is compared (`account_attempt_reserve`), so even
  a burst of simultaneous attempts cannot pass the cap; a correct password gives its slot back.
  The count lives in the default cache as one counter per minute (60 buckets: a rolling hour to
  the minute); setting a new password clears it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse

from accounts import caches
from accounts.identity import identity_normalize

ACCOUNT_FAILURE_CAP = 100  # OWASP ASVS 4.0.3 V2.2.1
ACCOUNT_WINDOW_SECONDS = 60 * 60
BUCKET_SECONDS = 60
BUCKETS = ACCOUNT_WINDOW_SECONDS // BUCKET_SECONDS
ACCOUNT_CAPPED_ATTR = "account_login_capped"


def axes_username(request: HttpRequest, credentials: dict | None) -> str:
    """AXES_USERNAME_CALLABLE: the account key, so "Asha@X.com" and "asha@x.com" share one counter."""
    field = settings.AXES_USERNAME_FORM_FIELD
    typed = (credentials or {}).get(field)
    if typed is None:
        typed = getattr(request, "POST", {}).get(field, "")
    return identity_normalize(str(typed or ""))


@dataclass(frozen=True)
class Reservation:
    """One reserved password check of an account; `release` it when the password was right."""

    key: str | None

    def release(self) -> None:
        if self.key is not None:
            caches.counter_give_back(self.key)


def account_attempt_reserve(identity: str) -> Reservation | None:
    """Count one password check of `identity`; None (refuse) when the last hour already had the cap.

    The slot is taken first and the hour summed after, so concurrent attempts see each other:
    at worst a few are refused early, never one too many let through.
    """
    buckets = _bucket_keys(identity)
    current = buckets[0]
    if caches.counter_add(current, ACCOUNT_WINDOW_SECONDS + BUCKET_SECONDS) is None:
        return Reservation(key=None)  # the cache lost the key (Redis down or evicted): fail open, axes still counts
    if caches.counters_sum(buckets) > ACCOUNT_FAILURE_CAP:
        caches.counter_give_back(current)
        return None
    return Reservation(key=current)


def account_failures_recent(identity: str) -> int:
    """Failed password checks of `identity` in the last hour (for support, tests and the message)."""
    return caches.counters_sum(_bucket_keys(identity))


def account_failures_clear(identity: str) -> None:
    """Forget the hour's failures, e.g. after the learner proved themselves by setting a new password."""
    caches.counters_clear(_bucket_keys(identity))


def account_capped_mark(request: HttpRequest | None, username: str | None) -> None:
    """Make the response a lockout (AxesMiddleware → `lockout_response`) explaining the cap."""
    if request is None:
        return
    setattr(request, ACCOUNT_CAPPED_ATTR, True)
    request.axes_locked_out = True
    request.axes_credentials = {settings.AXES_USERNAME_FORM_FIELD: username}


def lockout_response(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """429 with Retry-After, as JSON for the API and as a page otherwise; says what happened and what to do."""
    reset_url = reverse("accounts:password_reset")
    if getattr(request, ACCOUNT_CAPPED_ATTR, False):
        minutes = ACCOUNT_WINDOW_SECONDS // 60
        message = (
            f"This account had {ACCOUNT_FAILURE_CAP} wrong passwords in the last hour, so it is paused for "
            f"everyone for up to {minutes} minutes. If that was not you, reset your password: "
            "a new password unlocks it at once."
        )
        code, retry_after = "account_locked", ACCOUNT_WINDOW_SECONDS
    else:
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        message = (
            f"{settings.AXES_FAILURE_LIMIT} wrong passwords for this account from this device or network. "
            f"Try again in {minutes} minutes, or reset your password now."
        )
        code, retry_after = "locked_out", int(settings.AXES_COOLOFF_TIME.total_seconds())
    if request.path.startswith("/api/"):
        body = {"error": {"code": code, "message": f"{message} Reset it at {reset_url}", "fields": {}}}
        response = JsonResponse(body, status=429)
    else:
        context = {"message": message, "password_reset_url": reset_url}
        response = HttpResponse(render_to_string("accounts/locked_out.html", context, request), status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _bucket_keys(identity: str) -> list[str]:
    return caches.login_failure_bucket_keys(identity, BUCKET_SECONDS, BUCKETS)
