"""Cross-cutting middleware: response time header (report 3.1)."""

import time

from django.http import HttpRequest, HttpResponse


class ResponseTimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Response-Time"] = f"{(time.perf_counter() - started) * 1000:.1f}ms"
        return response
