"""The interface language (issue 18 item 5): English or Hindi, chosen by the learner, kept in a cookie.

Why a cookie and not Django's LocaleMiddleware: LocaleMiddleware also guesses from Accept-Language,
which browsers send in hundreds of spellings, so every cached page (cerebrum.http_cache, nginx) would
need a copy per header value. Here the language comes from the `django_language` cookie only (set by
`language_set`, the switcher's link), default English; the page caches add it to their keys and nginx
to its proxy_cache_key, so there are exactly two copies of a cached page. The question medium in a
test is separate: it is chosen per attempt (courses.hindi).

`make messages` compiles locale/*/LC_MESSAGES/django.po into the committed .mo with Babel
(`compile_catalogs`); tests/hindi/test_interface_hindi.py fails when the two differ.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme

LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 60 * 60  # seconds
# Callables (request, code) run when a known language is chosen with the switcher, registered by apps in
# their AppConfig.ready() (accounts: a signed-in learner's choice is kept for their emails); the platform
# imports none of them.
language_chosen_hooks: list = []
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"  # settings.LOCALE_PATHS


def request_language(request: HttpRequest) -> str:
    """The language code of the request's cookie when it is one of settings.LANGUAGES, else LANGUAGE_CODE."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return code if code in _codes() else settings.LANGUAGE_CODE


def _codes() -> set[str]:
    return {code for code, _ in settings.LANGUAGES}


class CookieLanguageMiddleware:
    """Activate the cookie's language for the request (place before the page caches, which key on it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)  # rendered by now (TemplateResponse renders inside)
        finally:
            translation.deactivate()  # the thread's next work (another request, a test) starts in English
        response.headers.setdefault("Content-Language", language)
        return response


def language_set(request: HttpRequest, code: str) -> HttpResponse:
    """/language/<code>/?next=<path>: keep the language in the cookie and go back. An unknown code sets
    nothing; a foreign `next` goes home.

    GET (the visitors' plain link: public cached pages carry no form or CSRF token) sets only the cookie.
    POST (the signed-in learner's switcher, a form with the CSRF token the member page cache puts in)
    also runs `language_chosen_hooks`, so their profile keeps it: a GET never writes (issue 16 item 4)."""
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = "/"
    response = HttpResponseRedirect(target)
    response["Cache-Control"] = "private, no-store"
    if code in _codes():
        for hook in language_chosen_hooks if request.method == "POST" else ():
            hook(request=request, code=code)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=LANGUAGE_COOKIE_MAX_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def compile_catalogs(root: Path = LOCALE_DIR) -> list[Path]:
    """Compile every <root>/<lang>/LC_MESSAGES/django.po into its .mo with Babel; the .mo paths written."""
    written = []
    for po_path in sorted(root.glob("*/LC_MESSAGES/django.po")):
        mo_path = po_path.with_suffix(".mo")
        mo_path.write_bytes(compiled_catalog(po_path))
        written.append(mo_path)
    return written


def compiled_catalog(po_path: Path) -> bytes:
    """The .mo bytes of one .po file (Babel's reader and writer: deterministic, no gettext binaries)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as source:
        catalog = read_po(source)
    out = BytesIO()
    write_mo(out, catalog)
    return out.getvalue()
