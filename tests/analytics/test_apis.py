from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import buffer
from analytics.models import AnalyticsEvent
from analytics.services import buffer_flush
from tests.analytics.conftest import client_event
from tests.factories import UserFactory

URL = "/api/v1/events"

pytestmark = pytest.mark.django_db


def post(api_client, events):
    return api_client.post(URL, {"events": events}, format="json")


def test_valid_batch_is_buffered_then_written_once(api_client):
    # given three valid events from an anonymous visitor
    events = [client_event(), client_event(type="CLICK", name="enroll_button"), client_event(type="NOTE_VIEW")]

    # when they are posted
    response = post(api_client, events)

    # then they are accepted into the buffer, not yet in PostgreSQL
    assert response.status_code == 202
    assert response.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    assert AnalyticsEvent.objects.count() == 0
    assert buffer.length() == 3
    # and the flush writes exactly those three
    buffer_flush()
    stored = AnalyticsEvent.objects.order_by("id")
    assert [str(row.event_id) for row in stored] == [event["event_id"] for event in events]
    assert [row.event_type for row in stored] == ["PAGE_VIEW", "CLICK", "NOTE_VIEW"]
    assert stored[0].anonymous_id == "visitor-1"
    assert stored[0].user_id is None
    assert buffer.length() == 0


def test_retried_batch_is_reported_as_duplicates_and_stored_once(api_client):
    events = [client_event(), client_event()]
    post(api_client, events)

    response = post(api_client, events)

    assert response.status_code == 202
    assert response.json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    buffer_flush()
    assert AnalyticsEvent.objects.count() == 2


def test_duplicate_ids_inside_one_batch_count_once(api_client):
    event = client_event()

    response = post(api_client, [event, event, client_event()])

    assert response.json() == {"accepted": 2, "duplicates": 1, "rejected": []}
    buffer_flush()
    assert AnalyticsEvent.objects.count() == 2


def test_retry_after_flush_is_not_stored_twice_even_when_redis_forgot_the_id(api_client):
    # given a batch already written, and Redis no longer remembering its ids (an hour later)
    events = [client_event(), client_event()]
    post(api_client, events)
    buffer_flush()
    buffer.connection().delete(*[buffer.SEEN_PREFIX + event["event_id"] for event in events])

    # when the client retries it
    post(api_client, events)
    buffer_flush()

    # then the unique event_id keeps one row each
    assert AnalyticsEvent.objects.count() == 2


def test_signed_in_learner_events_carry_the_user(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)

    post(api_client, [client_event(utm_source="instagram", utm_campaign="neet-2027")])
    buffer_flush()

    row = AnalyticsEvent.objects.get()
    assert (row.user_id, row.utm_source, row.utm_campaign) == (user.pk, "instagram", "neet-2027")


def _old() -> str:
    return (timezone.now() - timedelta(days=7, minutes=1)).isoformat()


def _future() -> str:
    return (timezone.now() + timedelta(hours=1)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"type": "PAYMENT"}, "type"),
        ({"type": "NOT_A_TYPE"}, "type"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"event_id": None}, "event_id"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": ["a", "list"]}, "name"),
        ({"timestamp": _future()}, "timestamp"),
        ({"timestamp": _old()}, "timestamp"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"properties": "not an object"}, "properties"),
        ({"properties": {"blob": "x" * 4100}}, "properties"),
        ({"path": "/" + "p" * 600}, "path"),
    ],
)
def test_invalid_event_is_rejected_while_valid_ones_are_accepted(api_client, overrides, field):
    good = client_event()

    response = post(api_client, [good, client_event(**overrides)])

    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (1, 0)
    assert [item["index"] for item in body["rejected"]] == [1]
    assert list(body["rejected"][0]["errors"]) == [field]
    buffer_flush()
    assert [str(pk) for pk in AnalyticsEvent.objects.values_list("event_id", flat=True)] == [good["event_id"]]


def test_batch_with_only_invalid_events_is_a_400_with_per_event_errors(api_client):
    response = post(api_client, [client_event(type="SIGNUP"), "not an object"])

    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid"
    assert set(body["error"]["fields"]) == {"events[0]", "events[1]"}
    assert body["accepted"] == 0
    assert [item["index"] for item in body["rejected"]] == [0, 1]
    assert buffer.length() == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"events": []},
        {"events": "x"},
        {"events": {"event_id": str(uuid.uuid4())}},
        {"events": [client_event() for _ in range(101)]},
        [client_event()],
    ],
)
def test_a_body_that_is_not_a_batch_is_a_400_and_nothing_is_stored(api_client, body):
    response = api_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert buffer.length() == 0


def test_malformed_json_is_a_400(api_client):
    response = api_client.post(URL, b"{not json", content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize("size", [1, 100])
def test_ingestion_runs_no_sql_for_any_batch_size(api_client, django_assert_num_queries, size):
    with django_assert_num_queries(0):
        response = post(api_client, [client_event() for _ in range(size)])

    assert response.json()["accepted"] == size


def test_with_redis_down_events_are_written_straight_to_postgres(api_client, redis_down):
    event = client_event()

    first = post(api_client, [event, client_event()])
    retry = post(api_client, [event])

    assert first.status_code == 202
    assert first.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert retry.json() == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert AnalyticsEvent.objects.count() == 2


def test_beacon_post_from_a_signed_in_session_needs_no_csrf_token(client):
    from django.test import Client

    user = UserFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post(URL, {"events": [client_event()]}, content_type="application/json")

    assert response.status_code == 202
    buffer_flush()
    assert AnalyticsEvent.objects.get().user_id == user.pk


def test_a_learner_over_the_event_rate_gets_429_and_nothing_more_is_stored(api_client, monkeypatch, redis_round_trips):
    # given the batch rate at 2 a minute (300 in production: one batch per ~30 s is the beacon's pace)
    from analytics.apis import EventBatchThrottle
    from cerebrum.api_tools import _SLIDING_WINDOW

    window_sha = hashlib.sha1(_SLIDING_WINDOW.encode()).hexdigest()
    monkeypatch.setattr(EventBatchThrottle, "rate", "2/min")
    api_client.force_authenticate(UserFactory())

    # when a third batch comes within the minute
    statuses = []
    for _ in range(3):
        redis_round_trips.reset()
        statuses.append(post(api_client, [client_event()]).status_code)
        # each batch counted in one round trip (the sliding-window script), not DRF's GET and SET
        assert len(redis_round_trips.touching(f"EVALSHA {window_sha}")) == 1, redis_round_trips.commands
        assert not redis_round_trips.touching("throttle_"), redis_round_trips.commands
    refused = post(api_client, [client_event()])

    # then it is refused with 429 and a Retry-After, and only the first two were buffered
    assert statuses == [202, 202, 429]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == "throttled"
    assert buffer.length() == 2


def test_a_batch_body_over_the_upload_limit_is_413_and_nothing_is_stored(api_client):
    # 100 events is the most a batch holds; a body over 256 KB is refused before it is parsed
    events = [client_event(properties={"text": "x" * 3000}) for _ in range(100)]

    response = post(api_client, events)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert buffer.length() == 0
