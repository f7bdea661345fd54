"""Accounts writes about proof and secrets: phone OTP, setting a password, deactivation, password reset.

A new password or a deactivation revokes every refresh token (accounts.tokens) and clears the login
cap (accounts.lockout). Reset answers never depend on whether an account exists (docs/accounts.md).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import caches
from accounts.identity import identity_normalize, is_email
from accounts.lockout import account_failures_clear
from accounts.models import PhoneOTP, User
from accounts.services.users import phone_clean
from accounts.tokens import user_tokens_revoke
from cerebrum.bindings import Binding
from cerebrum.errors import DomainError
from cerebrum.task_publish import task_publish
from communications.services import message_enqueue

OTP_TTL = timedelta(minutes=5)
OTP_MAX_ATTEMPTS = 5
OTP_RATE_WINDOW = timedelta(minutes=10)
OTP_RATE_LIMIT = 3
OTP_KEEP = timedelta(days=7)  # support can still see recent sends in the admin
PASSWORD_RESET_LIMIT = 3
# The tasks of accounts/tasks.py, which imports this module (bound in AccountsConfig.ready).
password_reset_send_task = Binding("accounts.password_reset_send")
password_reset_otp_send_task = Binding("accounts.password_reset_otp_send")
PASSWORD_RESET_WINDOW_SECONDS = 60 * 60


# --- Phone verification ---------------------------------------------------------------------


@transaction.atomic
def otp_request(*, user: User, phone: str) -> PhoneOTP:
    """Send a 6-digit code by WhatsApp; only its hash is stored. At most 3 per 10 minutes per user and per phone."""
    phone = phone_clean(phone, "phone")
    # Lock the user row so two simultaneous requests cannot both slip under the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if User.objects.filter(phone=phone).exclude(pk=user.pk).exists():
        raise DomainError("This phone number belongs to another account.", fields={"phone": ["Already in use."]})
    if _otp_recent(user=user, phone=phone) >= OTP_RATE_LIMIT:
        raise DomainError(
            "Too many codes requested. Wait 10 minutes and try again.", code="rate_limited", fields={"phone": []}
        )
    return _otp_send(user=user, phone=phone, purpose=PhoneOTP.Purpose.VERIFY_PHONE)


def otp_verify(*, user: User, code: str) -> User:
    """Check the latest code; a wrong code uses up one of 5 tries, and that count survives the refusal."""
    user, refusal = _otp_check(user=user, code=(code or "").strip(), purpose=PhoneOTP.Purpose.VERIFY_PHONE)
    if refusal is not None:
        raise refusal
    return user  # the phone's save dropped the cached copies (accounts.backends)


def _otp_recent(*, user: User, phone: str) -> int:
    since = timezone.now() - OTP_RATE_WINDOW
    recent = PhoneOTP.objects.filter(created_at__gte=since, user=user).count()
    return max(recent, PhoneOTP.objects.filter(created_at__gte=since, phone=phone).count())


def _otp_send(*, user: User, phone: str, purpose: str) -> PhoneOTP:
    code = f"{secrets.randbelow(10**6):06d}"
    otp = PhoneOTP(
        user=user, phone=phone, purpose=purpose, code_hash=otp_hash(phone, code), expires_at=timezone.now() + OTP_TTL
    )
    otp.full_clean()
    otp.save()
    message_enqueue(
        template="otp",
        channels=["WHATSAPP"],
        recipient=phone,
        context={"code": code, "minutes": int(OTP_TTL.total_seconds() // 60)},
        idempotency_key=f"otp:{otp.pk}",
        user=user,
    )
    return otp


@transaction.atomic
def _otp_check(*, user: User, code: str, purpose: str) -> tuple[User, DomainError | None]:
    # Returns the refusal instead of raising it so the attempts counter is committed, not rolled back.
    otp = (
        PhoneOTP.objects.select_for_update()
        .filter(user=user, purpose=purpose, consumed_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    now = timezone.now()
    if otp is None:
        return user, _otp_refusal("No code is waiting. Request a new one.", "otp_missing")
    if otp.expires_at <= now:
        return user, _otp_refusal("This code has expired. Request a new one.", "otp_expired")
    if otp.attempts >= OTP_MAX_ATTEMPTS:
        return user, _otp_refusal("Too many wrong tries. Request a new code.", "otp_locked")
    if not constant_time_compare(otp.code_hash, otp_hash(otp.phone, code)):
        otp.attempts += 1
        otp.save(update_fields=["attempts"])
        left = OTP_MAX_ATTEMPTS - otp.attempts
        message = f"Wrong code. {left} tries left." if left else "Wrong code. Request a new code."
        return user, _otp_refusal(message, "otp_wrong")
    if User.objects.filter(phone=otp.phone).exclude(pk=user.pk).exists():
        return user, _otp_refusal("This phone number belongs to another account.", "phone_taken")
    otp.consumed_at = now
    otp.save(update_fields=["consumed_at"])
    user.phone, user.phone_verified = otp.phone, True
    user.save(update_fields=["phone", "phone_verified"])
    return user, None


def otp_purge(*, older_than: timedelta = OTP_KEEP) -> int:
    """Delete codes past any use (expired long ago); the 10-minute rate-limit window needs only recent rows."""
    deleted, _ = PhoneOTP.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted


def _otp_refusal(message: str, code: str) -> DomainError:
    return DomainError(message, code=code, fields={"code": [message]})


def otp_hash(phone: str, code: str) -> str:
    """HMAC with the secret key: a leaked table cannot be brute-forced offline without the key."""
    return salted_hmac("accounts.otp", f"{phone}:{code}", algorithm="sha256").hexdigest()


# --- Passwords, deactivation, password reset -----------------------------------------------------


@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    """A new password (reset by email or OTP, the admin): every refresh token ends and the lockout clears.

    Other sessions end too: Django checks each session's password hash on every request, and the
    save drops the cached session user (accounts.backends).
    """
    try:
        password_validation.validate_password(password or "", user)
    except ValidationError as error:
        raise DomainError("Please correct the errors below.", fields={"password": list(error.messages)}) from error
    user.set_password(password)
    user.save(update_fields=["password"])
    user_tokens_revoke(user=user)
    identities = [key for key in (user.email, user.phone) if key]
    transaction.on_commit(lambda: _failures_clear(identities))
    return user


def _failures_clear(identities: list[str]) -> None:
    for identity in identities:
        account_failures_clear(identity)


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Switch an account off: no login, no session, no access or refresh token keeps working."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_tokens_revoke(user=user)
    return user


def password_reset_request(*, email: str) -> None:
    """Ask for a reset link: the same work in the request whether or not an account uses the address.

    Here only the per-address limit (3 an hour) and, after commit, one task publish; the task
    (`password_reset_send`) looks the address up and writes the outbox row. So neither the answer nor
    the request's work tells a visitor which addresses have accounts (with no broker, in the embedded
    default, the task runs inline and the difference shows again).
    """
    identity = identity_normalize(email)
    if not is_email(identity) or not _reset_allowed(identity):
        return
    nonce = secrets.token_hex(8)
    # Broker down: the task runs here, so the link still goes (its timing then differs, as embedded).
    transaction.on_commit(lambda: task_publish(password_reset_send_task, identity, nonce, if_unreachable="run_here"))


@transaction.atomic
def password_reset_send(*, email: str, nonce: str) -> int:
    """Queue a reset link through the outbox for each active account with this email; returns how many.

    Idempotent per request (`nonce`): a retried task writes no second row. Links use SITE_URL, never
    the request's Host header (which a visitor chooses).
    """
    users = [u for u in User.objects.filter(email=email, is_active=True) if u.has_usable_password()]
    for user in users:
        path = reverse(
            "accounts:password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        message_enqueue(
            template="password_reset",
            channels=["EMAIL"],
            context={"name": user.name, "url": f"{settings.SITE_URL.rstrip('/')}{path}"},
            idempotency_key=f"password-reset:{nonce}:{user.pk}",
            user=user,
        )
    return len(users)


def password_reset_otp_request(*, phone: str) -> None:
    """Ask for a reset code by WhatsApp: a refusal only for a number that is no Indian mobile, and then
    the same work whether or not an account has the number (one task publish after commit).

    For phone-only learners (no email to receive a link); the task (`password_reset_otp_send`) finds
    the account and sends the code.
    """
    phone = phone_clean(phone, "phone")
    transaction.on_commit(lambda: task_publish(password_reset_otp_send_task, phone, if_unreachable="run_here"))


@transaction.atomic
def password_reset_otp_send(*, phone: str) -> PhoneOTP | None:
    """Send a reset code to the active account with this E.164 number; None when there is none or the
    number already had 3 codes in 10 minutes (the same limit as phone verification)."""
    user = User.objects.select_for_update().filter(phone=phone, is_active=True).first()
    if user is None or _otp_recent(user=user, phone=phone) >= OTP_RATE_LIMIT:
        return None
    return _otp_send(user=user, phone=phone, purpose=PhoneOTP.Purpose.PASSWORD_RESET)


def password_reset_otp_confirm(*, phone: str, code: str, password: str) -> User:
    """Set a new password with the code sent to the account's mobile number; proves the number too.

    A wrong code uses up one of 5 tries (committed, so it survives the refusal); an unknown number
    gets the same refusal as a wrong code.
    """
    phone = phone_clean(phone, "phone")
    user = User.objects.filter(phone=phone, is_active=True).first()
    try:
        # Checked for an unknown number too: a refusal that only known numbers got would tell which have accounts.
        password_validation.validate_password(password or "", user)
    except ValidationError as error:
        raise DomainError("Please correct the errors below.", fields={"password": list(error.messages)}) from error
    if user is None:
        raise _otp_refusal("Wrong or expired code. Request a new one.", "otp_wrong")
    _, refusal = _otp_check(user=user, code=(code or "").strip(), purpose=PhoneOTP.Purpose.PASSWORD_RESET)
    if refusal is not None:
        raise refusal
    return user_password_set(user=User.objects.get(pk=user.pk), password=password)


def _reset_allowed(identity: str) -> bool:
    """At most 3 reset emails per address per hour, so the form cannot be used to flood an inbox."""
    sent = caches.counter_add(caches.password_reset_key(identity), PASSWORD_RESET_WINDOW_SECONDS)
    return sent is None or sent <= PASSWORD_RESET_LIMIT  # None: the counter vanished (Redis down): let it through
