"""A staff member's range is complete on first view (issue 19 item 2): the newest missing days are
computed in the request for display, bounded, and saved by nobody but the rollups_backfill task (a GET
writes nothing, issue 16 item 4); older ones are shown once the task has run, with a notice meanwhile."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from analytics.models import AnalyticsEvent, DailyMetric, RollupDay
from reports.rollups import days_to_compute
from reports.tasks import rollups_backfill
from tests.factories import StaffFactory, TestAttemptFactory

pytestmark = pytest.mark.django_db
IST = zoneinfo.ZoneInfo("Asia/Kolkata")


@pytest.fixture
def quarter_of_visits():
    """One distinct visitor on each of the last 90 IST days, and no rollup computed yet."""
    today = timezone.localdate()
    days = [today - timedelta(days=offset) for offset in range(90)]
    AnalyticsEvent.objects.bulk_create(
        AnalyticsEvent(
            event_type="PAGE_VIEW",
            event_name="page",
            anonymous_id=f"visitor-{day}",
            created_at=min(datetime.combine(day, time(10, 0), tzinfo=IST), timezone.now()),
        )
        for day in days
    )
    return days


def test_a_90_day_range_is_complete_on_first_view(client, settings, quarter_of_visits, monkeypatch):
    settings.ANALYTICS_ROLLUP_SYNC_DAYS = 7
    queued = []
    # The publish (cerebrum.task_publish) goes through apply_async; the queue is recorded instead.
    monkeypatch.setattr(rollups_backfill, "apply_async", lambda args, kwargs=None, **options: queued.append(args[0]))
    client.force_login(StaffFactory())
    start, end = quarter_of_visits[-1], quarter_of_visits[0]
    query = {"start": start.isoformat(), "end": end.isoformat()}

    first = client.get("/staff/analytics/", query)

    # The newest 7 days are computed in the request and shown; all 90 are queued once; 83 are named.
    values = [bar["value"] for bar in first.context["visits_chart"]["bars"]]
    assert values == [0] * 83 + [1] * 7
    assert len(queued) == 1
    assert len(queued[0]) == 90
    assert len(first.context["computing"]) == 83
    assert "Computing 83 earlier days" in first.content.decode()
    again = client.get("/staff/analytics/", query)
    assert len(queued) == 1  # a reload does not queue the same back-fill again
    assert [bar["value"] for bar in again.context["visits_chart"]["bars"]] == [0] * 83 + [1] * 7
    # The GETs wrote nothing: the days shown were computed in memory.
    assert RollupDay.objects.count() == 0
    assert DailyMetric.objects.count() == 0

    rollups_backfill(queued[0])  # the worker runs it
    second = client.get("/staff/analytics/", query)

    assert second.context["visits_chart"]["total"] == 90
    assert [bar["value"] for bar in second.context["visits_chart"]["bars"]] == [1] * 90
    assert second.context["computing"] == []
    assert "Computing" not in second.content.decode()
    assert RollupDay.objects.count() == 90


def test_without_a_broker_the_whole_range_is_computed_at_once(client, quarter_of_visits):
    client.force_login(StaffFactory())
    query = {"start": quarter_of_visits[-1].isoformat(), "end": quarter_of_visits[0].isoformat()}

    response = client.get("/staff/analytics/", query)  # tests run Celery eagerly, like the embedded default

    assert response.context["visits_chart"]["total"] == 90
    assert response.context["computing"] == []


def test_a_day_computed_after_it_ended_is_not_computed_again_but_today_is_after_five_minutes(settings):
    settings.ANALYTICS_ROLLUP_FRESH_SECONDS = 300
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    now = timezone.now()
    RollupDay.objects.create(date=yesterday, computed_at=now - timedelta(minutes=30))
    RollupDay.objects.create(date=today, computed_at=now - timedelta(minutes=2))

    assert days_to_compute(start=yesterday, end=today, now=now) == []
    assert days_to_compute(start=yesterday, end=today, now=now + timedelta(minutes=4)) == [today]


def test_a_quiet_day_counts_as_computed_though_it_has_no_rows(client):
    client.force_login(StaffFactory())
    day = timezone.localdate() - timedelta(days=3)
    query = {"start": day.isoformat(), "end": day.isoformat()}

    client.get("/staff/analytics/", query)

    assert not DailyMetric.objects.filter(date=day).exists()
    assert days_to_compute(start=day, end=day) == []


def test_a_get_writes_nothing_yet_every_dashboard_shows_the_missing_days(client, monkeypatch):
    """Two learners' submitted attempts and a paid-campaign landing today and yesterday, no rollup stored:
    the overview, campaigns and engagement pages show them (computed in memory) and no row is written."""
    monkeypatch.setattr(rollups_backfill, "apply_async", lambda *args, **kwargs: None)  # the worker is away
    today = timezone.localdate()
    now = timezone.now()
    for when in (now, now - timedelta(days=1)):
        AnalyticsEvent.objects.create(
            event_type="LANDING",
            event_name="landing",
            anonymous_id=f"v-{when:%d}",
            created_at=when,
            utm_source="insta",
            utm_campaign="neet26",
        )
    TestAttemptFactory(status="SUBMITTED", submitted_at=now, topic_breakdown={"Genetics": {"correct": 3, "wrong": 1}})
    client.force_login(StaffFactory())
    query = {"start": (today - timedelta(days=2)).isoformat(), "end": today.isoformat()}
    before = (RollupDay.objects.count(), DailyMetric.objects.count())

    overview = client.get("/staff/analytics/", query)
    campaigns = client.get("/staff/analytics/campaigns/", query)
    engagement = client.get("/staff/analytics/engagement/", query)

    assert [bar["value"] for bar in overview.context["visits_chart"]["bars"]] == [0, 1, 1]
    assert [(row.source, row.campaign, row.visits) for row in campaigns.context["rows"]] == [("insta", "neet26", 2)]
    assert [bar["value"] for bar in engagement.context["attempts_chart"]["bars"]] == [0, 0, 1]
    assert engagement.context["topics"] == [("Genetics", 11.0, 1)]
    assert (RollupDay.objects.count(), DailyMetric.objects.count()) == before == (0, 0)
