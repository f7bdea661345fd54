"""Daily rollups: the numbers the staff dashboards read, rebuilt from the source tables with GROUP BY.

Staff reports are the top layer (docs/architecture.md): they read accounts, courses and payments and
write analytics' rollup tables (`DailyMetric`, `RollupDay`); no app imports them.

`rollups_rebuild(days=N)` recomputes the last N IST days from scratch and swaps them in within one
transaction, so it is idempotent, can run as often as wanted, and a late event or a refund simply
shows up on the next run. Backfill a longer history with a larger N.

Campaign dimensions are "<utm_source>|<utm_campaign>"; the empty dimension is the day's total.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, TruncDate
from django.utils import timezone

from accounts.models import FreeUser, User
from analytics.models import AnalyticsEvent, DailyMetric, RollupDay
from courses.models import Enrollment, TestAttempt
from payments.models import Payment

M = DailyMetric.Metric
LOCAL_TZ = zoneinfo.ZoneInfo(settings.TIME_ZONE)
PAID_STATUSES = (Payment.Status.CAPTURED, Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED)
# Any stable number: serialises concurrent rebuilds on PostgreSQL.
ADVISORY_LOCK_ID = 7_000_007


def campaign_key(source: str | None, campaign: str | None) -> str:
    return f"{source or ''}|{campaign or ''}" if (source or campaign) else ""


def rollups_rebuild(*, days: int, today: date | None = None) -> int:
    """Recompute the last `days` IST days (ending `today`); returns how many metric rows were written.

    One day per transaction: every statement covers at most a day of events, so a long backfill
    never holds a lock or a snapshot for long, and dashboards see each day swap in whole.
    """
    end = today or timezone.localdate()
    return sum(_rebuild_day(end - timedelta(days=offset)) for offset in range(days))


def rollups_rebuild_dates(*, dates: Iterable[date]) -> int:
    """Recompute the given IST days (a back-fill), one transaction each; returns the metric rows written."""
    return sum(_rebuild_day(day) for day in sorted(set(dates), reverse=True))


def days_to_compute(*, start: date, end: date, now: datetime | None = None) -> list[date]:
    """The days of [start, end] whose rollups are missing or may have changed since: never computed, or
    last computed before the day was over and more than ANALYTICS_ROLLUP_FRESH_SECONDS ago (today, and a
    day computed while it was still going on). Newest first. One query.

    A day computed after it ended is complete; a late refund or event still reaches it through the
    periodic `rollups_rebuild` of the last ANALYTICS_ROLLUP_DAYS days.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.ANALYTICS_ROLLUP_FRESH_SECONDS)
    done = {
        day
        for day, computed_at in RollupDay.objects.filter(date__range=(start, end)).values_list("date", "computed_at")
        if computed_at >= _day_end(day) or computed_at >= stale_before
    }
    days = [end - timedelta(days=offset) for offset in range((end - start).days + 1)]
    return [day for day in days if day not in done and day <= timezone.localdate(now)]


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=LOCAL_TZ)


def days_compute(*, dates: Iterable[date]) -> list[DailyMetric]:
    """The given IST days' metric rows computed now and NOT saved (a staff page showing days the task has
    not written yet; a GET writes nothing). Same builders as the rebuild; reads only."""
    rows: list[DailyMetric] = []
    for day in sorted(set(dates), reverse=True):
        with transaction.atomic():  # SET LOCAL needs a transaction; nothing is written in it
            _statement_timeout_raise()
            rows.extend(_day_rows(day))
    return rows


def _rebuild_day(day: date) -> int:
    started = timezone.now()  # what is computed holds everything written before this moment
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_ID])
        _statement_timeout_raise()
        rows = _day_rows(day)
        DailyMetric.objects.filter(date=day).delete()
        DailyMetric.objects.bulk_create(rows, batch_size=1000)
        RollupDay.objects.update_or_create(date=day, defaults={"computed_at": started})
    return len(rows)


def _statement_timeout_raise() -> None:
    """The web's statement timeout is tuned for requests; a day of GROUP BY needs longer (this transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {int(settings.ANALYTICS_ROLLUP_STATEMENT_TIMEOUT_MS)}")


def _day_rows(day: date) -> list[DailyMetric]:
    """One IST day's metric rows (unsaved), from the source tables."""
    window = (
        datetime.combine(day, time.min, tzinfo=LOCAL_TZ),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=LOCAL_TZ),
    )
    counts: dict[tuple[date, str, str], int] = defaultdict(int)
    builders = (_events, _free_tests, _signups, _leads, _enrollments, _payments, _payments_by_touch, _attempts)
    for builder in builders:
        for row_day, metric, dimension, value in builder(window):
            counts[(row_day, metric, dimension)] += value
    return [DailyMetric(date=d, metric=m, dimension=dim, value=v) for (d, m, dim), v in counts.items() if v]


def _day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=LOCAL_TZ)


Row = tuple[date, str, str, int]


def _events(window) -> Iterable[Row]:
    in_window = AnalyticsEvent.objects.filter(created_at__gte=window[0], created_at__lt=window[1])
    active = in_window.filter(user__isnull=False).annotate(day=_day("created_at")).values("day")
    for row in active.annotate(n=Count("user_id", distinct=True)).order_by():
        yield row["day"], M.ACTIVE_LEARNERS, "", row["n"]
    visitor = Coalesce(NullIf("anonymous_id", Value("")), Concat(Value("u"), Cast("user_id", CharField())))
    views = in_window.filter(event_type__in=[AnalyticsEvent.Type.PAGE_VIEW, AnalyticsEvent.Type.LANDING])
    for row in (
        views.annotate(day=_day("created_at")).values("day").annotate(n=Count(visitor, distinct=True)).order_by()
    ):
        yield row["day"], M.VISITS, "", row["n"]
    landings = in_window.filter(event_type=AnalyticsEvent.Type.LANDING).annotate(day=_day("created_at"))
    grouped = landings.values("day", "utm_source", "utm_campaign").annotate(n=Count(visitor, distinct=True))
    for row in grouped.order_by():
        key = campaign_key(row["utm_source"], row["utm_campaign"])
        if key:
            yield row["day"], M.VISITS, key, row["n"]


def _free_tests(window) -> Iterable[Row]:
    started = TestAttempt.objects.filter(test__is_free=True, started_at__gte=window[0], started_at__lt=window[1])
    grouped = started.annotate(day=_day("started_at")).values("day")
    # A lead per browser session (accounts.services.free_user_capture): people are counted by phone.
    counted = grouped.annotate(leads=Count("free_user__phone", distinct=True), users=Count("user_id", distinct=True))
    for row in counted.order_by():
        yield row["day"], M.FREE_TESTS, "", row["leads"] + row["users"]


def _signups(window) -> Iterable[Row]:
    joined = User.objects.filter(role=User.Role.STUDENT, created_at__gte=window[0], created_at__lt=window[1])
    grouped = joined.annotate(
        day=_day("created_at"), source=KT("first_touch__utm_source"), campaign=KT("first_touch__utm_campaign")
    ).values("day", "source", "campaign")
    for row in grouped.annotate(n=Count("id")).order_by():
        yield from _with_campaign(row["day"], M.SIGNUPS, row["source"], row["campaign"], row["n"])
        yield from _with_campaign(row["day"], M.LEADS, row["source"], row["campaign"], row["n"])


def _leads(window) -> Iterable[Row]:
    """Free users not (yet) signed up; together with sign-ups they are the campaign's leads."""
    captured = FreeUser.objects.filter(user__isnull=True, created_at__gte=window[0], created_at__lt=window[1])
    grouped = captured.annotate(day=_day("created_at")).values("day", "utm_source", "utm_campaign")
    for row in grouped.annotate(n=Count("phone", distinct=True)).order_by():  # one per person, not per session
        yield from _with_campaign(row["day"], M.LEADS, row["utm_source"], row["utm_campaign"], row["n"])


def _enrollments(window) -> Iterable[Row]:
    created = Enrollment.objects.filter(created_at__gte=window[0], created_at__lt=window[1])
    grouped = created.annotate(day=_day("created_at")).values("day", "utm_source", "utm_campaign")
    for row in grouped.annotate(n=Count("id")).order_by():
        yield from _with_campaign(row["day"], M.ENROLLMENTS, row["utm_source"], row["utm_campaign"], row["n"])


def _payments(window) -> Iterable[Row]:
    paid = Payment.objects.filter(status__in=PAID_STATUSES, captured_at__gte=window[0], captured_at__lt=window[1])
    grouped = paid.annotate(
        day=_day("captured_at"),
        source=Coalesce(NullIf("utm_source", Value("")), "enrollment__utm_source"),
        campaign=Coalesce(NullIf("utm_campaign", Value("")), "enrollment__utm_campaign"),
    ).values("day", "source", "campaign")
    totals = grouped.annotate(n=Count("id"), revenue=Sum(F("amount_paise") - F("refunded_paise")))
    for row in totals.order_by():
        yield from _with_campaign(row["day"], M.PAYMENTS, row["source"], row["campaign"], row["n"])
        yield from _with_campaign(row["day"], M.REVENUE_PAISE, row["source"], row["campaign"], row["revenue"])


# Payments (and enrollments) with no attributed visit at all, in the first/last-touch views.
DIRECT = "(direct)"


def _payments_by_touch(window) -> Iterable[Row]:
    """Paid enrollments and revenue per campaign of the payment's first touch and of its last touch.

    A payment made before touches were stored falls back to its utm columns, then its enrollment's;
    one with no campaign at all counts under DIRECT, so each view's rows add up to the paid revenue.
    Enrollments by last touch are counted here too (by first touch they are `enrollments`).
    """
    paid = Payment.objects.filter(status__in=PAID_STATUSES, captured_at__gte=window[0], captured_at__lt=window[1])
    views = (("first", M.PAYMENTS_FIRST, M.REVENUE_FIRST_PAISE), ("last", M.PAYMENTS_LAST, M.REVENUE_LAST_PAISE))
    for model, payments_metric, revenue_metric in views:
        grouped = paid.annotate(
            day=_day("captured_at"),
            source=_touch_or_columns(f"{model}_touch", "utm_source"),
            campaign=_touch_or_columns(f"{model}_touch", "utm_campaign"),
        ).values("day", "source", "campaign")
        totals = grouped.annotate(n=Count("id"), revenue=Sum(F("amount_paise") - F("refunded_paise")))
        for row in totals.order_by():
            yield from _with_campaign_or_direct(row["day"], payments_metric, row["source"], row["campaign"], row["n"])
            yield from _with_campaign_or_direct(
                row["day"], revenue_metric, row["source"], row["campaign"], row["revenue"]
            )
    created = Enrollment.objects.filter(created_at__gte=window[0], created_at__lt=window[1])
    grouped = created.annotate(
        day=_day("created_at"),
        source=Case(
            When(~Q(last_touch={}), then=KT("last_touch__utm_source")),
            default=F("utm_source"),
            output_field=CharField(),
        ),
        campaign=Case(
            When(~Q(last_touch={}), then=KT("last_touch__utm_campaign")),
            default=F("utm_campaign"),
            output_field=CharField(),
        ),
    ).values("day", "source", "campaign")
    for row in grouped.annotate(n=Count("id")).order_by():
        yield from _with_campaign_or_direct(row["day"], M.ENROLLMENTS_LAST, row["source"], row["campaign"], row["n"])


def _touch_or_columns(touch_field: str, key: str):
    """`key` of the whole touch (never one field from one source and one from another): the stored
    touch if any, else the payment's utm columns, else its enrollment's."""
    has_columns = ~Q(utm_source="") | ~Q(utm_campaign="")
    return Case(
        When(~Q(**{touch_field: {}}), then=KT(f"{touch_field}__{key}")),
        When(has_columns, then=F(key)),
        default=F(f"enrollment__{key}"),
        output_field=CharField(),
    )


def _with_campaign_or_direct(day: date, metric: str, source, campaign, value: int) -> Iterable[Row]:
    yield day, metric, "", value
    yield day, metric, campaign_key(source, campaign) or DIRECT, value


def _attempts(window) -> Iterable[Row]:
    """Submitted tests per day, and per topic the NTA score (+4/−1) summed with the attempts counted.

    topic_breakdown is {"<topic>": {"correct": n, "wrong": n, ...}} (a "score" key wins when present);
    it is read in Python so the same code runs on SQLite and PostgreSQL.
    """
    submitted = TestAttempt.objects.filter(
        Q(status=TestAttempt.Status.SUBMITTED), submitted_at__gte=window[0], submitted_at__lt=window[1]
    )
    for day, breakdown in submitted.values_list("submitted_at", "topic_breakdown").iterator(chunk_size=2000):
        local_day = timezone.localtime(day, LOCAL_TZ).date()
        yield local_day, M.ATTEMPTS, "", 1
        for topic, numbers in (breakdown or {}).items():
            if isinstance(numbers, dict):
                yield local_day, M.TOPIC_SCORE_SUM, str(topic)[:300], _topic_score(numbers)
                yield local_day, M.TOPIC_ATTEMPTS, str(topic)[:300], 1


def _topic_score(numbers: dict) -> int:
    if isinstance(numbers.get("score"), int | float):
        return int(numbers["score"])
    return 4 * int(numbers.get("correct") or 0) - int(numbers.get("wrong") or 0)


def _with_campaign(day: date, metric: str, source: str | None, campaign: str | None, value: int) -> Iterable[Row]:
    yield day, metric, "", value
    key = campaign_key(source, campaign)
    if key:
        yield day, metric, key, value
