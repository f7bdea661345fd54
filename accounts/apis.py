"""Accounts over REST: sign-up, JWT tokens, the learner's own profile and phone OTP, a parent's children.

Thin by design: validate the body, call accounts.services / selectors, shape the answer.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenViewBase

from accounts import selectors, services, tokens
from accounts.identity import PHONE_HINT, PHONE_INPUT_PATTERN, identity_normalize
from accounts.models import AuthLog, Grade, User
from accounts.selectors import PROFILE_FIELDS
from analytics.attribution import utm_from_request
from cerebrum.api_tools import AuthRateThrottle, CreatedCursorPagination, StrictInputSerializer, error_responses


def phone_input(**kwargs) -> serializers.RegexField:
    """An Indian mobile as typed (98123 45678, +91-98123-45678, 098123 45678); the schema states the rule."""
    return serializers.RegexField(PHONE_INPUT_PATTERN, max_length=20, error_messages={"invalid": PHONE_HINT}, **kwargs)


def otp_code_input() -> serializers.RegexField:
    return serializers.RegexField(r"^[0-9]{6}$", error_messages={"invalid": "Enter the 6 digits from the message."})


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
        serializer = self.get_serializer(data=request.data)
        typed = request.data.get("username", "") if isinstance(request.data, dict) else ""
        identifier = identity_normalize(str(typed))
        try:
            serializer.is_valid(raise_exception=True)
        except AuthenticationFailed:
            services.auth_log_record(request=request, event=AuthLog.Event.LOGIN_FAILURE, identifier=identifier)
            raise
        services.auth_log_record(
            request=request, event=AuthLog.Event.LOGIN_SUCCESS, user=serializer.user, identifier=identifier
        )
        return Response(serializer.validated_data)


class TokenRefreshApi(TokenViewBase):
    """Trade a refresh token for a new pair. The old one is used up: of simultaneous refreshes of one
    token exactly one succeeds, a reused one is refused, and so is one minted before a password change."""

    class InputSerializer(StrictInputSerializer):
        refresh = serializers.CharField()

    serializer_class = InputSerializer

    @extend_schema(
        operation_id="auth_token_refresh",
        request=InputSerializer,
        responses={200: TokenPairOutputSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(tokens.refresh_token_rotate(refresh=serializer.validated_data["refresh"]))


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
            token = RefreshToken(serializer.validated_data["refresh"])
            token.blacklist()
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        # The token names its user; the log row needs only the id, so no user query.
        user = User(pk=token.payload.get(api_settings.USER_ID_CLAIM))
        services.auth_log_record(request=request, event=AuthLog.Event.LOGOUT, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileSerializer(serializers.Serializer):
    grade = serializers.ChoiceField(choices=Grade.choices, required=False)
    target_year = serializers.IntegerField(required=False)
    city = serializers.CharField(max_length=80, required=False, allow_blank=True)


class UserOutputSerializer(serializers.Serializer):
    """The learner's own profile. Role and verification flags are shown, never written from here."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    role = serializers.ChoiceField(choices=User.Role.choices)
    email_verified = serializers.BooleanField()
    phone_verified = serializers.BooleanField()
    profile = ProfileSerializer()


def user_output(user: User) -> dict:
    return UserOutputSerializer({field: getattr(user, field) for field in PROFILE_FIELDS}).data


class RegisterApi(APIView):
    """Create a student account and sign it in (access + refresh tokens)."""

    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    class InputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=150)
        email = serializers.EmailField(required=False, allow_null=True, allow_blank=True)
        phone = phone_input(required=False, allow_null=True, allow_blank=True)
        password = serializers.CharField(
            min_length=8, max_length=128, write_only=True, style={"input_type": "password"}
        )
        profile = ProfileSerializer(required=False)

    class OutputSerializer(serializers.Serializer):
        user = UserOutputSerializer()
        access = serializers.CharField()
        refresh = serializers.CharField()

    @extend_schema(
        operation_id="auth_register",
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 415, 429)},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.user_register(
            password=data["password"],
            name=data["name"],
            email=data.get("email") or None,
            phone=data.get("phone") or None,
            profile=data.get("profile"),
            utm=utm_from_request(request),
        )
        refresh = RefreshToken.for_user(user)
        body = {"user": user_output(user), "access": str(refresh.access_token), "refresh": str(refresh)}
        return Response(body, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    """The signed-in user's own profile: read (cache-aside, report 2.2) and update."""

    class InputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=150, required=False)
        grade = serializers.ChoiceField(choices=Grade.choices, required=False)
        target_year = serializers.IntegerField(required=False)
        city = serializers.CharField(max_length=80, required=False, allow_blank=True)

    @extend_schema(operation_id="me_read", responses={200: UserOutputSerializer, **error_responses(401, 429)})
    def get(self, request):
        return Response(UserOutputSerializer(selectors.user_profile_get(user_id=request.user.pk)).data)

    @extend_schema(
        operation_id="me_update",
        request=InputSerializer,
        responses={200: UserOutputSerializer, **error_responses(400, 401, 415, 429)},
    )
    def patch(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(user=request.user, **serializer.validated_data)
        return Response(user_output(user))


class OtpRequestApi(APIView):
    """Send a verification code to a phone number by WhatsApp."""

    throttle_classes = [AuthRateThrottle]

    class InputSerializer(StrictInputSerializer):
        phone = phone_input()

    class OutputSerializer(serializers.Serializer):
        phone = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="me_otp_request",
        request=InputSerializer,
        responses={202: OutputSerializer, **error_responses(400, 401, 415, 429)},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        otp = services.otp_request(user=request.user, phone=serializer.validated_data["phone"])
        return Response(self.OutputSerializer(otp).data, status=status.HTTP_202_ACCEPTED)


class OtpVerifyApi(APIView):
    """Check the code; on success the phone is set on the account and marked verified."""

    throttle_classes = [AuthRateThrottle]

    class InputSerializer(StrictInputSerializer):
        code = otp_code_input()

    @extend_schema(
        operation_id="me_otp_verify",
        request=InputSerializer,
        responses={200: UserOutputSerializer, **error_responses(400, 401, 415, 429)},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.otp_verify(user=request.user, code=serializer.validated_data["code"])
        return Response(user_output(user))


class PasswordResetApi(APIView):
    """Email a link to choose a new password. Always 202, whether or not an account uses the address."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AuthRateThrottle]

    class InputSerializer(StrictInputSerializer):
        email = serializers.EmailField()

    @extend_schema(
        operation_id="auth_password_reset",
        request=InputSerializer,
        responses={
            202: OpenApiResponse(description="If an account uses it, a link is on its way."),
            **error_responses(400, 415, 429),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetOtpRequestApi(APIView):
    """Send a reset code by WhatsApp to an account's mobile number. Always 202 for a valid Indian mobile."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AuthRateThrottle]

    class InputSerializer(StrictInputSerializer):
        phone = phone_input()

    @extend_schema(
        operation_id="auth_password_reset_otp_request",
        request=InputSerializer,
        responses={
            202: OpenApiResponse(description="If an account uses it, a code is on its way."),
            **error_responses(400, 415, 429),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_otp_request(phone=serializer.validated_data["phone"])
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetOtpConfirmApi(APIView):
    """Set a new password with the code; every earlier refresh token of the account stops working."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AuthRateThrottle]

    class InputSerializer(StrictInputSerializer):
        phone = phone_input()
        code = otp_code_input()
        password = serializers.CharField(
            min_length=8, max_length=128, write_only=True, style={"input_type": "password"}
        )

    @extend_schema(
        operation_id="auth_password_reset_otp_confirm",
        request=InputSerializer,
        responses={
            204: OpenApiResponse(description="Password changed; sign in with it."),
            **error_responses(400, 415, 429),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_otp_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChildOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    relation = serializers.CharField()
    grade = serializers.CharField()
    created_at = serializers.DateTimeField()


class ParentChildListApi(APIView):
    """A parent's linked children (anyone else sees an empty list)."""

    pagination_class = CreatedCursorPagination

    @extend_schema(
        operation_id="parent_children_list",
        responses={200: ChildOutputSerializer(many=True), **error_responses(400, 401, 429)},
    )
    def get(self, request):
        paginator = self.pagination_class()
        children = selectors.children_for_parent(parent=request.user)
        page = paginator.paginate_queryset(children, request, view=self)
        return paginator.get_paginated_response(ChildOutputSerializer(page, many=True).data)
