"""The API's one error shape: {"error": {"code", "message", "fields"}} for every 4xx and 5xx.

Also the API's one rule for query parameters and bodies (DeclaredRequestMiddleware) and the schema class that
documents every status an operation can answer (CerebrumAutoSchema).
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
from typing import Any

from axes.exceptions import AxesBackendPermissionDenied
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cerebrum.api_tools import (
    ERROR_DESCRIPTIONS,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    IDEMPOTENCY_KEY_PATTERN,
    ErrorSerializer,
    PayloadTooLargeError,
    StrictInputSerializer,
    error_body,
)
from cerebrum.errors import DomainError

__all__ = [
    "CerebrumAutoSchema",
    "DeclaredRequestMiddleware",
    "error_body",
    "exception_handler",
    "handler400",
    "handler404",
    "handler500",
]

API_PREFIX = "/api/v1/"

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
        return PayloadTooLargeError()
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


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's own refusals before any view (a disallowed Host, too many fields) in the error shape under /api/."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(error_body("body_too_large", "Request body is too large."), status=413)
        message = "Request refused." if isinstance(exception, SuspiciousOperation) else "Bad request."
        return JsonResponse(error_body("bad_request", message), status=400)
    return defaults.bad_request(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Unknown URLs under /api/ answer in the error shape; pages keep Django's 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", "Something went wrong on our side."), status=500)
    return defaults.server_error(request)


# Strings a client sends may not hold C0 control characters or DEL, except tab, LF and CR: the server
# refuses them with 400 `control_characters` (cerebrum.middleware.CONTROL_CHARACTERS, the same class).
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

# A JSONField that refuses null: any JSON value but null (OpenAPI 3.0 has no "not null" for `{}`).
ANY_JSON_BUT_NULL = {
    "anyOf": [
        {"type": "object", "additionalProperties": {}},
        {"type": "array", "items": {}},
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
    ]
}

# Refusals any operation can give, whatever its view: a bad token (even where signing in is optional),
# an unknown or out-of-range query parameter, an Accept it cannot serve, throttles, and the server side.
EVERY_OPERATION_REFUSES = (400, 401, 406, 429, 500, 502, 503, 504)
# Refusals of an operation that takes a JSON body: CSRF for session callers, body size, content type.
BODY_REFUSALS = (403, 413, 415)
# Refusals of an operation that honours an Idempotency-Key (cerebrum.api_tools.idempotent).
IDEMPOTENCY_REFUSALS = (409, 422)


class CerebrumAutoSchema(AutoSchema):
    """The schema class of every view: names, every status, and strict bodies.

    - Nested serializers are named after their view (`RegisterApi.InputSerializer` →
      `RegisterApiInput`). Every view nests an `InputSerializer`/`OutputSerializer`;
      without the prefix they would all collide as one "Input"/"Output" component.
    - Every operation lists every status it can answer, in the one error shape: what its view
      declares with `error_responses`, plus the refusals that follow from its shape (a path
      parameter → 404, a body → 403/413/415, an Idempotency-Key → 409/422, any → 400/401/406/429/5xx).
    - A `StrictInputSerializer` body says `additionalProperties: false`, as the server enforces.
    - `page_size` states its range (1..100); larger or smaller values are refused, not clamped.
    - A free-text string a client sends (body field, path or query parameter) states that control
      characters are refused (`pattern`), unless it already has a format, enum or pattern.
    - Every request body is required (`{}` means nothing to change).
    - A string that refuses "" says `minLength: 1`; a list that refuses to be empty `minItems: 1`; a JSON value that refuses null says so;
      `Idempotency-Key` states its pattern and length (cerebrum.api_tools.idempotent enforces them).
    """

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        outer, _, _ = type(serializer).__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            name = outer.replace(".", "") + name
        return name

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictInputSerializer):
            schema["additionalProperties"] = False
            if schema.get("description") == inspect.getdoc(StrictInputSerializer):
                del schema["description"]  # inherited from the base class: says nothing about this body
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request":
            return schema
        if not any(isinstance(v, RegexValidator) for v in getattr(field, "validators", [])):
            _forbid_control_characters(schema)  # a field's own pattern (added after this) says more
        if isinstance(field, serializers.CharField) and not field.allow_blank and schema.get("type") == "string":
            schema.setdefault("minLength", 1)  # drf-spectacular leaves it out when the default is ""
        if schema.get("type") == "array" and getattr(field, "allow_empty", True) is False:
            schema.setdefault("minItems", 1)
        if isinstance(field, serializers.JSONField) and not field.allow_null and not schema.get("type"):
            schema.update(ANY_JSON_BUT_NULL)
        return schema

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] in ("path", "query"):
                _forbid_control_characters(parameter.get("schema", {}))
            elif parameter["in"] == "header" and parameter["name"].lower() == "idempotency-key":
                parameter["schema"].update(pattern=IDEMPOTENCY_KEY_PATTERN, maxLength=IDEMPOTENCY_KEY_MAX_LENGTH)
        return parameters

    def _get_request_body(self, direction="request"):
        request_body = super()._get_request_body(direction)
        if request_body:
            request_body["required"] = True  # DeclaredRequestMiddleware refuses a request without one
        return request_body

    def _get_pagination_parameters(self):
        parameters = super()._get_pagination_parameters()
        paginator = self._get_paginator()
        for parameter in parameters:
            if paginator and parameter["name"] == getattr(paginator, "page_size_query_param", None):
                parameter["schema"].update(minimum=1, maximum=paginator.max_page_size)
            elif paginator and parameter["name"] == getattr(paginator, "cursor_query_param", None):
                parameter["schema"]["minLength"] = 1
                parameter["description"] = "The opaque cursor of a `next` or `previous` link; any other value is 400."
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in sorted(self._refusal_codes()):
            if str(code) not in responses:
                refusal = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
                responses[str(code)] = self._get_response_for_code(refusal, str(code), direction=direction)
        return dict(sorted(responses.items()))

    def _refusal_codes(self) -> set[int]:
        codes = set(EVERY_OPERATION_REFUSES)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.update(BODY_REFUSALS)
        if "{" in self.path:
            codes.add(404)
        headers = {str(getattr(p, "name", "")).lower() for p in self.get_override_parameters()}
        if "idempotency-key" in headers:
            codes.update(IDEMPOTENCY_REFUSALS)
        return codes


def _forbid_control_characters(schema: dict) -> None:
    if schema.get("type") == "string" and not {"pattern", "format", "enum"} & set(schema):
        schema["pattern"] = NO_CONTROL_CHARACTERS


# --- Query parameters: one rule for the whole API -----------------------------------------------

_ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


class DeclaredRequestMiddleware:
    """The API's one rule for what a request may carry beyond its body, driven by the OpenAPI schema.

    Under /api/v1/ (docs/api.md, "Query parameters: one rule"):
    - a query parameter the schema does not declare for the operation is refused with 400
      `unknown_parameter`; a declared one whose value breaks its declared enum, range, pattern or
      length is refused with 400 `invalid`;
    - an operation that takes a JSON body refuses a request without one (400 `body_required`): the
      schema marks every request body required, and `{}` is how to send "nothing to change".
    So the schema and the server cannot disagree: declaring a parameter (extend_schema, pagination)
    is what makes the server accept it. Requests with a query string or without a body are looked up
    in the schema, built once per process on first use; the rest (most) skip the check.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if not request.path_info.startswith(API_PREFIX) or request.resolver_match is None:
            return None
        no_body = request.method in ("POST", "PUT", "PATCH") and not _has_body(request)
        if not request.META.get("QUERY_STRING") and not no_body:
            return None
        path = "/" + _ROUTE_PARAMETER.sub(r"{\1}", request.resolver_match.route)
        operation = declared_operations().get((path, request.method.lower()))
        if operation is None:
            return None  # not an operation of the schema (HEAD, OPTIONS, the schema view itself)
        declared, body_required = operation
        unknown = sorted(set(request.GET) - set(declared))
        if unknown:
            fields = {name: ["Unknown query parameter."] for name in unknown}
            message = f"Unknown query parameter: {', '.join(unknown)}."
            return JsonResponse(error_body("unknown_parameter", message, fields), status=400)
        fields = {}
        for name, values in request.GET.lists():
            problems = _query_value_problems(declared[name], values)
            if problems:
                fields[name] = problems
        if fields:
            return JsonResponse(error_body("invalid", "Invalid query parameter.", fields), status=400)
        if no_body and body_required:
            message = "This operation takes a JSON body; send {} for nothing."
            return JsonResponse(error_body("body_required", message), status=400)
        return None


def _has_body(request: HttpRequest) -> bool:
    return request.META.get("CONTENT_LENGTH", "") not in ("", "0") or "HTTP_TRANSFER_ENCODING" in request.META


_DECLARED_OPERATIONS_LOCK = threading.Lock()


def declared_operations() -> dict[tuple[str, str], tuple[dict[str, dict], bool]]:
    """{(OpenAPI path, method): ({query parameter: its JSON schema}, body required)} for every operation.

    Built once per process. The lock matters: drf-spectacular's schema generation is not thread-safe
    (its extension registry loads lazily), and a threaded worker's first requests arrive together —
    six learners on `runserver` got 500s from the race.
    """
    with _DECLARED_OPERATIONS_LOCK:
        return _declared_operations_build()


@functools.cache
def _declared_operations_build() -> dict[tuple[str, str], tuple[dict[str, dict], bool]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    declared = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            query = {p["name"]: p.get("schema", {}) for p in parameters if p["in"] == "query"}
            declared[(path, method)] = (query, operation.get("requestBody", {}).get("required", False))
    return declared


def _query_value_problems(schema: dict, values: list[str]) -> list[str]:
    """What is wrong with a query parameter's values against its declared schema ([] when nothing)."""
    if schema.get("type") != "array" and len(values) > 1:
        return ["Give this parameter once."]
    value = values[-1]
    if "enum" in schema and value not in [str(choice) for choice in schema["enum"] if choice is not None]:
        return [f"Must be one of: {', '.join(str(c) for c in schema['enum'] if c not in (None, ''))}."]
    if schema.get("type") == "integer":
        if not re.fullmatch(r"-?[0-9]+", value):
            return ["A whole number is required."]
        number = int(value)
        if "minimum" in schema and number < schema["minimum"]:
            return [f"Must be at least {schema['minimum']}."]
        if "maximum" in schema and number > schema["maximum"]:
            return [f"Must be at most {schema['maximum']}."]
    if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
        return ["Wrong length."]
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return [f"Must match {schema['pattern']}."]
    return []
