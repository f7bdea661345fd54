"""Sending outbox rows and what comes back: claiming and sending a row, retries, refusals, delivery receipts.

`message_deliver` (run by the `message_send` task) claims a row with a conditional UPDATE (a lease, so a
crashed worker's claim expires), decides consent again, sends it, and records SENT — or SKIPPED, or
schedules a retry, or FAILED. A hard bounce or WhatsApp's "stopped marketing" is recorded through
`consent`. Delivery receipts move rows forward only. Writing rows and publishing them is `outbox`.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from communications import providers
from communications.catalog import MessageTemplate, template_get
from communications.models import Category, Channel, CommunicationLog, Suppression
from communications.selectors import DEFAULT_CHANNELS, consent_for_user, suppression_for
from communications.services import consent as consent_services
from communications.services.outbox import message_enqueue, quiet_hours_release, user_address, waits_for_quiet_hours

logger = logging.getLogger(__name__)
Status = CommunicationLog.Status


def message_deliver(*, log_id: int) -> float | None:
    """Claim and send one row. Returns seconds until a retry is due, or None when nothing is left to do.

    Every claim (first send, retry, relay, release after quiet hours) decides consent again from the
    learner's current choices and the suppression list: a row that may no longer go ends SKIPPED with
    the reason, without calling the provider; a marketing row claimed in quiet hours waits for 09:00 IST.

    No transaction around the network call: the claim and the outcome are each one conditional UPDATE,
    so a crash at any point leaves a row that the relay heals once the claim's lease expires.
    """
    claim = _claim(log_id)
    if claim is None:
        return None
    row, claimed_at = claim
    spec = template_get(row.template)
    if spec.lifetime and row.created_at + spec.lifetime < claimed_at:
        _finish(row, claimed_at, status=Status.FAILED, error="expired before it could be sent")
        return None
    if _held_by_consent(row, spec, claimed_at):
        return None
    try:
        provider_id = providers.send(row)
    except providers.PermanentError as exc:
        _finish(row, claimed_at, status=Status.FAILED, error=str(exc))
        _learn_from_refusal(row, exc)
        return None
    except Exception as exc:  # noqa: BLE001 — every other error (timeouts, 5xx, soft time limit) is retried
        return _retry_or_fail(row, claimed_at, error=f"{type(exc).__name__}: {exc}")
    _finish(row, claimed_at, status=Status.SENT, provider_message_id=provider_id)
    return None


# Receipts only move forward; a late "delivered" never overwrites "read".
RECEIPT_TRANSITIONS = {
    "delivered": (Status.DELIVERED, (Status.SENT,)),
    "read": (Status.READ, (Status.SENT, Status.DELIVERED)),
    "failed": (Status.FAILED, (Status.SENT, Status.DELIVERED)),
}


def delivery_receipt_record(*, provider_message_id: str, status: str, error: str = "") -> bool:
    """Apply one provider status ("sent", "delivered", "read", "failed"); True if the row moved."""
    receipt = {"provider_message_id": provider_message_id, "status": status, "error": error}
    return delivery_receipts_record(receipts=[receipt]) == 1


@transaction.atomic
def delivery_receipts_record(*, receipts: list[dict]) -> int:
    """Apply a webhook's batch of receipts with one UPDATE per (status, error), not one per message.

    Applied in lifecycle order, so "delivered" and "read" for one message in one batch end at READ.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for receipt in receipts:
        if receipt["status"] in RECEIPT_TRANSITIONS:
            error = receipt.get("error", "") if receipt["status"] == "failed" else ""
            groups.setdefault((receipt["status"], error), []).append(receipt["provider_message_id"])
    order = list(RECEIPT_TRANSITIONS)
    moved = 0
    for (status, error), ids in sorted(groups.items(), key=lambda item: order.index(item[0][0])):
        new_status, allowed_from = RECEIPT_TRANSITIONS[status]
        changes = {"status": new_status, "updated_at": timezone.now()}
        if new_status == Status.FAILED:
            changes["error"] = error or "failed after sending (provider receipt)"
        moved += CommunicationLog.objects.filter(provider_message_id__in=ids, status__in=allowed_from).update(**changes)
    _marketing_stopped_receipts(receipts)
    return moved


def _marketing_stopped_receipts(receipts: list[dict]) -> None:
    """A message refused with WhatsApp's 131050 (the user stopped marketing): record the opt-out."""
    stopped = [
        r["provider_message_id"] for r in receipts if r.get("error_code") == providers.WHATSAPP_MARKETING_STOPPED_CODE
    ]
    if not stopped:
        return
    rows = CommunicationLog.objects.filter(provider_message_id__in=stopped, channel=Channel.WHATSAPP)
    for user_id, recipient in rows.values_list("user_id", "recipient").distinct():
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        consent_services.marketing_opt_out(
            channel=Channel.WHATSAPP, user=user, address=recipient, source="WhatsApp stop promotions", confirm=True
        )


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: base·2^(n-1), scaled by a random 50-100%, capped at an hour."""
    ceiling = min(settings.COMMUNICATIONS_RETRY_BASE_SECONDS * 2 ** (attempt - 1), 3600)
    return ceiling * random.uniform(0.5, 1.0)


# --- internals ---------------------------------------------------------------------------------


def _claim(log_id: int) -> tuple[CommunicationLog, datetime] | None:
    """Take the row for this worker unless another live claim holds it; the claim time is the token."""
    now = timezone.now()
    lease_cutoff = now - timedelta(seconds=settings.COMMUNICATIONS_CLAIM_LEASE_SECONDS)
    claimed = CommunicationLog.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=lease_cutoff),
        pk=log_id,
        status=Status.QUEUED,
        scheduled_for__lte=now,
    ).update(claimed_at=now, attempts=F("attempts") + 1, updated_at=now)
    if not claimed:
        return None
    return CommunicationLog.objects.get(pk=log_id), now


def _finish(row: CommunicationLog, claimed_at: datetime, *, status: str, error: str = "", provider_message_id=None):
    now = timezone.now()
    changes = {"status": status, "claimed_at": None, "error": error, "updated_at": now}
    secret = template_get(row.template).secret_params
    if secret:
        # Once sent or given up, a one-time code has no reason to stay readable in the outbox.
        changes["params"] = {key: "••••••" if key in secret else value for key, value in row.params.items()}
    if status == Status.SENT:
        changes.update(sent_at=now, provider_message_id=provider_message_id)
    finished = _mine(row, claimed_at).update(**changes)
    if not finished:
        logger.warning("outbox row %s: claim lost before recording %s", row.pk, status)


def _retry_or_fail(row: CommunicationLog, claimed_at: datetime, *, error: str) -> float | None:
    if row.attempts >= settings.COMMUNICATIONS_MAX_ATTEMPTS:
        _finish(row, claimed_at, status=Status.FAILED, error=f"gave up after {row.attempts} attempts: {error}")
        return None
    delay = retry_delay(row.attempts)
    due = timezone.now() + timedelta(seconds=delay)
    if waits_for_quiet_hours(template_get(row.template), row.category) and quiet_hours_release(due) > due:
        # A marketing retry falling in quiet hours waits for 09:00 IST; the relay publishes it then.
        _mine(row, claimed_at).update(
            claimed_at=None,
            error=error,
            scheduled_for=quiet_hours_release(due),
            enqueued_at=None,
            updated_at=timezone.now(),
        )
        return None
    _mine(row, claimed_at).update(
        claimed_at=None, error=error, scheduled_for=due, enqueued_at=due, updated_at=timezone.now()
    )
    return delay


def _held_by_consent(row: CommunicationLog, spec: MessageTemplate, claimed_at: datetime) -> bool:
    """Decide at send time whether `row` may leave now; if not, record why (SKIPPED, or deferred) and say so."""
    reason = _refusal_reason(row, spec)
    if reason:
        _finish(row, claimed_at, status=Status.SKIPPED, error=reason)
        if row.category == Category.TRANSACTIONAL and row.user_id and not spec.urgent:
            _transactional_fallback(row)
        return True
    if waits_for_quiet_hours(spec, row.category) and quiet_hours_release(claimed_at) > claimed_at:
        # Not an attempt: give the attempt back and let the relay publish the row at 09:00 IST.
        _mine(row, claimed_at).update(
            claimed_at=None,
            attempts=F("attempts") - 1,
            scheduled_for=quiet_hours_release(claimed_at),
            enqueued_at=None,
            updated_at=timezone.now(),
        )
        return True
    return False


def _refusal_reason(row: CommunicationLog, spec: MessageTemplate) -> str:
    """Why `row` may not be sent now ("" when it may), from the suppression list and current consent."""
    suppression = suppression_for(channel=row.channel, address=row.recipient, category=row.category)
    if suppression:
        return f"suppressed address: {suppression.get_reason_display().lower()} {suppression.detail}".strip()
    if row.user_id is None or spec.urgent:
        return ""
    consent = consent_for_user(user_id=row.user_id)
    if row.category == Category.MARKETING:
        if row.channel in consent.opted_out:
            return f"the learner opted out of {row.channel}"
        if row.channel in consent.marketing_opted_out:
            return f"the learner opted out of marketing on {row.channel}"
        return ""
    if row.channel not in consent.opted_out:
        return ""
    allowed = consent.channels_for(
        category=row.category, requested=[*DEFAULT_CHANNELS, row.channel], addresses=_current_addresses(row.user_id)
    )
    return "" if row.channel in allowed else f"the learner opted out of {row.channel}"


def _transactional_fallback(row: CommunicationLog) -> None:
    """A skipped transactional row: write the same message on the channels the learner accepts now."""
    user = get_user_model().objects.filter(pk=row.user_id).first()
    if user is None:
        return
    base_key = row.idempotency_key.rpartition(":")[0]
    message_enqueue(
        template=row.template,
        context=row.params,
        idempotency_key=base_key,
        user=user,
        channels=list(DEFAULT_CHANNELS),
        category=row.category,
    )


def _current_addresses(user_id: int) -> dict[str, str]:
    user = get_user_model().objects.filter(pk=user_id).only("email", "phone").first()
    return {channel: user_address(user, channel) for channel in Channel.values}


def _learn_from_refusal(row: CommunicationLog, exc: providers.PermanentError) -> None:
    """A hard bounce suppresses the address; WhatsApp's "stopped marketing" error is a marketing opt-out."""
    if exc.kind == providers.PermanentError.HARD_BOUNCE:
        consent_services.suppression_add(
            channel=row.channel, address=row.recipient, reason=Suppression.Reason.HARD_BOUNCE, detail=str(exc)[:500]
        )
    elif exc.kind == providers.PermanentError.MARKETING_STOPPED:
        user = get_user_model().objects.filter(pk=row.user_id).first() if row.user_id else None
        consent_services.marketing_opt_out(
            channel=row.channel, user=user, address=row.recipient, source="WhatsApp stop promotions", confirm=True
        )


def _mine(row: CommunicationLog, claimed_at: datetime):
    return CommunicationLog.objects.filter(pk=row.pk, status=Status.QUEUED, claimed_at=claimed_at)
