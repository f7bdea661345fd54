"""JWT refresh tokens: rotation that exactly one caller wins, and revocation with the password.

simplejwt keeps every refresh token it issues as an `OutstandingToken` and a used or revoked one as a
`BlacklistedToken` (one-to-one, so unique per token). Rotation claims the old token by inserting its
blacklist row: of N simultaneous refreshes of one token, the database lets exactly one insert commit
and the others get 401 (simplejwt's own serializer checks, then get_or_creates — two callers both
passed the check). Tokens also carry a digest of the password hash (SIMPLE_JWT CHECK_REVOKE_TOKEN),
so a password set by any path (reset, the admin, `changepassword`) ends them even before
`user_tokens_revoke` blacklists them.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from accounts.models import User


@transaction.atomic
def refresh_token_rotate(*, refresh: str) -> dict[str, str]:
    """A new access + refresh pair for a valid refresh token, which is used up by this call.

    Refused (InvalidToken, 401) when the token is expired, forged, already used or revoked, when its
    learner is gone or deactivated, or when the password changed since it was issued.
    """
    try:
        old = RefreshToken(refresh)  # signature, expiry, type and the blacklist
    except TokenError as error:
        raise InvalidToken(error.args[0]) from error
    user = User.objects.filter(pk=old.payload.get(api_settings.USER_ID_CLAIM)).first()
    if user is None or not user.is_active:
        raise InvalidToken("The token's user no longer exists or is deactivated.")
    if old.payload.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise InvalidToken("The password changed since this token was issued. Sign in again.")
    _claim(old, user=user, raw=refresh)
    new = RefreshToken.for_user(user)
    return {"access": str(new.access_token), "refresh": str(new)}


@transaction.atomic
def user_tokens_revoke(*, user: User) -> int:
    """Blacklist every unexpired refresh token of `user`; returns how many were still live."""
    live = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    ).values_list("pk", flat=True)
    rows = [BlacklistedToken(token_id=pk) for pk in live]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _claim(token: RefreshToken, *, user: User, raw: str) -> None:
    """Insert the token's blacklist row; the unique constraint lets exactly one concurrent caller win."""
    jti = token.payload[api_settings.JTI_CLAIM]
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=jti,
        defaults={
            "user": user,
            "token": raw,
            "created_at": datetime_from_epoch(token.payload["iat"]) if "iat" in token.payload else None,
            "expires_at": datetime_from_epoch(token.payload["exp"]),
        },
    )
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError as error:
        raise InvalidToken("Token is blacklisted") from error
