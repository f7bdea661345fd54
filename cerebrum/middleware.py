"""Cross-cutting middleware: the API's own lean stack, response time header (report 3.1), control characters
refused at the door, a safe request repeated once when its database connection dropped, and the pages'
DomainError mapping."""

from __future__ import annotations

import logging
import re
import time

import orjson
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed, RequestDataTooBig
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.db import OperationalError, connections
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.module_loading import import_string

from cerebrum.api_tools import error_body
from cerebrum.errors import DomainError, NotFound
from cerebrum.text import CONTROL_CHARACTERS

logger = logging.getLogger(__name__)


API_PATH_PREFIX = "/api/v1/"


class ApiBranchMiddleware:
    """First in MIDDLEWARE: a request under /api/v1/ runs settings.API_MIDDLEWARE instead of the page stack.

    JSON endpoints (all DRF views) use no messages, no template machinery, no page caches, no static
    files and no CSRF middleware (DRF's SessionAuthentication runs Django's CSRF check itself for a
    session-authenticated unsafe call; JWT calls need none), so they skip those middlewares (issue 17
    item 4). Sessions stay lazy: a JWT request without a session cookie never reads the session store,
    and with one it reads it only if something asks for the session's user (nothing in this stack does
    before DRF has put the JWT user on the request). Both chains are built once per process, like
    Django's own.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.api = _ChainHandler(settings.API_MIDDLEWARE)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PATH_PREFIX):
            return self.api.chain(request)
        return self.get_response(request)


class _ChainHandler(BaseHandler):
    """Django's middleware loading (BaseHandler.load_middleware, synchronous) for a given list."""

    def __init__(self, middleware: list[str]):
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(middleware):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self.chain = self._middleware_chain = handler


class ResponseTimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Response-Time"] = f"{(time.perf_counter() - started) * 1000:.1f}ms"
        return response


# The control characters of cerebrum.text as JSON escapes (\u0000 … \u001f except \t \n \r, and \u007f),
# only where the backslash before the "u" is not itself escaped; and the high half of a UTF-16 surrogate
# pair, whose lone use is checked below.
_JSON_ESCAPED_CONTROL = re.compile(rb"(?<!\\)(?:\\\\)*\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])")
_JSON_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
# A query string can only decode to a control character if it holds one raw or percent-encoded.
_ENCODED_CONTROL = re.compile(r"%[01][0-9a-fA-F]|%7[fF]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REFUSAL_MESSAGE = "Control characters (such as NUL) are not allowed in requests."


class ControlCharacterMiddleware:
    """Refuses with 400 any request whose path, query, headers or body carry a control character.

    The one place such input is stopped (issue 14 item 7), early in the stack, so no page, API,
    webhook or later middleware (analytics' UTM capture, the page caches, sessions) ever sees it. A
    cookie is the exception: a browser keeps resending a bad one, so it is dropped and the request is
    served as if the cookie were absent.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self._drop_bad_cookies(request)
        where = self._first_offence(request)
        if where is not None:
            return control_character_refusal(request, where)
        return self.get_response(request)

    @staticmethod
    def _drop_bad_cookies(request: HttpRequest) -> None:
        # Parsed values, not the raw header: a quoted cookie value carries a NUL as the escape "\000".
        cookies = request.COOKIES
        if cookies and CONTROL_CHARACTERS.search("".join(f"{name}{value}" for name, value in cookies.items())):
            request.COOKIES = {
                name: value for name, value in cookies.items() if not CONTROL_CHARACTERS.search(name + value)
            }

    def _first_offence(self, request: HttpRequest) -> str | None:
        """Where the first control character is ("path", "query.utm_source", "header.User-Agent", ...)."""
        if CONTROL_CHARACTERS.search(request.path):
            return "path"
        if _ENCODED_CONTROL.search(request.META.get("QUERY_STRING", "")):  # else no need to decode it
            for name, values in request.GET.lists():
                if CONTROL_CHARACTERS.search(name) or any(CONTROL_CHARACTERS.search(v) for v in values):
                    return f"query.{name}"
        headers = {
            key: value
            for key, value in request.META.items()
            if ((key.startswith("HTTP_") and key != "HTTP_COOKIE") or key == "CONTENT_TYPE") and isinstance(value, str)
        }
        if CONTROL_CHARACTERS.search("".join(headers.values())):  # one search; then which one, for the message
            key = next(key for key, value in headers.items() if CONTROL_CHARACTERS.search(value))
            return "header." + key.removeprefix("HTTP_").replace("_", "-").title()
        if request.method in ("GET", "HEAD", "OPTIONS") and not request.META.get("CONTENT_LENGTH"):
            return None
        return self._body_offence(request)

    @staticmethod
    def _body_offence(request: HttpRequest) -> str | None:
        if request.content_type in _FORM_TYPES:
            for name, values in request.POST.lists():
                if CONTROL_CHARACTERS.search(name) or any(CONTROL_CHARACTERS.search(v) for v in values):
                    return f"body.{name}"
            for name, upload in request.FILES.items():
                if CONTROL_CHARACTERS.search(name) or CONTROL_CHARACTERS.search(upload.name or ""):
                    return f"body.{name}"
            return None
        try:
            body = request.body
        except RequestDataTooBig:
            return None  # the view refuses it as before (the API in its error shape)
        if "json" in request.content_type:
            # Raw C0 characters make it malformed JSON, which the parser refuses as such (400 malformed_json);
            # DEL is valid JSON as it is.
            if b"\x7f" in body:
                return "body"
        elif CONTROL_CHARACTERS.search(body.decode("utf-8", errors="replace")):
            return "body"
        if b"\\u" not in body:
            return None
        if _JSON_ESCAPED_CONTROL.search(body):
            return "body"
        if _JSON_SURROGATE.search(body):
            # A lone surrogate cannot be stored (UTF-8 has none); json.loads would let it through.
            try:
                orjson.loads(body)
            except orjson.JSONDecodeError as error:
                return "body" if "surrogate" in str(error) else None
        return None


def control_character_refusal(request: HttpRequest, where: str) -> HttpResponse:
    """400 in the API's error shape under /api/, else the site's 400 page."""
    fields = {where: [REFUSAL_MESSAGE]}
    if request.path.startswith("/api/") or "json" in request.content_type:
        return JsonResponse(error_body("control_characters", REFUSAL_MESSAGE, fields), status=400)
    return render(request, "400.html", {"message": REFUSAL_MESSAGE}, status=400)


class DatabaseReconnectMiddleware:
    """Runs a safe request's view once more when its database connection was dropped mid-request.

    The pool tests a connection as it hands it out (CONN_HEALTH_CHECKS), which covers connections killed
    while idle; this covers the one in use at that moment (a failover, a PgBouncer restart,
    pg_terminate_backend). Only GET, HEAD and OPTIONS are repeated: they write nothing of their own, so
    running them twice is harmless. A write lost this way was rolled back with its transaction and
    answers 500 as before (issue 14 item 8).
    """

    SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.method not in self.SAFE_METHODS or not isinstance(exception, OperationalError):
            return None
        lost = [alias for alias in connections if _connection_lost(connections[alias])]
        if not lost or getattr(request, "_database_retried", False):
            return None
        request._database_retried = True
        for alias in lost:
            connections[alias].close()  # back to the pool, which discards a broken connection
        logger.warning("database connection lost during %s %s; running the view again", request.method, request.path)
        match = request.resolver_match
        return match.func(request, *match.args, **match.kwargs)


class DomainErrorMiddleware:
    """The one DomainError → HTTP mapping for pages (the API's is `cerebrum.api.exception_handler`).

    A page view lets a selector's or service's refusal propagate: NotFound becomes the site's 404 page
    (someone else's object reads as no object), any other DomainError its own status (400, 409, 422,
    502 …) with its message on templates/error.html. Views handle a refusal themselves only to show it
    beside a form's fields (`accounts.forms.form_add_domain_error`) or as a flash message on a redirect.
    DRF views never reach here: their exceptions are answered inside the view.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        if isinstance(exception, NotFound):
            # Raised here, Django's own handling renders handler404 as for any Http404.
            raise Http404(exception.message) from exception
        return render(request, "error.html", {"error": exception}, status=exception.status)


def _connection_lost(wrapper) -> bool:
    raw = wrapper.connection
    return raw is not None and bool(getattr(raw, "closed", False) or getattr(raw, "broken", False))
