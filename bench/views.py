"""The ceiling: the cheapest Django JSON response, through the same nginx, gunicorn and middleware stack.

Mounted at /bench/bare only when BENCH_MODE=1 (cerebrum/urls.py); the benchmark divides the mixed
scenario's capacity by this view's throughput.
"""

from django.http import HttpRequest, JsonResponse


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})
