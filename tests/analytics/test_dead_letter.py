"""One bad event can never stop analytics ingestion (issue 14 item 7).

The issue's example: `GET /?utm_source=%00` put an event in the buffer that PostgreSQL refuses; from then
on every flush failed and nothing was stored. Now the request is refused at the door, and whatever still
reaches the buffer in a shape PostgreSQL refuses is set aside as a DeadLetterEvent while the rest is
written.
"""

from __future__ import annotations

import uuid

import orjson
import pytest
from django.urls import reverse
from django.utils import timezone
from django_redis import get_redis_connection

from analytics import buffer, services
from analytics.models import AnalyticsEvent, DeadLetterEvent
from tests.analytics.conftest import client_event
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _raw_event(**overrides) -> dict:
    """An event in the buffer's own shape, as if an older or buggy writer had pushed it unchecked."""
    event = services.event_payload(
        event_id=str(uuid.uuid4()),
        event_type="PAGE_VIEW",
        name="home",
        user_id=None,
        anonymous_id="visitor-1",
        properties={},
        utm=None,
        path="/",
        created_at=timezone.now(),
    )
    event.update(overrides)
    return event


def test_nul_utm_source_landing_is_refused_and_later_events_are_stored(client):
    # given an anonymous visitor opening the home page with a NUL in utm_source (the example)
    response = client.get("/?utm_source=%00")

    # and other learners' events arriving afterwards
    services.events_ingest(events=[client_event(timestamp=timezone.now()) for _ in range(3)])

    # when the buffer is flushed
    written = services.buffer_flush()

    # then the request was refused, nothing of it was buffered, and the others are stored
    assert response.status_code == 400
    assert written == 3
    assert AnalyticsEvent.objects.count() == 3
    assert not AnalyticsEvent.objects.filter(event_type=AnalyticsEvent.Type.LANDING).exists()
    assert buffer.length() == 0


@pytest.mark.parametrize(
    "poison",
    [
        {"utm_source": "a\x00b"},  # text column: PostgreSQL refuses NUL
        {"properties": {"k": "v\x00"}},  # jsonb refuses \u0000 as well
        {"event_type": "X" * 40},  # longer than the column
        {"created_at": "not a time"},
        {"event_id": "not-a-uuid"},
    ],
    ids=["nul-text", "nul-json", "too-long", "bad-time", "bad-id"],
)
def test_a_poisoned_buffered_event_is_set_aside_and_the_rest_written(poison):
    # given good events on both sides of one the database refuses, pushed without any checks
    good = [_raw_event() for _ in range(4)]
    buffer.push([good[0], good[1], _raw_event(**poison), good[2], good[3]])

    # when the flusher runs
    written = services.buffer_flush()

    # then the four good events are stored, the bad one is a dead letter, the buffer is empty
    assert written == 4
    assert set(AnalyticsEvent.objects.values_list("event_id", flat=True)) == {uuid.UUID(e["event_id"]) for e in good}
    dead = DeadLetterEvent.objects.get()
    assert dead.error
    assert "\x00" not in dead.payload
    assert buffer.length() == 0
    # and ingestion goes on: the next flush stores new events
    services.events_ingest(events=[client_event(timestamp=timezone.now())])
    assert services.buffer_flush() == 1


def test_an_undecodable_buffer_item_is_set_aside():
    good = _raw_event()
    redis = get_redis_connection("default")
    redis.rpush(buffer.BUFFER_KEY, b"\xff{not json", orjson.dumps(good))

    written = services.buffer_flush()

    assert written == 1
    assert AnalyticsEvent.objects.get().event_id == uuid.UUID(good["event_id"])
    assert "not json" in DeadLetterEvent.objects.get().payload


def test_with_redis_down_a_refused_event_is_set_aside_too(redis_down):
    # the embedded default's path: events are written straight away
    services._events_write_direct([_raw_event(utm_campaign="x\x00y"), _raw_event()])

    assert AnalyticsEvent.objects.count() == 1
    assert DeadLetterEvent.objects.count() == 1


def test_server_side_events_never_carry_control_characters():
    # the UTM middleware and services build events through event_payload; it strips what slipped past
    event = _raw_event()
    payload = services.event_payload(
        event_id=event["event_id"],
        event_type="LANDING",
        name="land\x00ing",
        user_id=None,
        anonymous_id="vis\x1bitor",
        properties={},
        utm={"utm_source": "goo\x00gle", "utm_medium": "c\x07pc", "utm_campaign": "neet\x7f"},
        path="/\x00",
        created_at=timezone.now(),
    )

    assert (payload["event_name"], payload["anonymous_id"], payload["path"]) == ("landing", "visitor", "/")
    assert (payload["utm_source"], payload["utm_medium"], payload["utm_campaign"]) == ("google", "cpc", "neet")


def test_staff_see_dead_letters_in_the_admin(client):
    buffer.push([_raw_event(utm_source="bad\x00source")])
    services.buffer_flush()
    client.force_login(StaffFactory(is_superuser=True))

    page = client.get(reverse("admin:analytics_deadletterevent_changelist"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "DataError" in html or "ValueError" in html
    assert "bad\\\\u0000source" in html or "bad\\u0000source" in html
