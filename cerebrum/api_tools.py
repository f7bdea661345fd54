"""API building blocks shared by every app's apis.py: parsing, strict input, pagination, throttles, idempotency.

DRF imports the parser from here while `rest_framework.views` is still loading, so this module must
not import DRF views or drf_spectacular.openapi (the schema class lives in cerebrum.api).
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid

import orjson
from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection
from drf_orjson_renderer.parsers import ORJSONParser
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from redis.exceptions import RedisError
from rest_framework import pagination, serializers, throttling
from rest_framework.exceptions import APIException, NotFound, ParseError
from rest_framework.response import Response

from cerebrum.cache import IDEMPOTENCY_LOCK, IDEMPOTENT_ANSWER, lock_release
from cerebrum.client_ip import client_ip

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
IDEMPOTENCY_KEY_MAX_LENGTH = 200
# Visible ASCII, no spaces (a UUID fits): what every HTTP stack passes through unchanged.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,200}$"


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    """The one error shape of the API: {"error": {"code", "message", "fields"}}."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


class PayloadTooLargeError(APIException):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE (256 KiB): 413, as nginx answers one over its 1 MiB."""

    status_code = 413
    default_code = "body_too_large"
    default_detail = "Request body is too large."


class BoundedJSONParser(ORJSONParser):
    """orjson parsing that refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with a 413.

    DRF reads the raw stream, so Django's own size check never fires for JSON bodies; chunked
    uploads carry no Content-Length, hence reading one byte past the cap instead of trusting a header.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise PayloadTooLargeError(f"Request body is larger than {limit} bytes.")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"Malformed JSON: {exc}", code="malformed_json") from exc


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses keys it does not declare (no silent mass assignment).

    Unknown keys are reported together with the declared fields' own errors, in one 400. Values must
    have the JSON type the schema states: DRF alone would take `"5"` or `5.0` for an integer and `0`
    or `"on"` for a boolean, which the OpenAPI schema (and a generated client) says are invalid.
    """

    def to_internal_value(self, data):
        errors: dict = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors = dict(exc.detail) if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            errors.update({key: ["Unknown field."] for key in sorted(set(data) - writable)})
            errors.update(json_type_errors(self, data))
        if errors:
            raise serializers.ValidationError(errors)
        return value


# A field class → the JSON types its value may have (bool is an int in Python, hence checked first).
_JSON_TYPES: tuple[tuple[type, tuple[type, ...], str], ...] = (
    (serializers.BooleanField, (bool,), "Must be true or false."),
    (serializers.IntegerField, (int,), "Must be a whole number."),
    (serializers.FloatField, (int, float), "Must be a number."),
    (serializers.CharField, (str,), "Must be a string."),
    (serializers.ChoiceField, (str, int), "Must be a string."),
    (serializers.ListField, (list,), "Must be a list."),
    (serializers.DictField, (dict,), "Must be an object."),
)


def json_type_errors(serializer: serializers.Serializer, data: dict, prefix: str = "") -> dict[str, list[str]]:
    """{"field" or "parent.child": [message]} for values whose JSON type the field's schema does not allow."""
    errors: dict[str, list[str]] = {}
    for name, field in serializer.fields.items():
        if field.read_only or name not in data or data[name] is None:
            continue
        value, key = data[name], f"{prefix}{name}"
        if isinstance(field, serializers.Serializer) and not isinstance(field, StrictInputSerializer):
            if isinstance(value, dict):
                errors.update(json_type_errors(field, value, f"{key}."))
            continue
        for field_class, types, message in _JSON_TYPES:
            if isinstance(field, field_class):
                is_bool = isinstance(value, bool)
                if not isinstance(value, types) or (is_bool and bool not in types):
                    errors[key] = [message]
                break
    return errors


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    """The one error shape, for the OpenAPI schema."""

    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "Invalid input: malformed JSON, wrong types, unknown fields or query parameters, a refused rule.",
    401: "Not signed in, or the token is invalid or expired.",
    403: "Signed in but not allowed (also a session call without its CSRF token).",
    404: "Not found, or not yours.",
    406: "The Accept header asks for something other than application/json.",
    409: "Conflicts with the current state.",
    413: "Request body is too large (over 256 KiB).",
    415: "Unsupported media type: send application/json.",
    422: "Idempotency-Key reused with a different body, or a request the server cannot process.",
    429: "Too many requests; see Retry-After.",
    500: "Something went wrong on the server; nothing about it is disclosed.",
    502: "The app server did not answer (from nginx).",
    503: "The service is temporarily unavailable.",
    504: "The app server answered too late (from nginx).",
}


def error_responses(*codes: int) -> dict:
    """`extend_schema(responses={...})` entries for the refusals an operation can give."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in codes}


class CreatedCursorPagination(pagination.CursorPagination):
    """Stable cursor pages over (created_at, id), newest first (report 1.2)."""

    ordering = ("-created_at", "-id")
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request):
        # DRF answers a tampered cursor with 404, which reads as "the list is gone"; it is bad input.
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise serializers.ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from exc


# DRF's sliding window (at most N requests in the last `window` seconds) kept as a sorted set of request
# times, trimmed, counted and added to in one script: one Redis round trip per request instead of DRF's
# GET and SET of a pickled history list (which also let two simultaneous requests take the last slot).
# Returns "" when allowed, else the seconds until the oldest request in the window leaves it.
_SLIDING_WINDOW = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(window))
return ''
"""


class ClientIPMixin:
    """Throttles see the client address of `cerebrum.client_ip` (TRUSTED_PROXY_COUNT), like axes does,
    and count in one Redis round trip (_SLIDING_WINDOW); DRF's own counting without Redis (embedded)."""

    def get_ident(self, request) -> str | None:
        return client_ip(request)

    def allow_request(self, request, view) -> bool:
        client = _redis_client()
        if client is None or self.rate is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        try:
            args = (now, self.duration, self.num_requests, f"{now}:{uuid.uuid4().hex[:8]}")
            # EVALSHA: the script's body goes over the wire only once per Redis restart (redis-py's Script)
            wait = client.register_script(_SLIDING_WINDOW)(keys=[cache.make_key(self.key)], args=args)
        except RedisError:
            return True  # as DRF with the cache's IGNORE_EXCEPTIONS: Redis down never refuses a learner
        self._wait = float(wait) if wait else None
        return not wait

    def wait(self) -> float | None:
        if _redis_client() is None:
            return super().wait()
        return getattr(self, "_wait", None)


def _redis_client():
    try:
        return get_redis_connection("default")
    except NotImplementedError:  # the embedded default's local-memory cache
        return None


class AnonRateThrottle(ClientIPMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientIPMixin, throttling.UserRateThrottle):
    pass


class AuthRateThrottle(ClientIPMixin, throttling.SimpleRateThrottle):
    """Login, register and OTP: 10/min per client IP, signed in or not (report §6 auth zone)."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def idempotent(view_method):
    """Honour an `Idempotency-Key` header on a create endpoint.

    Same key + same body → the first response is replayed; same key + different body → 422; a request
    still in flight with the key → 409. Keys are scoped to the caller and kept 24 h in Redis.
    Only responses the view returns are stored; a refusal raised as an exception wrote nothing, so the
    client may retry it with the same key. Redis down: the request runs unguarded (no replay, no 409).
    """

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view_method(self, request, *args, **kwargs)
        if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
            message = "At most 200 visible ASCII characters, no spaces."
            return Response(
                error_body("invalid", "Invalid Idempotency-Key.", {"Idempotency-Key": [message]}), status=400
            )
        scope = _idempotency_scope(request, key)
        fingerprint = hashlib.sha256(orjson.dumps(request.data, option=orjson.OPT_SORT_KEYS)).hexdigest()
        stored = cache.get(f"{IDEMPOTENT_ANSWER}:{scope}")
        if stored is not None:
            return _replay(stored, fingerprint)
        lock, token = f"{IDEMPOTENCY_LOCK}:{scope}", uuid.uuid4().hex
        # None: django-redis swallowed a connection error. Redis is down, so no other request can hold the
        # key either: run it (as without a key) rather than answer every keyed create 409 until Redis is back.
        if cache.add(lock, token, 30) is False:
            return Response(error_body("conflict", "A request with this Idempotency-Key is in progress."), status=409)
        try:
            response = view_method(self, request, *args, **kwargs)
            # A 5xx is the server's fault: the client may retry it with the same key.
            if response.status_code < 500:
                stored = {"fingerprint": fingerprint, "status": response.status_code, "data": response.data}
                cache.set(f"{IDEMPOTENT_ANSWER}:{scope}", stored, IDEMPOTENCY_TTL_SECONDS)
            return response
        finally:
            lock_release(lock, token)  # not a lock a retry took after ours expired (a request over 30 s)

    return wrapper


def _idempotency_scope(request, key: str) -> str:
    caller = f"u{request.user.pk}" if request.user.is_authenticated else f"ip{client_ip(request)}"
    return hashlib.sha256(f"{caller}|{request.path}|{key}".encode()).hexdigest()


def _replay(stored: dict, fingerprint: str) -> Response:
    if stored["fingerprint"] != fingerprint:
        return Response(
            error_body("idempotency_mismatch", "This Idempotency-Key was used with a different request body."),
            status=422,
        )
    response = Response(stored["data"], status=stored["status"])
    response["Idempotent-Replayed"] = "true"
    return response


# --- Personal JSON with a version check (issue 17 item 2) -----------------------------------------

PERSONAL_CACHE_CONTROL = "private, no-cache"
IF_NONE_MATCH_PATTERN = r"^[ -~]{1,1000}$"  # what an ETag list is made of; the schema states it


def personal_etag(kind: str, owner_id: int, version: str) -> str:
    """A strong ETag naming the learner too: one learner's tag never matches another's data.

    "" when there is no version (Redis unavailable): such answers carry no ETag and never 304.
    """
    return f'"{kind}.{owner_id}.{version}"' if version else ""


def personal_json(request, *, etag: str, build) -> Response:
    """200 with build()'s data, or 304 with no body when `If-None-Match` names `etag` (build() not called);
    400 when If-None-Match is not an ETag list (IF_NONE_MATCH_PATTERN).

    Both carry the ETag and `Cache-Control: private, no-cache`: no shared cache (nginx, a CDN) keeps
    it, and the client revalidates every time. A weak tag (`W/"…"`, as gzip in front may turn it) and
    `*` match too (RFC 9110 13.1.2: If-None-Match compares weakly).
    """
    held = request.headers.get("If-None-Match")
    if held is not None and not re.fullmatch(IF_NONE_MATCH_PATTERN, held):  # sent empty too
        message = "At most 1,000 visible ASCII characters and spaces: the ETag(s) you were given."
        return Response(error_body("invalid", "Invalid If-None-Match.", {"If-None-Match": [message]}), status=400)
    response = Response(status=304) if etag and held and _none_match(held, etag) else Response(build())
    if etag:
        response["ETag"] = etag
    response["Cache-Control"] = PERSONAL_CACHE_CONTROL
    response["Vary"] = "Authorization, Cookie"
    return response


def _none_match(header: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def personal_json_schema(ok) -> dict:
    """`extend_schema(...)` keywords of a personal JSON read: If-None-Match in, ETag and Cache-Control
    out, its 200 and the 304."""
    return {
        "parameters": [
            OpenApiParameter(
                "If-None-Match",
                str,
                OpenApiParameter.HEADER,
                pattern=IF_NONE_MATCH_PATTERN,
                description="The ETag of the copy you hold: 304 with no body while it is current.",
            ),
            OpenApiParameter(
                "ETag",
                str,
                OpenApiParameter.HEADER,
                response=[200, 304],
                description="The data's version (quoted, opaque): send it back in If-None-Match.",
            ),
            OpenApiParameter(
                "Cache-Control", str, OpenApiParameter.HEADER, response=[200, 304], description=PERSONAL_CACHE_CONTROL
            ),
        ],
        "responses": {
            200: ok,
            304: OpenApiResponse(description="Not modified: If-None-Match names the current ETag; no body."),
        },
    }
