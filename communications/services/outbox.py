"""The outbox: writing rows, sending them, relaying lost ones, retries, delivery receipts, quiet hours.

Pipeline (docs/communications.md): `message_enqueue` writes outbox rows inside the caller's transaction
and publishes `message_send` on commit. `message_deliver` claims a row with a conditional UPDATE (a lease,
so a crashed worker's claim expires), decides consent again, sends it, and records SENT — or SKIPPED,
or schedules a retry, or FAILED. `outbox_relay` re-publishes rows whose task was lost. Delivery receipts
move rows forward only.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from cerebrum.errors import DomainError
from cerebrum.task_publish import task_publish
from communications import providers
from communications.catalog import MessageTemplate, template_get
from communications.models import Category, Channel, CommunicationLog, Suppression
from communications.selectors import (
    DEFAULT_CHANNELS,
    Consent,
    consent_by_user,
    consent_for_user,
    suppression_for,
)
from communications.services import consent as consent_services
from communications.validators import recipient_error

logger = logging.getLogger(__name__)
Status = CommunicationLog.Status
IST = ZoneInfo("Asia/Kolkata")
QUIET_START_HOUR, QUIET_END_HOUR = 21, 9
RELAY_BATCH = 500


@transaction.atomic
def message_enqueue(
    *,
    template: str,
    context: dict,
    idempotency_key: str,
    user=None,
    channels: list[str] | None = None,
    recipient: str | None = None,
    category: str | None = None,
) -> list[CommunicationLog]:
    """Write one outbox row per channel in the caller's transaction; each is sent after commit.

    Idempotent by `idempotency_key` (per channel). `category` defaults to the template's. The channels
    are the ones the user's consent allows now (Consent.channels_for: marketing only where accepted,
    transactional on the accepted channels or else email); whether a row really leaves is decided
    again at send time. An invalid explicit `recipient` is refused with a DomainError; an invalid
    address on the user's profile gives a FAILED row at once (visible in the admin) instead of failing
    the caller's business transaction.
    """
    spec = template_get(template)
    category = _category(spec, category)
    requested = _known_channels(channels or list(DEFAULT_CHANNELS))
    if recipient is not None:
        _refuse_bad_recipient(requested, recipient)
        addresses = dict.fromkeys(requested, recipient)
        wanted = requested
    else:
        addresses = {channel: _address(user, channel) for channel in Channel.values}
        wanted = _channels_for(spec, category, user, requested, addresses)
    params = _params_for(spec, context, user)
    keys = {channel: f"{idempotency_key}:{channel}" for channel in wanted if addresses.get(channel)}
    existing = {row.idempotency_key: row for row in CommunicationLog.objects.filter(idempotency_key__in=keys.values())}
    fresh = [
        _outbox_row(spec, category, channel, addresses[channel], params, user, key)
        for channel, key in keys.items()
        if key not in existing
    ]
    _insert_new(fresh, existing)
    return [existing[key] for key in keys.values()]


@transaction.atomic
def message_enqueue_many(
    *, template: str, recipients: list[tuple], channels: list[str] | None = None, category: str | None = None
) -> int:
    """message_enqueue for many users at once (journeys): `recipients` holds (user, context, key).

    A fixed number of queries per call instead of several per user; returns how many rows were written.
    """
    spec = template_get(template)
    category = _category(spec, category)
    requested = _known_channels(channels or list(DEFAULT_CHANNELS))
    consents = consent_by_user(user_ids=[user.pk for user, _, _ in recipients])
    fresh = {}
    for user, context, key in recipients:
        params = _params_for(spec, context, user)
        addresses = {channel: _address(user, channel) for channel in Channel.values}
        consent = consents.get(user.pk, Consent())
        allowed = (
            requested
            if spec.urgent
            else consent.channels_for(category=category, requested=requested, addresses=addresses)
        )
        for channel in allowed:
            row_key = f"{key}:{channel}"
            fresh[row_key] = _outbox_row(spec, category, channel, addresses[channel], params, user, row_key)
    existing = {row.idempotency_key: row for row in CommunicationLog.objects.filter(idempotency_key__in=list(fresh))}
    new_rows = [row for key, row in fresh.items() if key not in existing]
    _insert_new(new_rows, existing)
    return len(new_rows)


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


def outbox_relay(*, now: datetime | None = None) -> list[int]:
    """Re-publish due rows whose send task was lost or whose worker died; returns their ids."""
    from communications.tasks import message_send  # the task module imports this one

    now = now or timezone.now()
    due = CommunicationLog.objects.filter(_relay_due(now)).order_by("scheduled_for")
    ids = list(due.values_list("pk", flat=True)[:RELAY_BATCH])
    # Conditional again: a row picked up in between is not published twice by two relays.
    CommunicationLog.objects.filter(_relay_due(now), pk__in=ids).update(enqueued_at=now, updated_at=now)
    for pk in ids:
        message_send.delay(pk)
    return ids


@transaction.atomic
def message_retry(*, log: CommunicationLog) -> CommunicationLog:
    """Staff's retry of a dead letter: FAILED → QUEUED with a fresh attempt budget."""
    from communications.tasks import message_send

    locked = CommunicationLog.objects.select_for_update().get(pk=log.pk)
    if locked.status != Status.FAILED:
        raise DomainError(f"Only failed messages can be retried; this one is {locked.get_status_display()}.")
    error = recipient_error(locked.channel, locked.recipient)
    if error:
        raise DomainError(f"The recipient is invalid: {error}", fields={"recipient": [error]})
    now = timezone.now()
    locked.status, locked.attempts, locked.claimed_at = Status.QUEUED, 0, None
    locked.scheduled_for, locked.enqueued_at, locked.error = now, now, ""
    locked.save(
        update_fields=["status", "attempts", "claimed_at", "scheduled_for", "enqueued_at", "error", "updated_at"]
    )
    transaction.on_commit(lambda: _publish(message_send, locked.pk))
    return locked


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


def quiet_hours_release(moment: datetime) -> datetime:
    """When a marketing message due at `moment` may go out: `moment` itself between 09:00 and 21:00
    IST, else the next 09:00 IST (quiet hours, 21:00-09:00 IST, the academy's rule for learners)."""
    local = moment.astimezone(IST)
    if QUIET_END_HOUR <= local.hour < QUIET_START_HOUR:
        return moment
    release = local.replace(hour=QUIET_END_HOUR, minute=0, second=0, microsecond=0)
    if local.hour >= QUIET_START_HOUR:
        release += timedelta(days=1)
    return release.astimezone(UTC)


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: base·2^(n-1), scaled by a random 50-100%, capped at an hour."""
    ceiling = min(settings.COMMUNICATIONS_RETRY_BASE_SECONDS * 2 ** (attempt - 1), 3600)
    return ceiling * random.uniform(0.5, 1.0)


# --- internals ---------------------------------------------------------------------------------


def _category(spec: MessageTemplate, category: str | None) -> str:
    category = category or spec.category
    if category not in Category.values:
        raise DomainError("Unknown category.", fields={"category": [f"Choose one of {', '.join(Category.values)}."]})
    return category


def _known_channels(channels: list[str]) -> list[str]:
    unknown = [c for c in channels if c not in Channel.values]
    if unknown:
        raise DomainError("Unknown channel.", fields={"channels": [f"Unknown channel(s): {', '.join(unknown)}."]})
    return list(dict.fromkeys(channels))


def _channels_for(spec: MessageTemplate, category: str, user, channels: list[str], addresses: dict) -> list[str]:
    if spec.urgent or user is None:
        return channels
    return consent_for_user(user_id=user.pk).channels_for(category=category, requested=channels, addresses=addresses)


def _refuse_bad_recipient(channels: list[str], recipient: str) -> None:
    for channel in channels:
        error = recipient_error(channel, recipient)
        if error:
            raise DomainError(f"Cannot send {channel} to {recipient!r}: {error}", fields={"recipient": [error]})


def _params_for(spec: MessageTemplate, context: dict, user) -> dict:
    defaults = {"name": getattr(user, "name", "") or "Learner", "minutes": 5, "url": settings.SITE_URL}
    params = {key: context.get(key, defaults.get(key)) for key in spec.params}
    missing = [key for key, value in params.items() if value in (None, "")]
    if missing:
        raise DomainError(
            f"Message {spec.name!r} needs {', '.join(missing)}.",
            fields={"context": [f"Missing: {', '.join(missing)}."]},
        )
    return {key: str(value) for key, value in params.items()}


def _outbox_row(spec, category: str, channel: str, to: str, params: dict, user, key: str) -> CommunicationLog:
    now = timezone.now()
    error = recipient_error(channel, to)
    row = CommunicationLog(
        user=user,
        channel=channel,
        template=spec.name,
        category=category,
        params=params,
        recipient=to,
        idempotency_key=key,
    )
    row.scheduled_for = quiet_hours_release(now) if _waits_for_quiet_hours(spec, category) else now
    row.status = Status.FAILED if error else Status.QUEUED
    row.error = f"refused at creation: {error}" if error else ""
    row.enqueued_at = now if not error and row.scheduled_for <= now else None
    # The user is an instance in hand: skip the per-row existence query for the foreign key.
    row.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    return row


def _insert_new(fresh: list[CommunicationLog], existing: dict[str, CommunicationLog]) -> None:
    """Insert the new rows into `existing` and publish them on commit; a concurrent caller's rows win."""
    from communications.tasks import message_send  # the task module imports this one

    if not fresh:
        return
    try:
        with transaction.atomic():
            CommunicationLog.objects.bulk_create(fresh)
        inserted = fresh
    except IntegrityError:
        # Someone inserted one of these keys meanwhile: go row by row so the others still go in.
        inserted = [row for row in fresh if _insert_one(row, existing)]
    for row in inserted:
        existing[row.idempotency_key] = row
        if row.enqueued_at:
            transaction.on_commit(lambda pk=row.pk: _publish(message_send, pk))


def _publish(task, log_id: int) -> None:
    """Publish the send task; with the broker unreachable the row stays QUEUED and outbox_relay
    publishes it later, so the business write that committed is never answered with a 500 (issue 20:
    restarting the broker Redis under load failed 8 submits that had been stored)."""
    task_publish(task, log_id, if_unreachable="leave")


def _insert_one(row: CommunicationLog, existing: dict[str, CommunicationLog]) -> bool:
    row.pk = None
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        existing[row.idempotency_key] = CommunicationLog.objects.get(idempotency_key=row.idempotency_key)
        return False
    return True


def _address(user, channel: str) -> str:
    if user is None:
        return ""
    return (user.email if channel == Channel.EMAIL else user.phone) or ""


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
    if _waits_for_quiet_hours(template_get(row.template), row.category) and quiet_hours_release(due) > due:
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


def _waits_for_quiet_hours(spec: MessageTemplate, category: str) -> bool:
    """Marketing waits out quiet hours on every channel; transactional and urgent messages never wait."""
    return category == Category.MARKETING and not spec.urgent


def _held_by_consent(row: CommunicationLog, spec: MessageTemplate, claimed_at: datetime) -> bool:
    """Decide at send time whether `row` may leave now; if not, record why (SKIPPED, or deferred) and say so."""
    reason = _refusal_reason(row, spec)
    if reason:
        _finish(row, claimed_at, status=Status.SKIPPED, error=reason)
        if row.category == Category.TRANSACTIONAL and row.user_id and not spec.urgent:
            _transactional_fallback(row)
        return True
    if _waits_for_quiet_hours(spec, row.category) and quiet_hours_release(claimed_at) > claimed_at:
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
    return {channel: _address(user, channel) for channel in Channel.values}


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


def _relay_due(now: datetime) -> Q:
    lease_cutoff = now - timedelta(seconds=settings.COMMUNICATIONS_CLAIM_LEASE_SECONDS)
    stale = now - timedelta(seconds=settings.COMMUNICATIONS_RELAY_AFTER_SECONDS)
    return (
        Q(status=Status.QUEUED, scheduled_for__lte=now)
        & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=lease_cutoff))
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
    )
