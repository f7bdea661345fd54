"""Signed one-click unsubscribe links (RFC 8058) for marketing mail: no sign-in needed, nothing to guess.

The token is `django.core.signing` over {"u": <user id>} (or {"a": <address>} for mail to someone
without an account) and the channel, salted for this use only. It never expires: a link in an old
mail must still work, and unsubscribing twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "communications.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeTarget:
    channel: str
    user_id: int | None = None
    address: str = ""


def unsubscribe_token(*, channel: str, user_id: int | None, address: str = "") -> str:
    payload = {"c": channel, "u": user_id} if user_id else {"c": channel, "a": address}
    return signing.dumps(payload, salt=SALT, compress=True)


def unsubscribe_target(token: str) -> UnsubscribeTarget | None:
    """The target a token names, or None when it is forged, altered or malformed."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), str):
        return None
    user_id = payload.get("u")
    if user_id is not None and not isinstance(user_id, int):
        return None
    return UnsubscribeTarget(channel=payload["c"], user_id=user_id, address=str(payload.get("a") or ""))


def unsubscribe_url(token: str) -> str:
    """Absolute https (SITE_URL) link: GET shows a confirmation page, POST unsubscribes."""
    return settings.SITE_URL.rstrip("/") + reverse("communications:unsubscribe", args=[token])


def list_unsubscribe_headers(token: str) -> dict[str, str]:
    """The headers Gmail and Yahoo require of bulk mail: List-Unsubscribe (+ mailto when configured)
    and List-Unsubscribe-Post for one-click (RFC 8058)."""
    targets = [f"<{unsubscribe_url(token)}>"]
    if settings.COMMUNICATIONS_UNSUBSCRIBE_MAILTO:
        targets.append(f"<mailto:{settings.COMMUNICATIONS_UNSUBSCRIBE_MAILTO}?subject=unsubscribe>")
    return {"List-Unsubscribe": ", ".join(targets), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
