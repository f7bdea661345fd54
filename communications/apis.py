"""Learners and parents choose their channels (opt in / out per channel)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cerebrum.api_tools import StrictInputSerializer, error_responses
from communications.selectors import channel_preferences_for_user, marketing_preferences_for_user
from communications.services import channel_preference_set


class MarketingSerializer(StrictInputSerializer):
    EMAIL = serializers.BooleanField(required=False)
    WHATSAPP = serializers.BooleanField(required=False)
    SMS = serializers.BooleanField(required=False)


class PreferencesApi(APIView):
    class InputSerializer(StrictInputSerializer):
        EMAIL = serializers.BooleanField(required=False)
        WHATSAPP = serializers.BooleanField(required=False)
        SMS = serializers.BooleanField(required=False)
        marketing = MarketingSerializer(required=False, help_text="channel → marketing allowed on it")

    class OutputSerializer(serializers.Serializer):
        channels = serializers.DictField(child=serializers.BooleanField(), help_text="channel → opted in")
        marketing = serializers.DictField(child=serializers.BooleanField(), help_text="channel → marketing allowed")

    @extend_schema(
        operation_id="communication_preferences_read", responses={200: OutputSerializer, **error_responses(401, 429)}
    )
    def get(self, request):
        return Response(_output(request.user))

    @extend_schema(
        operation_id="communication_preferences_update",
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 429)},
    )
    def put(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        marketing = data.pop("marketing", {})
        with transaction.atomic():
            for channel in sorted(set(data) | set(marketing)):
                channel_preference_set(
                    user=request.user,
                    channel=channel,
                    opted_in=data.get(channel),
                    marketing_opted_in=marketing.get(channel),
                )
        return Response(_output(request.user))


def _output(user) -> dict:
    return {
        "channels": channel_preferences_for_user(user=user),
        "marketing": marketing_preferences_for_user(user=user),
    }
