"""HTTP and Redis caching of the shared pages (the same for everyone of a page variant) and public API responses.

Anonymous (PublicPageCacheMiddleware): GET requests with neither a session cookie nor an Authorization
header, for URL names listed in PUBLIC_CACHE_PAGES: nothing a visitor receives can depend on who they are,
so one user's data is never served to another.

Signed-in learners (MemberPageCacheMiddleware, after the auth and message middleware): pages in
MEMBER_CACHE_PAGES render the same for every session of one page variant (`page_variant`: "student",
"parent", whose nav has "My children", or "guest", a free-test taker). Nothing personal is in them: the
CSRF token of the page's forms is put in per request, and what differs by learner (enrolled courses, a
running attempt, my rank) comes from personal JSON the page fetches (static/js/page_state.js). So one copy
per variant serves them all, here and in nginx: a response that came through nginx's shared-page location
(X-Edge-Key: the key nginx stores it under) and whose key holds the session's real variant and language
is marked `public, max-age=0, s-maxage=N`, carries nginx's SSI directive in place of the token (nginx puts
each requester's own CSRF cookie in on the way out) and sets no cookie; anything else signed-in is
`private, no-store`. The non-secret variant cookie (`cerebrum_view`) is set, changed or deleted on any page
whose session it does not match, so a forged one only changes what its holder sees. A pending flash
message, a campaign link or an Authorization header always goes to the view. Pages of one learner (the
dashboard) are never kept here: they render from their app's cached data. docs/caching.md, "nginx's page
cache", has the whole edge.

Freshness: every cached page carries the version of its content area (`pagever:<area>`, the URL
namespace without `_api`). The owning app bumps it after a content write commits, through services,
the admin or a task alike (cerebrum.cache.page_cache_bump, called by courses.caches), so the next
request rebuilds: a price change shows at once; the same bump expires nginx's copies (cerebrum.edge).
The TTL bounds everything else. Shared caches (nginx, CDN) are allowed PUBLIC_CACHE_S_MAXAGE seconds and
browsers revalidate with the ETag (304) every time, so they never hold a page longer than that.

One Redis round trip per request: MGET of the area version and the page (or GET of the version
when the page body is already in the in-process L1); one more (the edge key) when nginx will keep it.

Every key carries the interface language (the `django_language` cookie only: cerebrum.i18n), and
responses Vary on Cookie, so an English and a Hindi copy of a page never stand in for each other.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import TypedDict
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import Resolver404, get_urlconf, resolve
from django.utils.cache import get_conditional_response, patch_vary_headers

from cerebrum.cache import _MISSING, MEMBER_PAGE, PUBLIC_PAGE, l1_get, l1_set, page_version_key, shaped
from cerebrum.db_router import primary_reads
from cerebrum.edge import VARIANT_COOKIE, edge_key_record, edge_refresh_answer
from cerebrum.i18n import request_language
from cerebrum.metrics import record_cache

MAX_QUERY_STRING = 200
_MESSAGES_COOKIE = "messages"  # django.contrib.messages' cookie storage
# Headers that belong to one response, not to the cached page.
_UNREPLAYED = {"set-cookie", "date", "x-response-time", "x-sql-queries", "x-cache", "etag", "cache-control"}
# A member page is stored with this in place of its CSRF token, and served with the request's own.
_CSRF_FIELD = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_CSRF_MARK = b"__cerebrum_csrf_token__"
# What a page nginx shares has in place of the token: nginx's SSI writes the requester's own csrftoken cookie
# (entity-encoded) there on the way out; Django accepts the cookie's unmasked 32-character secret as the token.
_EDGE_CSRF_SSI = b'<!--# echo var="cookie_csrftoken" encoding="entity" default="" -->'


class PageEntry(TypedDict):
    """A cached page: its keys carry this shape's digest (cerebrum.cache.shaped), so a release that
    changes it never replays the previous release's entries (a missing field was a 500 on every page)."""

    version: list  # the content areas' versions it was rendered under
    body: bytes
    csrf: bool  # the body holds _CSRF_MARK in place of the CSRF token
    etag: str
    headers: list[tuple[str, str]]


PUBLIC_PAGE_SHAPED = shaped(PUBLIC_PAGE, PageEntry)
MEMBER_PAGE_SHAPED = shaped(MEMBER_PAGE, PageEntry)


class PublicPageCacheMiddleware:
    """Place after WhiteNoise and before the session middleware (a HIT skips everything below)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.headers.get("X-Edge-Refresh") == "1":  # nginx replacing a copy after an edit (cerebrum.edge)
            return edge_refresh_answer()
        url_name = _cacheable_url_name(request)
        if url_name is None:
            response = self.get_response(request)
            _mark_private_if_personal(request, response)
            return response
        seconds = settings.PUBLIC_CACHE_PAGES[url_name]
        key = f"{PUBLIC_PAGE_SHAPED}:{request.get_host()}:{request.get_full_path()}:{request_language(request)}"
        version, entry = _lookup([page_version_key(_area(url_name))], key, in_process=True)
        if entry is not None:
            record_cache(hit=True, cache="page")
            response = _replay(entry)
            response["ETag"] = entry["etag"]
            return _conditional(request, response, "HIT", seconds)
        record_cache(hit=False, cache="page")
        with primary_reads():  # the page is kept under the current version: rendered from current rows
            response = self.get_response(request)
        if _storable(response):
            entry = _store(key, response, version, seconds, in_process=True)
            response["ETag"] = entry["etag"]
            return _conditional(request, response, "MISS", seconds)
        return response


class MemberPageCacheMiddleware:
    """Place after AuthenticationMiddleware and MessageMiddleware (a HIT skips the view and its template)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rule = _member_rule(request)
        response = self.get_response(request) if rule is None else self._page(request, *rule)
        _variant_cookie_correct(request, response)
        return response

    def _page(self, request: HttpRequest, key: str, version_keys: list[str], seconds: int) -> HttpResponse:
        shared = _edge_shareable(request)
        token = _EDGE_CSRF_SSI if shared else None
        version, entry = _lookup(version_keys, key, in_process=True)
        if entry is not None:
            record_cache(hit=True, cache="page")
            response = _replay(entry, csrf_token=token or (get_token(request) if entry["csrf"] else None))
            response["X-Cache"] = "HIT"
        else:
            record_cache(hit=False, cache="page")
            with primary_reads():  # as above
                response = self.get_response(request)
            if not _storable(response):
                return response
            entry = _store(key, response, version, seconds, in_process=True, csrf=True)
            if shared:
                response.content = entry["body"].replace(_CSRF_MARK, token)
            response["X-Cache"] = "MISS"
        if shared:
            _edge_share(request, response, seconds)
        return response


def page_variant(request: HttpRequest) -> str | None:
    """The variant of the shared pages this request's session sees (what they differ by): "parent" (the nav
    has "My children"), "student" (any other signed-in user: staff see the same pages), "guest" (a free-test
    taker, whose session holds no login: the test page's start form), or None (no session, or one holding
    neither: the anonymous pages)."""
    user = request.user
    if user.is_authenticated:
        return "parent" if user.is_parent else "student"
    return "guest" if request.session.get("free_user_id") else None


def _variant_cookie_correct(request: HttpRequest, response: HttpResponse) -> None:
    """Set, change (login, role change) or delete (logout) the variant cookie when it is not the session's."""
    held, variant = request.COOKIES.get(VARIANT_COOKIE), page_variant(request)
    if held == variant:
        return
    if variant is None:
        response.delete_cookie(VARIANT_COOKIE, samesite="Lax")
        return
    response.set_cookie(
        VARIANT_COOKIE,
        variant,
        max_age=settings.SESSION_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _edge_shareable(request: HttpRequest) -> bool:
    """This member page may go to nginx's shared copy of its variant: it came through nginx's shared-page
    location (which puts the requester's own CSRF cookie in with SSI), nginx keys it by the session's real
    variant and the language Django renders (a forged cookie makes the answer private), and the request holds
    a valid CSRF cookie for the forms."""
    return (
        _edge_key_matches(request, page_variant(request), required=True)
        and "CSRF_COOKIE" in request.META
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # a new or re-made cookie: this answer sets it
    )


def _edge_key(request: HttpRequest) -> list[str] | None:
    """[raw URI, language cookie, variant]: the key nginx keeps this response under (X-Edge-Key, sent only by
    nginx's shared-page location), or None."""
    header = request.headers.get("X-Edge-Key")
    parts = header.rsplit("|", 2) if header else []
    return parts if len(parts) == 3 else None


def _edge_key_matches(request: HttpRequest, variant: str | None, *, required: bool) -> bool:
    """nginx's key holds the cookie values this response was rendered from. A cookie sent twice is the first
    to nginx and the last to Django: without this, one request could store a page under another's key. And
    its raw URI is the one Django's key is made from: `/c%6Furses/` or `/courses/?` (decoded or dropped by
    the time Django reads them) would each be one more copy in nginx and one more edge key."""
    key = _edge_key(request)
    if key is None:
        return not required
    return key == [request.get_full_path(), request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""), variant]


def _edge_share(request: HttpRequest, response: HttpResponse, seconds: int) -> None:
    # The page carries no token, so the CSRF middleware need not renew the cookie (a Set-Cookie would keep
    # nginx from storing the page); PublicPageCacheMiddleware keeps this Cache-Control unless a cookie is set.
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
    s_maxage = min(seconds, settings.PUBLIC_CACHE_S_MAXAGE)
    response["Cache-Control"] = f"public, max-age=0, s-maxage={s_maxage}"
    response.edge_shared = True
    _edge_record(request, s_maxage)


def _edge_record(request: HttpRequest, s_maxage: int) -> None:
    key = _edge_key(request)
    if key is not None:  # through nginx: it may keep this copy, so a content edit must purge it (cerebrum.edge)
        uri, language, variant = key
        edge_key_record(uri=uri, language=language, variant=variant, seconds=s_maxage)


def _cacheable_url_name(request: HttpRequest) -> str | None:
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return None
    if _MESSAGES_COOKIE in request.COOKIES:  # a flash message (e.g. "logged out") waits to be shown
        return None
    return _cacheable_get(request, settings.PUBLIC_CACHE_PAGES)


def _member_rule(request: HttpRequest) -> tuple[str, list[str], int] | None:
    """(cache key, version keys, seconds) or None: not cacheable."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:  # no session: the public page cache's request
        return None
    url_name = _cacheable_get(request, settings.MEMBER_CACHE_PAGES)
    if url_name is None:
        return None
    if len(get_messages(request)):  # len() does not mark the messages as shown
        return None
    # The variant decides the nav (a parent sees "My children"); what is personal comes from the page-state
    # JSON. A session that no longer holds anything (expired) is an anonymous visit: not cached here.
    variant = page_variant(request)
    if variant is None:
        return None
    path = f"{request.get_host()}:{request.get_full_path()}:{request_language(request)}"
    return (
        f"{MEMBER_PAGE_SHAPED}:{path}:{variant}",
        [page_version_key(_area(url_name))],
        settings.MEMBER_CACHE_PAGES[url_name],
    )


def _cacheable_get(request: HttpRequest, *pages: dict[str, int]) -> str | None:
    """The URL name when this is a plain GET of a page listed in one of `pages`, else None."""
    if request.method != "GET" or "HTTP_AUTHORIZATION" in request.META:
        return None
    if any(name.startswith("utm_") for name in request.GET):  # a campaign landing: attribution must run
        return None
    if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING:  # junk query strings must not fill Redis
        return None
    url_name, view_class = _view_for_path(get_urlconf() or settings.ROOT_URLCONF, request.path_info)
    if not any(url_name in listed for listed in pages):
        return None
    return url_name if _query_shareable(view_class, request.GET, request.META.get("QUERY_STRING", "")) else None


def _query_shareable(view_class, query, query_string: str) -> bool:
    """Only the query parameters a page reads, each once and valid, make a copy of it: the page's view names
    them in `shared_query_form` (a form class, or an API's filter serializer; none: the page reads no query). Anything else (a tracking id,
    junk, a value the form rejects) is answered by the view uncached, so nobody can fill Redis, nginx's
    cache or the edge-keys set (cerebrum.edge, 5,000 at most) with copies of one page: each valid
    combination of values is one copy. The copies are keyed by the raw query string (nginx's $request_uri),
    so it must also be spelled as urlencode() spells the cleaned values (in any order: an app's client may
    put them in another): `?type=online&`, `?%74ype=online` or `?page=01` would each be one more copy."""
    if not query:
        return query_string == ""
    checker = getattr(view_class, "shared_query_form", None)
    if checker is None or not all(len(query.getlist(name)) == 1 for name in query):
        return False
    cleaned = _query_cleaned(checker, query)
    if cleaned is None:
        return False
    spelled = [urlencode({name: _query_value(cleaned[name])}) for name in query]
    return sorted(query_string.split("&")) == sorted(spelled)


def _query_cleaned(checker, query) -> dict | None:
    """`query`'s cleaned values by a page's Django form or an API's DRF filter serializer (the one the view
    itself reads its query with); None when it holds another parameter or a refused value."""
    if hasattr(checker, "base_fields"):  # a Django form class
        checked, fields = checker(query), checker.base_fields
        return checked.cleaned_data if set(query) <= set(fields) and checked.is_valid() else None
    checked = checker(data=query)  # a DRF serializer class
    return checked.validated_data if set(query) <= set(checked.fields) and checked.is_valid() else None


def _query_value(value) -> str:
    return "" if value is None else str(value)


def _area(url_name: str) -> str:
    """The content area whose version a page carries: the URL namespace, without `_api`."""
    return url_name.split(":", 1)[0].removesuffix("_api")


@lru_cache(maxsize=4096)
def _view_for_path(urlconf: str, path: str) -> tuple[str | None, type | None]:
    """(URL name, class-based view class or None) of a path."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None, None
    return match.view_name, getattr(match.func, "view_class", None)


def _lookup(version_keys: list[str], key: str, *, in_process: bool) -> tuple[list, PageEntry | None]:
    """(current versions, the entry when it is there and still current): one Redis round trip."""
    entry = l1_get(key) if in_process else _MISSING
    if entry is not _MISSING:
        found = cache.get_many(version_keys)
    else:
        found = cache.get_many([*version_keys, key])
        entry = found.get(key)
    version = [found.get(name, 0) for name in version_keys]
    if entry is None or entry["version"] != version:
        return version, None
    return version, entry


def _storable(response: HttpResponse) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    cache_control = response.get("Cache-Control", "")
    return not any(word in cache_control for word in ("private", "no-store", "no-cache"))


def _store(
    key: str, response: HttpResponse, version: list, seconds: int, *, in_process: bool, csrf: bool = False
) -> PageEntry:
    body = response.content
    if csrf:
        body, tokens = _CSRF_FIELD.subn(rb"\1" + _CSRF_MARK + rb"\2", body)
        csrf = tokens > 0
    entry: PageEntry = {
        "version": version,
        "body": body,
        "csrf": csrf,
        "etag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"',
        "headers": [(name, value) for name, value in response.items() if name.lower() not in _UNREPLAYED],
    }
    cache.set(key, entry, seconds)
    if in_process:
        l1_set(key, entry, seconds)
    return entry


def _replay(entry: PageEntry, *, csrf_token: str | bytes | None = None) -> HttpResponse:
    body = entry["body"]
    if csrf_token is not None:
        body = body.replace(_CSRF_MARK, csrf_token if isinstance(csrf_token, bytes) else csrf_token.encode())
    response = HttpResponse(body)
    for name, value in entry["headers"]:
        response[name] = value
    return response


def _conditional(request: HttpRequest, response: HttpResponse, outcome: str, seconds: int) -> HttpResponse:
    s_maxage = min(seconds, settings.PUBLIC_CACHE_S_MAXAGE)
    response["X-Cache"] = outcome
    if _edge_key_matches(request, "anon", required=False):
        response["Cache-Control"] = f"public, max-age=0, s-maxage={s_maxage}"
        _edge_record(request, s_maxage)
    else:  # nginx would keep it under other cookies than it was rendered from
        response["Cache-Control"] = "private, no-store"
    patch_vary_headers(response, ("Cookie", "Accept-Encoding"))
    return get_conditional_response(request, etag=response["ETag"], response=response)


def _mark_private_if_personal(request: HttpRequest, response: HttpResponse) -> None:
    # A view that already made its answer private keeps its own rule (personal JSON: "private, no-cache",
    # so the client may revalidate with its ETag); a member page made shareable (MemberPageCacheMiddleware)
    # stays public while nothing below set a cookie on it; anything else personal is never stored at all.
    if getattr(response, "edge_shared", False) and not response.cookies:
        return
    if _is_personal(request) and "private" not in response.get("Cache-Control", ""):
        response["Cache-Control"] = "private, no-store"


def _is_personal(request: HttpRequest) -> bool:
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META:
        return True
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated
