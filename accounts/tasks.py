"""Celery tasks of the accounts app: thin, call services, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from accounts import services


@shared_task(name="accounts.otp_purge", acks_late=True, ignore_result=True)
def otp_purge() -> int:
    """Daily: drop phone codes that expired more than a week ago."""
    return services.otp_purge()


@shared_task(name="accounts.password_reset_send", acks_late=True, ignore_result=True)
def password_reset_send(email: str, nonce: str) -> int:
    """Look the address up and queue its reset link (outbox); the request that asked did neither."""
    return services.password_reset_send(email=email, nonce=nonce)


@shared_task(name="accounts.password_reset_otp_send", acks_late=True, ignore_result=True)
def password_reset_otp_send(phone: str) -> bool:
    """Find the account with this number and send its reset code; the request that asked did neither."""
    return services.password_reset_otp_send(phone=phone) is not None


@shared_task(name="accounts.last_active_flush", acks_late=True, ignore_result=True)
def last_active_flush() -> int:
    """Every minute: write the last-active marks the request path left in Redis (one bulk UPDATE)."""
    return services.last_active_flush()
