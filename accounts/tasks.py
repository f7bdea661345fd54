"""Celery tasks of the accounts app: thin, call services, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from accounts import services


@shared_task(name="accounts.otp_purge", acks_late=True, ignore_result=True)
def otp_purge() -> int:
    """Daily: drop phone codes that expired more than a week ago."""
    return services.otp_purge()
