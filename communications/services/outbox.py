"""The outbox: writing rows, publishing them, relaying lost ones, staff retries, quiet hours.

Pipeline (docs/communications.md): `message_enqueue` writes outbox rows inside the caller's transaction
and publishes `message_send` on commit; the task runs `delivery.message_deliver`. `outbox_relay`
re-publishes rows whose task was lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation

from cerebrum.bindings import Binding
from cerebrum.errors import DomainError
from cerebrum.task_publish import task_publish
from communications.catalog import MessageTemplate, template_get
from communications.models import Category, Channel, CommunicationLog
from communications.selectors import (
    DEFAULT_CHANNELS,
    Consent,
    consent_by_user,
    consent_for_user,
)
from communications.validators import recipient_error

logger = logging.getLogger(__name__)
Status = CommunicationLog.Status
IST = ZoneInfo("Asia/Kolkata")
QUIET_START_HOUR, QUIET_END_HOUR = 21, 9
RELAY_BATCH = 500
# The send task of communications/tasks.py, which imports this module (bound in CommunicationsConfig.ready).
message_send_task = Binding("communications.message_send")


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
        addresses = {channel: user_address(user, channel) for channel in Channel.values}
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
        addresses = {channel: user_address(user, channel) for channel in Channel.values}
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


def outbox_relay(*, now: datetime | None = None) -> list[int]:
    """Re-publish due rows whose send task was lost or whose worker died; returns their ids."""
    now = now or timezone.now()
    due = CommunicationLog.objects.filter(_relay_due(now)).order_by("scheduled_for")
    ids = list(due.values_list("pk", flat=True)[:RELAY_BATCH])
    # Conditional again: a row picked up in between is not published twice by two relays.
    CommunicationLog.objects.filter(_relay_due(now), pk__in=ids).update(enqueued_at=now, updated_at=now)
    for pk in ids:
        message_send_task.delay(pk)
    return ids


@transaction.atomic
def message_retry(*, log: CommunicationLog) -> CommunicationLog:
    """Staff's retry of a dead letter: FAILED → QUEUED with a fresh attempt budget."""
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
    transaction.on_commit(lambda: _publish(locked.pk))
    return locked


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


def message_language(user) -> str:
    """The language a message to `user` is written in (kept in the row's `language`): the one
    the learner chose on the switcher (`profile["language"]`, accounts), else the language of the request
    that enqueues it (a sign-up in Hindi gets its welcome in Hindi), else settings.LANGUAGE_CODE."""
    codes = {code for code, _ in settings.LANGUAGES}
    chosen = (getattr(user, "profile", None) or {}).get("language")
    if chosen in codes:
        return chosen
    active = translation.get_language()
    return active if active in codes else settings.LANGUAGE_CODE


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
        language=message_language(user),
        recipient=to,
        idempotency_key=key,
    )
    row.scheduled_for = quiet_hours_release(now) if waits_for_quiet_hours(spec, category) else now
    row.status = Status.FAILED if error else Status.QUEUED
    row.error = f"refused at creation: {error}" if error else ""
    row.enqueued_at = now if not error and row.scheduled_for <= now else None
    # The user is an instance in hand: skip the per-row existence query for the foreign key.
    row.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    return row


def _insert_new(fresh: list[CommunicationLog], existing: dict[str, CommunicationLog]) -> None:
    """Insert the new rows into `existing` and publish them on commit; a concurrent caller's rows win."""
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
            transaction.on_commit(lambda pk=row.pk: _publish(pk))


def _publish(log_id: int) -> None:
    """Publish the send task; with the broker unreachable the row stays QUEUED and outbox_relay
    publishes it later, so the business write that committed is never answered with a 500 (issue 20:
    restarting the broker Redis under load failed 8 submits that had been stored)."""
    task_publish(message_send_task, log_id, if_unreachable="leave")


def _insert_one(row: CommunicationLog, existing: dict[str, CommunicationLog]) -> bool:
    row.pk = None
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        existing[row.idempotency_key] = CommunicationLog.objects.get(idempotency_key=row.idempotency_key)
        return False
    return True


def user_address(user, channel: str) -> str:
    """The user's address on `channel` (email or phone), "" when none."""
    if user is None:
        return ""
    return (user.email if channel == Channel.EMAIL else user.phone) or ""


def waits_for_quiet_hours(spec: MessageTemplate, category: str) -> bool:
    """Marketing waits out quiet hours on every channel; transactional and urgent messages never wait."""
    return category == Category.MARKETING and not spec.urgent


def _relay_due(now: datetime) -> Q:
    lease_cutoff = now - timedelta(seconds=settings.COMMUNICATIONS_CLAIM_LEASE_SECONDS)
    stale = now - timedelta(seconds=settings.COMMUNICATIONS_RELAY_AFTER_SECONDS)
    return (
        Q(status=Status.QUEUED, scheduled_for__lte=now)
        & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=lease_cutoff))
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
    )
