"""Celery tasks of the communications queue: thin, take ids, call services, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from communications import services

# acks_late + reject_on_worker_lost: a task whose worker dies goes back to the broker; the row's claim
# lease (COMMUNICATIONS_CLAIM_LEASE_SECONDS) outlasts the hard time limit, so a live send is never stolen.
SEND_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "time_limit": settings.COMMUNICATIONS_SEND_TIME_LIMIT,
    "soft_time_limit": settings.COMMUNICATIONS_SEND_TIME_LIMIT - 10,
    "ignore_result": True,
}


@shared_task(name="communications.message_send", **SEND_OPTIONS)
def message_send(log_id: int) -> None:
    retry_in = services.message_deliver(log_id=log_id)
    if retry_in is not None:
        message_send.apply_async((log_id,), countdown=retry_in)


@shared_task(name="communications.outbox_relay", acks_late=True, ignore_result=True)
def outbox_relay() -> int:
    return len(services.outbox_relay())
