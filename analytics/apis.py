"""POST /api/v1/events: batches of client events from the beacon and the mobile apps."""

from __future__ import annotations

from datetime import timedelta

import orjson
from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, throttling
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from analytics import services
from analytics.models import AnalyticsEvent
from cerebrum.api import error_body
from cerebrum.api_tools import ClientIPMixin, ErrorSerializer, error_responses

MAX_EVENTS = 100
MAX_PROPERTIES_BYTES = 4 * 1024
MAX_AGE = timedelta(days=7)
# Phones' clocks drift; a timestamp this far ahead is still taken as "now-ish".
CLOCK_SKEW = timedelta(minutes=5)
# Server-side types (sign-up, enrollment, payment, tests) are recorded by the services only, so a
# client cannot inflate the funnel.
CLIENT_TYPES = [
    AnalyticsEvent.Type.PAGE_VIEW,
    AnalyticsEvent.Type.CLICK,
    AnalyticsEvent.Type.NOTE_VIEW,
    AnalyticsEvent.Type.LANDING,
]


class BeaconSessionAuthentication(SessionAuthentication):
    """Session auth without the CSRF check: `navigator.sendBeacon` cannot send a CSRF header.

    Forging an analytics event for a signed-in learner gains an attacker nothing; nothing else is
    reachable through this endpoint.
    """

    def enforce_csrf(self, request) -> None:
        return None


class BeaconSessionScheme(OpenApiAuthenticationExtension):
    """Documents the beacon's session auth like DRF's own (same cookie, no CSRF header)."""

    target_class = BeaconSessionAuthentication
    name = "beaconCookieAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


class EventBatchThrottle(ClientIPMixin, throttling.SimpleRateThrottle):
    """Per learner or per client IP (cerebrum.client_ip), counted in one Redis round trip like every API
    throttle; roomier than the default anon rate since a whole college hostel may share one IP."""

    scope = "events"
    rate = "300/min"

    def get_cache_key(self, request, view) -> str:
        ident = f"u{request.user.pk}" if request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class EventInputSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=CLIENT_TYPES)
    name = serializers.CharField(max_length=100)
    timestamp = serializers.DateTimeField()
    properties = serializers.DictField(required=False, default=dict)
    path = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    anonymous_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    utm_source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    utm_medium = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    utm_campaign = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")

    def validate_properties(self, value: dict) -> dict:
        if len(orjson.dumps(value)) > MAX_PROPERTIES_BYTES:
            raise serializers.ValidationError(f"At most {MAX_PROPERTIES_BYTES} bytes of JSON.")
        return value

    def validate_timestamp(self, value):
        now = timezone.now()
        if value > now + CLOCK_SKEW:
            raise serializers.ValidationError("Must not be in the future.")
        if value < now - MAX_AGE:
            raise serializers.ValidationError("Must be within the last 7 days.")
        return value


class BatchInputSerializer(serializers.Serializer):
    events = serializers.ListField(child=serializers.JSONField(), min_length=1, max_length=MAX_EVENTS)


class BatchSchemaSerializer(serializers.Serializer):
    """The batch as the OpenAPI schema states it: each event an object of EventInputSerializer's shape.

    The view validates events one by one (BatchInputSerializer, then _validate_events), so one bad
    event never refuses the others.
    """

    events = serializers.ListField(child=EventInputSerializer(), min_length=1, max_length=MAX_EVENTS)


class BatchOutputSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.ListField(child=serializers.DictField())


class BatchRefusedSerializer(ErrorSerializer):
    """400: the error shape, plus the per-event report when the body itself was a well-formed batch."""

    accepted = serializers.IntegerField(required=False)
    duplicates = serializers.IntegerField(required=False)
    rejected = serializers.ListField(child=serializers.DictField(), required=False)


class EventBatchApi(APIView):
    """Accepts what is valid, reports what is not (202); 400 only when nothing in the batch was valid."""

    permission_classes = [AllowAny]
    # The project's JWT class (the first default, from settings: analytics imports no higher app), then
    # the beacon's session without the CSRF header sendBeacon cannot send.
    authentication_classes = [api_settings.DEFAULT_AUTHENTICATION_CLASSES[0], BeaconSessionAuthentication]
    throttle_classes = [EventBatchThrottle]

    @extend_schema(
        request=BatchSchemaSerializer,
        responses={202: BatchOutputSerializer, 400: BatchRefusedSerializer, **error_responses(415, 429)},
    )
    def post(self, request):
        batch = BatchInputSerializer(data=request.data if isinstance(request.data, dict) else {})
        batch.is_valid(raise_exception=True)
        valid, rejected = _validate_events(batch.validated_data["events"])
        result = services.events_ingest(events=valid, user=request.user) if valid else None
        body = {
            "accepted": result.accepted if result else 0,
            "duplicates": result.duplicates if result else 0,
            "rejected": rejected,
        }
        if result is None:
            fields = {f"events[{item['index']}]": _messages(item["errors"]) for item in rejected}
            return Response({**error_body("invalid", "No event in the batch is valid.", fields), **body}, status=400)
        return Response(body, status=status.HTTP_202_ACCEPTED)


def _validate_events(items: list) -> tuple[list[dict], list[dict]]:
    # One serializer for the whole batch: a serializer per event deep-copied its fields each time,
    # most of the endpoint's CPU.
    serializer = EventInputSerializer()
    valid, rejected = [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append({"index": index, "errors": {"non_field_errors": ["Each event must be an object."]}})
            continue
        try:
            valid.append(serializer.run_validation(item))
        except serializers.ValidationError as error:
            rejected.append({"index": index, "errors": error.detail})
    return valid, rejected


def _messages(errors: dict) -> list[str]:
    return [f"{field}: {message}" for field, messages in errors.items() for message in messages]
