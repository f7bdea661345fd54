"""Exact purges of nginx's page cache (deploy/nginx.conf.template): an edit shows on the next request
through nginx, not after the copy's s-maxage.

nginx keys a shared page by its raw URI, the `django_language` cookie and the page variant (`anon`, or the
`cerebrum_view` cookie of a session: cerebrum.http_cache). Django cannot list nginx's cache, so every
response it lets nginx store records those three ingredients here (`edge_key_record`), in one Redis sorted
set scored by when nginx's copy expires. `edge_purge` (run by cerebrum.cache.page_cache_bump after a content
write commits) replaces each copy that may still be live, on every nginx in settings.EDGE_PURGE_URLS, before
the editing request returns: a GET of that key with `X-Edge-Refresh: 1`, which nginx (from an allowed
address only) sends past its cache to Django, and stores Django's answer to it (`edge_refresh_answer`), an
empty copy already expired, so the next request for the key reaches Django. Stock nginx does this; the
Debian ngx_cache_purge module (libnginx-mod-http-cache-purge 2.3-4) crashes nginx 1.22.1-9+deb12u11's
worker on every PURGE (SIGSEGV in ngx_http_file_cache_create_key), so it is not used.

The set holds at most EDGE_KEYS_MAX members (the soonest to expire go first); a purge takes the whole set
(a second edit right after refreshes nothing twice); an edit waits at most PURGE_SECONDS_PER_NGINX for each nginx. nginx copies beyond the set, or
left by a purge that ran out of time or failed (logged, never raised), are still bounded by their s-maxage
(settings.PUBLIC_CACHE_S_MAXAGE).
"""

from __future__ import annotations

import logging
import time

import requests
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

VARIANT_COOKIE = "cerebrum_view"  # the page variant of a session (cerebrum.http_cache)
EDGE_KEYS = "edge-keys"  # the platform's key (docs/caching.md), registered in cerebrum.cache.KEYS
EDGE_KEYS_MAX = 5000
REFRESH_TIMEOUT_SECONDS = 2
# The most one edit waits for one nginx's refreshes: the set may hold EDGE_KEYS_MAX copies (a page's copies are
# bounded: only the query parameters it reads, with valid values, make one; cerebrum.http_cache), about 0.6 ms each on loopback and up to REFRESH_TIMEOUT_SECONDS each from a slow
# nginx; the copies left then live their s-maxage.
PURGE_SECONDS_PER_NGINX = 3
_SEPARATOR = "\x1f"  # in none of a raw URI, a cookie value or a variant name


def edge_key_record(*, uri: str, language: str, variant: str, seconds: int) -> None:
    """Note that nginx may keep the copy of (raw URI, language cookie's raw value, variant) for `seconds`."""
    client = _redis()
    if client is None:
        return
    key = cache.make_key(EDGE_KEYS)
    try:
        pipe = client.pipeline(transaction=False)
        pipe.zadd(key, {_SEPARATOR.join((uri, language, variant)): time.time() + seconds})
        pipe.zremrangebyrank(key, 0, -EDGE_KEYS_MAX - 1)
        pipe.execute()
    except RedisError:
        logger.warning("edge key not recorded; nginx's copy of %s lives its s-maxage", uri, exc_info=True)


def edge_refresh_answer() -> HttpResponse:
    """Django's answer to nginx's refresh of a copy: nothing, expired since 1970 (nginx stores it in place
    of the copy; settings.EDGE_PURGE_URLS' nginx pass `X-Edge-Refresh: 1` only from allowed addresses)."""
    response = HttpResponse(b"", content_type="text/html; charset=utf-8")
    response["X-Accel-Expires"] = "@1"
    return response


def edge_purge() -> None:
    """Expire every recorded copy still live on every nginx of settings.EDGE_PURGE_URLS (empty: nothing to do)."""
    urls = settings.EDGE_PURGE_URLS
    client = _redis() if urls else None
    if client is None:
        return
    key, now = cache.make_key(EDGE_KEYS), time.time()
    try:
        # Taken, not only read: every save of a content row bumps the pages after its commit (an admin save
        # with 180 inline questions, hundreds), and each bump refreshed every copy again. A copy stored after
        # this is recorded anew; one whose refresh fails lives its s-maxage.
        pipe = client.pipeline(transaction=True)
        pipe.zrangebyscore(key, now, "+inf")
        pipe.delete(key)
        members = pipe.execute()[0]
    except RedisError:
        logger.warning("edge keys unreadable: nginx's copies live their s-maxage", exc_info=True)
        return
    copies = [member.decode().split(_SEPARATOR) for member in members]
    with requests.Session() as http:
        for base in urls:
            _purge_on(http, base.rstrip("/"), copies)


def _purge_on(http: requests.Session, base: str, copies: list[list[str]]) -> None:
    deadline = time.monotonic() + PURGE_SECONDS_PER_NGINX
    for done, (uri, language, variant) in enumerate(copies):
        left = deadline - time.monotonic()
        if left <= 0:
            logger.warning(
                "refresh on %s stopped: %d of %d copies live their s-maxage", base, len(copies) - done, len(copies)
            )
            return
        headers = {"X-Edge-Refresh": "1", **_key_cookies(language, variant)}
        try:
            http.get(f"{base}{uri}", headers=headers, allow_redirects=False, timeout=min(REFRESH_TIMEOUT_SECONDS, left))
        except requests.RequestException:
            logger.warning("refresh on %s failed: its copies live their s-maxage", base, exc_info=True)
            return  # that nginx is unreachable: the others still get theirs


def _key_cookies(language: str, variant: str) -> dict:
    """The cookies nginx builds the copy's key from, and those it wants before it stores a session's copy
    (their values are not in the key)."""
    cookies = [f"{settings.LANGUAGE_COOKIE_NAME}={language}"] if language else []
    if variant != "anon":
        cookies += [f"{settings.SESSION_COOKIE_NAME}=edge-refresh", f"{VARIANT_COOKIE}={variant}"]
        cookies += [f"{settings.CSRF_COOKIE_NAME}={'0' * 32}"]
    return {"Cookie": "; ".join(cookies)} if cookies else {}


def _redis():
    """The raw Redis connection behind the default cache, or None in the embedded default (locmem)."""
    try:
        from django_redis import get_redis_connection

        return get_redis_connection("default")
    except (ImportError, NotImplementedError):
        return None
