"""Learners and parents choose their channels (opt in / out per channel)."""

from __future__ import annotations

from django.db import transaction
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from communications.models import Channel
from communications.selectors import channel_preferences_for_user
from communications.services import channel_preference_set


class PreferencesApi(APIView):
    class InputSerializer(serializers.Serializer):
        EMAIL = serializers.BooleanField(required=False)
        WHATSAPP = serializers.BooleanField(required=False)
        SMS = serializers.BooleanField(required=False)

    def get(self, request):
        return Response({"channels": channel_preferences_for_user(user=request.user)})

    def put(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            for channel, opted_in in serializer.validated_data.items():
                channel_preference_set(user=request.user, channel=Channel(channel), opted_in=opted_in)
        return Response({"channels": channel_preferences_for_user(user=request.user)})
