"""Every write to the analytics tables: event ingestion, the buffer flush, retention and campaigns.

Events reach PostgreSQL one way: `_events_write` (bulk insert, duplicates skipped by the unique
event_id). In the production shape they wait in the Redis buffer first; in the embedded default, or
when Redis is down, they are written straight away.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from redis.exceptions import RedisError

from analytics import buffer
from analytics.models import AnalyticsEvent, Campaign, DeadLetterEvent
from cerebrum.text import without_control_characters

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


def event_record(
    *,
    event_type: str,
    name: str,
    user=None,
    anonymous_id: str = "",
    properties: dict | None = None,
    utm: dict | None = None,
    path: str = "",
    at: datetime | None = None,
) -> None:
    """Record a server-side event (sign-up, enrollment, payment, test start/submit); `at` is when it
    happened (default now: a task recording a request's landing passes the request's time).

    Call it inside the business transaction: the event is buffered only once that commits, so a
    rolled-back sign-up leaves no SIGNUP event behind.
    """
    event = event_payload(
        event_id=str(uuid.uuid4()),
        event_type=event_type,
        name=name,
        user_id=user.pk if user is not None and user.pk else None,
        anonymous_id=anonymous_id,
        properties=properties,
        utm=utm,
        path=path,
        created_at=at or timezone.now(),
    )
    transaction.on_commit(lambda: _events_store([event]))


def events_ingest(*, events: list[dict], user=None) -> IngestResult:
    """Store validated client events (see apis.EventInputSerializer); duplicates are ignored.

    Costs one Redis call for the whole batch, or, with Redis down, one SELECT and one INSERT.
    """
    user_id = user.pk if user is not None and user.is_authenticated else None
    unique: dict[str, dict] = {}
    for item in events:
        event_id = str(item["event_id"])
        if event_id in unique:
            continue
        unique[event_id] = event_payload(
            event_id=event_id,
            event_type=item["type"],
            name=item["name"],
            user_id=user_id,
            anonymous_id=item.get("anonymous_id", ""),
            properties=item.get("properties"),
            utm=item,
            path=item.get("path", ""),
            created_at=item["timestamp"],
        )
    duplicates = _events_store(list(unique.values())) if unique else 0
    repeated_in_batch = len(events) - len(unique)
    return IngestResult(accepted=len(unique) - duplicates, duplicates=duplicates + repeated_in_batch)


def event_payload(
    *,
    event_id: str,
    event_type: str,
    name: str,
    user_id: int | None,
    anonymous_id: str,
    properties: dict | None,
    utm: dict | None,
    path: str,
    created_at,
) -> dict:
    """The JSON-safe form an event travels in through the buffer."""
    utm = utm or {}
    return {
        "event_id": event_id,
        "event_type": event_type,
        "event_name": _clean(name, 100),
        "user_id": user_id,
        "anonymous_id": _clean(anonymous_id, 64),
        "properties": properties or {},
        "utm_source": _clean(utm.get("utm_source"), 100) or None,
        "utm_medium": _clean(utm.get("utm_medium"), 100) or None,
        "utm_campaign": _clean(utm.get("utm_campaign"), 150) or None,
        "path": _clean(path, 500),
        "created_at": created_at.isoformat(),
    }


FLUSH_MAX_BATCHES = 50


def buffer_flush(*, max_batches: int = FLUSH_MAX_BATCHES) -> int:
    """Move buffered events into PostgreSQL in batches; returns how many events were handed over
    (an event already stored counts too, being skipped by its unique event_id).

    Safe to run from several workers at once (one wins the lock, the others return 0) and safe to
    kill at any moment (see analytics/buffer.py). With Redis unreachable there is nothing to flush:
    ingestion is writing straight to PostgreSQL meanwhile.
    """
    written = 0
    try:
        flusher = buffer.Flusher(
            batch_size=settings.ANALYTICS_FLUSH_BATCH_SIZE, lock_seconds=settings.ANALYTICS_FLUSH_LOCK_SECONDS
        )
        with flusher as holder:
            for _ in range(max_batches if holder else 0):
                batch = holder.next_batch()
                if not batch:
                    break
                written += _events_write_setting_aside(batch)
                holder.done()
    except (buffer.BufferUnavailable, RedisError) as error:
        logger.warning("analytics flush stopped after %d events: %s", written, error)
    return written


def events_purge(*, older_than_days: int, batch_size: int = 10_000, max_batches: int = 100) -> int:
    """Delete raw events older than the cut-off, a batch of ids per short transaction; rollups stay.

    Each DELETE touches at most `batch_size` rows found through the created_at index, so the table
    is never locked for long and replicas keep up. Returns how many rows were deleted.
    """
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted = 0
    for _ in range(max_batches):
        ids = list(
            AnalyticsEvent.objects.filter(created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            break
        with transaction.atomic():
            count, _ = AnalyticsEvent.objects.filter(id__in=ids).delete()
        deleted += count
    return deleted


@transaction.atomic
@transaction.atomic
def campaign_upsert(
    *,
    utm_source: str,
    utm_campaign: str,
    cost_paise: int,
    name: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> Campaign:
    """Create or update what staff entered for a campaign (its cost drives cost per enrollment)."""
    campaign = Campaign.objects.select_for_update().filter(utm_source=utm_source, utm_campaign=utm_campaign).first()
    campaign = campaign or Campaign(utm_source=utm_source, utm_campaign=utm_campaign)
    campaign.cost_paise = cost_paise
    campaign.name = name or campaign.name
    campaign.starts_on, campaign.ends_on = starts_on, ends_on
    campaign.full_clean()
    campaign.save()
    return campaign


def _events_store(events: list[dict]) -> int:
    """Buffer the events (one Redis call) or, without Redis, write them now; returns the duplicates."""
    try:
        return buffer.push(events)
    except buffer.BufferUnavailable as error:
        if settings.REDIS_URL:
            logger.warning("analytics buffer unavailable, writing %d events directly: %s", len(events), error)
        return _events_write_direct(events)


def _events_write_direct(events: list[dict]) -> int:
    ids = [event["event_id"] for event in events]
    existing = {str(pk) for pk in AnalyticsEvent.objects.filter(event_id__in=ids).values_list("event_id", flat=True)}
    fresh = [event for event in events if event["event_id"] not in existing]
    _events_write_setting_aside(fresh)
    return len(events) - len(fresh)


# What a row itself can be refused for (its values, its shape); connection errors and timeouts are not
# among them and propagate, leaving the batch in the processing list for the next flush.
_BAD_ROW_ERRORS = (DataError, IntegrityError, ValidationError, ValueError, TypeError, KeyError, AttributeError)


def _events_write_setting_aside(events: list[dict]) -> int:
    """Write the events; if any row is refused, write them one by one and set the refused ones aside.

    One bad event can never stop ingestion: the rest of its batch is stored, and the bad one becomes a
    DeadLetterEvent staff see in the admin (issue 14 item 7). Returns how many rows were written.
    """
    try:
        return _events_write(events)
    except _BAD_ROW_ERRORS as error:
        logger.warning("analytics batch of %d refused (%s); writing row by row", len(events), type(error).__name__)
    written, refused = 0, []
    for event in events:
        try:
            written += _events_write([event])
        except _BAD_ROW_ERRORS as error:
            refused.append((event, error))
    events_dead_letter(refused=refused)
    return written


def events_dead_letter(*, refused: list[tuple[dict, Exception]]) -> int:
    """Keep refused buffer events as DeadLetterEvent rows (payload JSON-escaped, so a NUL is storable)."""
    rows = [
        DeadLetterEvent(
            payload=orjson.dumps(event, default=repr).decode(),
            error=without_control_characters(f"{type(error).__name__}: {error}")[:500],
        )
        for event, error in refused
    ]
    for event, error in refused:
        logger.error("analytics event set aside: %s (%s)", type(error).__name__, str(event.get("event_id", "?"))[:64])
    DeadLetterEvent.objects.bulk_create(rows)
    return len(rows)


def _clean(value: str | None, max_length: int) -> str:
    """A text field of an event: no control characters (PostgreSQL refuses NUL), cut to the column."""
    return without_control_characters(value or "")[:max_length]


def _events_write(events: list[dict]) -> int:
    """Insert in one transaction, skipping event ids already stored.

    No dashboard is dropped here: the report's dashboard listed raw events, but ours shows what the
    learner did from enrollments and attempts, whose services refresh it. Dropping it on every flush
    rebuilt each active learner's dashboard every few seconds for nothing.
    """
    if not events:
        return 0
    rows = [_event_row(event) for event in events]
    with transaction.atomic():
        created = AnalyticsEvent.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(created)


def _event_row(event: dict) -> AnalyticsEvent:
    return AnalyticsEvent(
        event_id=event["event_id"],
        event_type=event["event_type"],
        event_name=event["event_name"],
        user_id=event.get("user_id"),
        anonymous_id=event.get("anonymous_id", ""),
        properties=event.get("properties") or {},
        utm_source=event.get("utm_source"),
        utm_medium=event.get("utm_medium"),
        utm_campaign=event.get("utm_campaign"),
        path=event.get("path", ""),
        created_at=parse_datetime(event["created_at"]),
    )
