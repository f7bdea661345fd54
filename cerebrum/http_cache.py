"""HTTP and Redis caching of anonymous pages and public API responses.

Only GET requests with neither a session cookie nor an Authorization header, for URL names listed in
PUBLIC_CACHE_PAGES, are cached: nothing a visitor receives can depend on who they are, so one
user's data is never served to another. Authenticated responses are marked `private, no-store`.

Freshness: every cached page carries the version of its content area (`pagever:<area>`, the URL
namespace without `_api`). Saving a cacheops-managed model of that app (Course, Question,
PracticeTest, ChapterNote) bumps the version after commit, through services, the admin or a task
alike (see cerebrum.cache.page_cache_bump), so the next request rebuilds: a price change shows at
once. The TTL bounds everything else.
Shared caches (nginx, CDN) are allowed PUBLIC_CACHE_S_MAXAGE seconds and browsers revalidate with
the ETag (304) every time, so they never hold a page longer than that.

One Redis round trip per request: MGET of the area version and the page (or GET of the version
when the page body is already in the in-process L1).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_urlconf, resolve
from django.utils.cache import get_conditional_response, patch_vary_headers

from cerebrum.cache import _MISSING, l1_get, l1_set, page_version_key
from cerebrum.metrics import record_cache

MAX_QUERY_STRING = 200
_MESSAGES_COOKIE = "messages"  # django.contrib.messages' cookie storage
# Headers that belong to one response, not to the cached page.
_UNREPLAYED = {"set-cookie", "date", "x-response-time", "x-sql-queries", "x-cache", "etag", "cache-control"}


class PublicPageCacheMiddleware:
    """Place after WhiteNoise and before the session middleware (a HIT skips everything below)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        url_name = _cacheable_url_name(request)
        if url_name is None:
            response = self.get_response(request)
            _mark_private_if_personal(request, response)
            return response
        seconds = settings.PUBLIC_CACHE_PAGES[url_name]
        area = url_name.split(":", 1)[0].removesuffix("_api")
        key = f"page:{request.get_host()}:{request.get_full_path()}"
        version, entry = _lookup(area, key)
        if entry is not None:
            record_cache(hit=True, cache="page")
            return _conditional(request, _replay(entry), "HIT", seconds)
        record_cache(hit=False, cache="page")
        response = self.get_response(request)
        if _storable(response):
            _store(key, response, version, seconds)
            return _conditional(request, response, "MISS", seconds)
        return response


def _cacheable_url_name(request: HttpRequest) -> str | None:
    if request.method != "GET" or settings.SESSION_COOKIE_NAME in request.COOKIES:
        return None
    if _MESSAGES_COOKIE in request.COOKIES:  # a flash message (e.g. "logged out") waits to be shown
        return None
    if "HTTP_AUTHORIZATION" in request.META:
        return None
    if any(name.startswith("utm_") for name in request.GET):  # a campaign landing: attribution must run
        return None
    if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING:  # junk query strings must not fill Redis
        return None
    url_name = _url_name_for_path(get_urlconf() or settings.ROOT_URLCONF, request.path_info)
    return url_name if url_name in settings.PUBLIC_CACHE_PAGES else None


@lru_cache(maxsize=4096)
def _url_name_for_path(urlconf: str, path: str) -> str | None:
    try:
        return resolve(path, urlconf).view_name
    except Resolver404:
        return None


def _lookup(area: str, key: str) -> tuple[int, dict | None]:
    entry = l1_get(key)
    if entry is not _MISSING:
        version = cache.get(page_version_key(area), 0)
    else:
        found = cache.get_many([page_version_key(area), key])
        version, entry = found.get(page_version_key(area), 0), found.get(key)
    if entry is None or entry["version"] != version:
        return version, None
    return version, entry


def _storable(response: HttpResponse) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    cache_control = response.get("Cache-Control", "")
    return not any(word in cache_control for word in ("private", "no-store", "no-cache"))


def _store(key: str, response: HttpResponse, version: int, seconds: int) -> None:
    body = response.content
    entry = {
        "version": version,
        "body": body,
        "etag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"',
        "headers": [(name, value) for name, value in response.items() if name.lower() not in _UNREPLAYED],
    }
    cache.set(key, entry, seconds)
    l1_set(key, entry, seconds)
    response["ETag"] = entry["etag"]


def _replay(entry: dict) -> HttpResponse:
    response = HttpResponse(entry["body"])
    for name, value in entry["headers"]:
        response[name] = value
    response["ETag"] = entry["etag"]
    return response


def _conditional(request: HttpRequest, response: HttpResponse, outcome: str, seconds: int) -> HttpResponse:
    response["X-Cache"] = outcome
    response["Cache-Control"] = f"public, max-age=0, s-maxage={min(seconds, settings.PUBLIC_CACHE_S_MAXAGE)}"
    patch_vary_headers(response, ("Cookie", "Accept-Encoding"))
    return get_conditional_response(request, etag=response["ETag"], response=response)


def _mark_private_if_personal(request: HttpRequest, response: HttpResponse) -> None:
    if _is_personal(request):
        response["Cache-Control"] = "private, no-store"


def _is_personal(request: HttpRequest) -> bool:
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META:
        return True
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated
