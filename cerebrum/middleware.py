"""Cross-cutting middleware: response time header (report 3.1); control characters refused at the door."""

from __future__ import annotations

import re
import time

import orjson
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from cerebrum.api_tools import error_body
from cerebrum.text import CONTROL_CHARACTERS


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
        if any(CONTROL_CHARACTERS.search(name + value) for name, value in cookies.items()):
            request.COOKIES = {
                name: value for name, value in cookies.items() if not CONTROL_CHARACTERS.search(name + value)
            }

    def _first_offence(self, request: HttpRequest) -> str | None:
        """Where the first control character is ("path", "query.utm_source", "header.User-Agent", ...)."""
        if CONTROL_CHARACTERS.search(request.path):
            return "path"
        for name, values in request.GET.lists():
            if CONTROL_CHARACTERS.search(name) or any(CONTROL_CHARACTERS.search(v) for v in values):
                return f"query.{name}"
        for key, value in request.META.items():
            is_header = (key.startswith("HTTP_") and key != "HTTP_COOKIE") or key == "CONTENT_TYPE"
            if is_header and isinstance(value, str) and CONTROL_CHARACTERS.search(value):
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
        if CONTROL_CHARACTERS.search(body.decode("utf-8", errors="replace")):
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
