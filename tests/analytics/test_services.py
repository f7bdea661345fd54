from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from analytics import buffer, services
from analytics.models import AnalyticsEvent, DailyMetric
from analytics.tasks import buffer_flush as buffer_flush_task
from courses.caches import dashboard_get_or_build, dashboard_key
from tests.analytics.conftest import client_event
from tests.conftest import wait_until
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def server_events(count: int) -> list[dict]:
    return [
        services.event_payload(
            event_id=str(uuid.uuid4()),
            event_type="PAGE_VIEW",
            name="page",
            user_id=None,
            anonymous_id=f"v{index}",
            properties={"n": index},
            utm=None,
            path="/",
            created_at=timezone.now(),
        )
        for index in range(count)
    ]


def test_ten_thousand_events_through_api_buffer_and_flush_land_exactly_once(api_client, settings):
    # given 10,000 events posted as 100 batches, 5 of them retried
    batches = [[client_event(anonymous_id=f"v{b}") for _ in range(100)] for b in range(100)]
    for batch in batches + batches[:5]:
        assert api_client.post("/api/v1/events", {"events": batch}, format="json").status_code == 202

    # when the flush task runs (batches of 1,000)
    buffer_flush_task.delay()

    # then every event is stored once and the buffer is empty
    assert AnalyticsEvent.objects.count() == 10_000
    assert AnalyticsEvent.objects.values("event_id").distinct().count() == 10_000
    assert buffer.length() == 0


def test_flush_redoes_the_processing_list_of_a_flusher_that_crashed_after_commit():
    # given a flusher that took a batch, committed half of it and died before clearing its list
    events = server_events(30)
    buffer.push(events)
    crashed = buffer.Flusher(batch_size=20, lock_seconds=30)
    with crashed as holder:
        taken = holder.next_batch()
        services._events_write(taken[:10])
    assert buffer.connection().llen(buffer.PROCESSING_KEY) == 20

    # when the next flusher runs
    services.buffer_flush()

    # then nothing is lost and nothing doubled
    assert AnalyticsEvent.objects.count() == 30
    assert buffer.length() == 0


def test_only_one_flusher_works_at_a_time():
    buffer.push(server_events(5))
    with buffer.Flusher(batch_size=10, lock_seconds=30) as holder:
        assert holder is not None

        assert services.buffer_flush() == 0

    assert AnalyticsEvent.objects.count() == 0
    assert services.buffer_flush() == 5


def test_a_flusher_that_lost_its_lock_leaves_the_processing_list_for_the_next_one():
    buffer.push(server_events(5))
    with buffer.Flusher(batch_size=10, lock_seconds=30) as holder:
        holder.next_batch()
        buffer.connection().delete(buffer.LOCK_KEY)  # expired while it was writing

        assert holder.done() is False

    assert buffer.connection().llen(buffer.PROCESSING_KEY) == 5


def test_flush_leaves_the_dashboards_cached():
    # given a learner whose dashboard is cached, and buffered events of theirs
    learner = UserFactory()
    dashboard_get_or_build(learner.pk, lambda: {"cached": True})
    events = server_events(3)
    for event in events:
        event["user_id"] = learner.pk
    buffer.push(events)

    # when the buffer is flushed
    written = services.buffer_flush()

    # then the events are stored and the dashboard (which shows no events) is still cached
    assert AnalyticsEvent.objects.filter(user=learner).count() == 3, written
    assert cache.get(dashboard_key(learner.pk))["data"] == {"cached": True}


def test_event_record_is_buffered_only_when_the_business_transaction_commits(django_capture_on_commit_callbacks):
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        services.event_record(event_type="SIGNUP", name="signup", user=user, utm={"utm_source": "google"})
    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012
        services.event_record(event_type="SIGNUP", name="signup", user=user)
        raise RuntimeError("sign-up failed")
    services.buffer_flush()

    row = AnalyticsEvent.objects.get()
    assert (row.event_type, row.user_id, row.utm_source) == ("SIGNUP", user.pk, "google")


def test_event_record_with_redis_down_writes_directly(redis_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.event_record(event_type="TEST_START", name="mock-1", anonymous_id="v1")

    assert AnalyticsEvent.objects.get().event_type == "TEST_START"


def test_purge_deletes_only_old_events_in_batches_and_keeps_rollups():
    now = timezone.now()
    old = [
        AnalyticsEvent(event_type="PAGE_VIEW", event_name="p", created_at=now - timedelta(days=40)) for _ in range(5)
    ]
    new = [AnalyticsEvent(event_type="PAGE_VIEW", event_name="p", created_at=now - timedelta(days=10))]
    AnalyticsEvent.objects.bulk_create(old + new)
    DailyMetric.objects.create(date=(now - timedelta(days=40)).date(), metric="visits", value=5)

    deleted = services.events_purge(older_than_days=30, batch_size=2)

    assert deleted == 5
    assert AnalyticsEvent.objects.count() == 1
    assert DailyMetric.objects.count() == 1


@pytest.mark.worker
def test_killing_the_flush_worker_mid_batch_loses_nothing_and_doubles_nothing(analytics_worker_factory):
    # given 20,000 buffered events and a real worker flushing them 200 at a time
    events = server_events(20_000)
    for start in range(0, len(events), 1000):
        buffer.push(events[start : start + 1000])
    env = {"ANALYTICS_FLUSH_BATCH_SIZE": "200", "ANALYTICS_FLUSH_LOCK_SECONDS": "3"}
    worker = analytics_worker_factory(queues="analytics", concurrency=1, extra_env=env)
    buffer_flush_task.delay()

    # when it is killed (SIGKILL) once it has written some batches but not all
    assert wait_until(lambda: AnalyticsEvent.objects.count() > 0, timeout=60, interval=0.05)
    worker.kill()
    written_at_kill = AnalyticsEvent.objects.count()
    assert written_at_kill < 20_000

    # and another worker takes over once the dead one's lock expires (beat would trigger it every few seconds)
    analytics_worker_factory(queues="analytics", concurrency=1, extra_env=env)
    assert wait_until(lambda: not buffer.connection().exists(buffer.LOCK_KEY), timeout=10)
    buffer_flush_task.delay()

    # then every event is stored exactly once
    assert wait_until(lambda: buffer.length() == 0, timeout=90)
    assert AnalyticsEvent.objects.count() == 20_000
    assert AnalyticsEvent.objects.values("event_id").distinct().count() == 20_000


def test_flush_with_redis_down_logs_and_returns_nothing(redis_down, caplog):
    assert services.buffer_flush() == 0
    assert "analytics flush stopped" in caplog.text


@pytest.mark.django_db
def test_campaign_upsert_updates_cost_and_dates_in_one_row():
    from datetime import date

    from analytics.models import Campaign
    from analytics.services import campaign_upsert

    # given a campaign staff entered once
    campaign_upsert(utm_source="google", utm_campaign="neet-2027", cost_paise=100_00)

    # when its cost and dates are entered again
    campaign_upsert(
        utm_source="google", utm_campaign="neet-2027", cost_paise=250_00, starts_on=date(2026, 11, 1), ends_on=None
    )

    # then the same row holds the new values
    campaign = Campaign.objects.get()
    assert (campaign.cost_paise, campaign.starts_on, campaign.ends_on) == (250_00, date(2026, 11, 1), None)
