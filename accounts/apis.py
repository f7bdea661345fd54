"""Accounts over REST: sign-up, JWT tokens, the learner's own profile and phone OTP, a parent's children.

Thin by design: validate the body, call accounts.services / selectors, shape the answer.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenViewBase

from accounts.models import User
from cerebrum.api_tools import AuthRateThrottle, StrictInputSerializer, error_responses


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class TokenObtainApi(TokenViewBase):
    """Sign in with an email or a phone number and a password; returns a short-lived access token."""

    throttle_classes = [AuthRateThrottle]

    class InputSerializer(StrictInputSerializer, TokenObtainPairSerializer):
        # The backend (accounts.backends.EmailOrPhoneBackend) resolves either identifier.
        username_field = "username"

    serializer_class = InputSerializer

    def get_serializer_context(self):
        # axes marks a lockout on the request it is given and AxesMiddleware turns the mark into a 429
        # (accounts.lockout); the middleware only sees Django's HttpRequest, not DRF's wrapper.
        return {**super().get_serializer_context(), "request": self.request._request}

    @extend_schema(
        operation_id="auth_token_obtain",
        request=InputSerializer,
        responses={200: TokenPairOutputSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class TokenRefreshApi(TokenViewBase):
    """Trade a refresh token for a new pair; the old refresh token is blacklisted (rotation)."""

    class InputSerializer(StrictInputSerializer, TokenRefreshSerializer):
        def validate(self, attrs):
            try:
                return super().validate(attrs)
            except User.DoesNotExist as exc:
                raise InvalidToken("The token's user no longer exists.") from exc

    serializer_class = InputSerializer

    @extend_schema(
        operation_id="auth_token_refresh",
        request=InputSerializer,
        responses={200: TokenPairOutputSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutApi(APIView):
    """Blacklist a refresh token so it can never be used again (the access token lapses on its own)."""

    permission_classes = [AllowAny]

    class InputSerializer(StrictInputSerializer):
        refresh = serializers.CharField()

    @extend_schema(
        operation_id="auth_logout",
        request=InputSerializer,
        responses={204: OpenApiResponse(description="Logged out."), **error_responses(400, 401, 429)},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name", "email", "phone", "role", "email_verified", "phone_verified", "profile", "created_at"]
        read_only_fields = fields


class MeApi(APIView):
    """The signed-in user's own profile."""

    @extend_schema(operation_id="me_read", responses={200: UserOutputSerializer, **error_responses(401, 429)})
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)
