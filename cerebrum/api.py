"""The API's one error shape: {"error": {"code", "message", "fields"}} for every 4xx."""

from __future__ import annotations

from typing import Any

from axes.exceptions import AxesBackendPermissionDenied
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cerebrum.api_tools import error_body
from cerebrum.errors import DomainError

__all__ = ["CerebrumAutoSchema", "error_body", "exception_handler", "handler404", "handler500"]

LOCKED_OUT_MESSAGE = "Too many failed logins. Try again in 15 minutes or reset your password."


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every refusal leaves in the one shape; anything else stays a 500."""
    response = _domain_response(exc)
    if response is not None:
        return response
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", "Invalid input.", _flatten(exc.detail))
    else:
        response.data = error_body(*_code_and_message(exc))
    return response


def _domain_response(exc: Exception) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body("invalid", "Invalid input.", fields), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, AxesBackendPermissionDenied):
        # A lockout is rate limiting, so it is a 429 the app can count down, never a 403.
        response = Response(error_body("locked_out", LOCKED_OUT_MESSAGE), status=status.HTTP_429_TOO_MANY_REQUESTS)
        response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
        return response
    return None


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return exceptions.ParseError("Request body is too large.", code="body_too_large")
    return exc


def _code_and_message(exc: exceptions.APIException) -> tuple[str, str]:
    detail = exc.detail
    if isinstance(detail, dict):
        # simplejwt's token errors: {"detail": ..., "code": ..., "messages": [...]}
        return str(detail.get("code", exc.default_code)), str(detail.get("detail", "Request refused."))
    if isinstance(detail, list):
        return exc.default_code, " ".join(str(item) for item in detail) or "Request refused."
    return str(getattr(detail, "code", None) or exc.default_code), str(detail)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail → {"field" or "parent.child": [messages]}."""
    if isinstance(detail, list) and not any(isinstance(item, (dict, list)) for item in detail):
        return {prefix or "non_field_errors": [str(item) for item in detail]}
    if isinstance(detail, list):
        items = enumerate(detail)
    elif isinstance(detail, dict):
        items = detail.items()
    else:
        return {prefix or "non_field_errors": [str(detail)]}
    fields: dict[str, list[str]] = {}
    for key, value in items:
        if value in ({}, []):
            continue
        fields.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return fields


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Unknown URLs under /api/ answer in the error shape; pages keep Django's 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", "Something went wrong on our side."), status=500)
    return defaults.server_error(request)


class CerebrumAutoSchema(AutoSchema):
    """Names nested serializers after their view (`RegisterApi.InputSerializer` → `RegisterApiInput`).

    Every view nests an `InputSerializer`/`OutputSerializer` (style.md); without the prefix they would
    all collide as one "Input"/"Output" component and the schema would lie about most bodies.
    """

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        outer, _, _ = type(serializer).__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            name = outer.replace(".", "") + name
        return name
