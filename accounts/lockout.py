"""What a locked-out client sees: 429 with Retry-After, as JSON for the API and as a page otherwise."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string


def lockout_response(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    message = "Too many failed logins. Try again in 15 minutes or reset your password."
    if request.path.startswith("/api/"):
        response = JsonResponse({"error": {"code": "locked_out", "message": message, "fields": {}}}, status=429)
    else:
        response = HttpResponse(render_to_string("accounts/locked_out.html", {"message": message}, request), status=429)
    response["Retry-After"] = retry_after
    return response
