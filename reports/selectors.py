"""Reads for the staff dashboards. Each reads only the rollup table (plus campaigns' costs), so its
query count and cost do not grow with the number of events.

Access: the views are staff-only (`staff_member_required`); nothing here is learner-facing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Sum

from accounts.models import FreeUser, User
from analytics.models import Campaign, DailyMetric
from courses.models import Enrollment, TestAttempt
from payments.models import Payment
from reports.rollups import LOCAL_TZ, PAID_STATUSES

M = DailyMetric.Metric
FUNNEL = [M.VISITS, M.FREE_TESTS, M.SIGNUPS, M.ENROLLMENTS, M.PAYMENTS]  # daily totals (not a cohort)
# Attribution models of the campaign report: which metric fills enrollments, paid and revenue.
MODELS = {
    "first": {"enrollments": M.ENROLLMENTS, "payments": M.PAYMENTS_FIRST, "revenue_paise": M.REVENUE_FIRST_PAISE},
    "last": {"enrollments": M.ENROLLMENTS_LAST, "payments": M.PAYMENTS_LAST, "revenue_paise": M.REVENUE_LAST_PAISE},
}
DIRECT = "(direct)"  # rollups.DIRECT: conversions without any attributed visit


@dataclass(frozen=True)
class CampaignRow:
    source: str
    campaign: str
    name: str
    visits: int
    leads: int
    signups: int
    enrollments: int
    payments: int
    revenue_paise: int
    cost_paise: int | None

    @property
    def conversion_percent(self) -> float | None:
        """Paid enrollments per lead."""
        return round(100 * self.payments / self.leads, 1) if self.leads else None

    @property
    def roi_percent(self) -> float | None:
        """(Revenue credited under the chosen model − cost) / cost, in %; None without a cost.

        Revenue is paid revenue net of refunds in the range; cost the campaign's whole spend as
        staff entered it, so ROI is meaningful when the range covers the campaign."""
        if not self.cost_paise:
            return None
        return round(100 * (self.revenue_paise - self.cost_paise) / self.cost_paise, 1)

    @property
    def cost_per_enrollment_paise(self) -> int | None:
        if self.cost_paise is None or not self.enrollments:
            return None
        return round(self.cost_paise / self.enrollments)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def _stored(queryset, fresh: Sequence[DailyMetric]):
    """The stored rows, without the days `fresh` (unsaved rows computed for this request) stands in for."""
    return queryset.exclude(date__in={row.date for row in fresh}) if fresh else queryset


def metric_series(
    *, metrics: list[str], start: date, end: date, fresh: Sequence[DailyMetric] = ()
) -> dict[str, list[tuple[date, int]]]:
    """Each metric's daily totals over the range, with zero for days that have no row (one query).

    `fresh`: unsaved rows of days not (or not freshly) in the table, computed for this request
    (reports.views.range_complete); they replace the stored rows of their days. Same for the selectors below.
    """
    values: dict[str, dict[date, int]] = defaultdict(dict)
    rows = _stored(DailyMetric.objects.filter(metric__in=metrics, dimension="", date__range=(start, end)), fresh)
    for metric, day, value in rows.values_list("metric", "date", "value"):
        values[metric][day] = value
    for row in fresh:
        if row.metric in metrics and row.dimension == "" and start <= row.date <= end:
            values[row.metric][row.date] = row.value
    days = days_between(start, end)
    return {metric: [(day, values[metric].get(day, 0)) for day in days] for metric in metrics}


def overview(*, start: date, end: date, fresh: Sequence[DailyMetric] = ()) -> dict:
    """Daily active learners, visitors and sign-ups per day (one query) and the cohort funnel (six)."""
    series = metric_series(metrics=[M.ACTIVE_LEARNERS, M.VISITS, M.SIGNUPS], start=start, end=end, fresh=fresh)
    return {
        "active_learners": series[M.ACTIVE_LEARNERS],
        "visits": series[M.VISITS],
        "signups": series[M.SIGNUPS],
        "funnel": funnel_cohort(start=start, end=end),
    }


def funnel_cohort(*, start: date, end: date) -> list[tuple[str, int]]:
    """One cohort followed to the end: the people who started a free test in the range (IST days), then
    how many of THEM have signed up, enrolled in a course and paid, by now. Each step is a subset of the
    one before, so no rate exceeds 100 %. A person is a learner (a user's attempt, or a free user's once
    linked to a user or sharing a user's phone) or, not yet signed up, a phone number. At most six
    queries (one when nobody took a free test).
    Reads the source tables (not the rollups): a cohort is not a sum of days.
    """
    window = (datetime.combine(start, time.min, tzinfo=LOCAL_TZ), datetime.combine(end, time.max, tzinfo=LOCAL_TZ))
    attempts = TestAttempt.objects.filter(test__is_free=True, started_at__range=window)
    rows = attempts.values_list("user_id", "free_user__phone", "free_user__user_id").distinct()
    learners: set[int] = set()
    phones: set[str] = set()
    for user_id, phone, linked_user_id in rows:
        if user_id or linked_user_id:
            learners.add(user_id or linked_user_id)
        elif phone:
            phones.add(phone)
    if phones:
        # A lead who signed up later: another of the phone's lead rows is linked, or a user has the phone.
        leads = FreeUser.objects.filter(phone__in=phones, user__isnull=False)
        signed_up = dict(leads.values_list("phone", "user_id"))
        signed_up.update(User.objects.filter(phone__in=phones).values_list("phone", "id"))
        learners |= set(signed_up.values())
        phones -= set(signed_up)
    students, enrolled, paid = set(), 0, 0
    if learners:
        students = set(User.objects.filter(pk__in=learners, role=User.Role.STUDENT).values_list("pk", flat=True))
    if students:
        enrolled = Enrollment.objects.filter(user_id__in=students).values("user_id").distinct().count()
        paid_rows = Payment.objects.filter(user_id__in=students, status__in=PAID_STATUSES)
        paid = paid_rows.values("user_id").distinct().count()
    return [
        ("Took a free test", len(learners) + len(phones)),
        ("Signed up", len(students)),
        ("Enrolled in a course", enrolled),
        ("Paid", paid),
    ]


@dataclass(frozen=True)
class CampaignReport:
    """The campaign table under one attribution model, with what no campaign brought and the total."""

    model: str
    rows: list[CampaignRow]
    direct_enrollments: int
    direct_payments: int
    direct_revenue_paise: int
    paid_revenue_paise: int  # all payments captured in the range, net of refunds

    @property
    def attributed_revenue_paise(self) -> int:
        """The rows plus direct: equals paid_revenue_paise (each payment counts once in each model)."""
        return sum(row.revenue_paise for row in self.rows) + self.direct_revenue_paise


def campaign_report(
    *, start: date, end: date, model: str = "first", fresh: Sequence[DailyMetric] = ()
) -> CampaignReport:
    """Campaigns by first touch (the campaign that first brought the learner, on any device) or by
    last touch (the latest attributed visit before the payment) (three queries)."""
    chosen = MODELS[model]
    metrics = [M.VISITS, M.LEADS, M.SIGNUPS, *chosen.values()]
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = _stored(DailyMetric.objects.filter(metric__in=metrics, date__range=(start, end)), fresh)
    for metric, dimension, value in (
        rows.exclude(dimension="").values_list("metric", "dimension").annotate(v=Sum("value")).order_by()
    ):
        totals[dimension][metric] = value
    paid_paise = 0
    for row in fresh:
        if start <= row.date <= end and row.metric in metrics and row.dimension:
            totals[row.dimension][row.metric] += row.value
        if start <= row.date <= end and row.metric == M.REVENUE_PAISE and row.dimension == "":
            paid_paise += row.value
    direct = totals.pop(DIRECT, {})
    campaigns = {(c.utm_source, c.utm_campaign): c for c in Campaign.objects.all()}
    table = [_campaign_row(dimension, numbers, campaigns, chosen) for dimension, numbers in totals.items()]
    paid = _stored(DailyMetric.objects.filter(metric=M.REVENUE_PAISE, dimension="", date__range=(start, end)), fresh)
    return CampaignReport(
        model=model,
        rows=sorted(table, key=lambda row: (-row.revenue_paise, -row.leads, row.source, row.campaign)),
        direct_enrollments=direct.get(chosen["enrollments"], 0),
        direct_payments=direct.get(chosen["payments"], 0),
        direct_revenue_paise=direct.get(chosen["revenue_paise"], 0),
        paid_revenue_paise=(paid.aggregate(total=Sum("value"))["total"] or 0) + paid_paise,
    )


def campaign_table(*, start: date, end: date, model: str = "first") -> list[CampaignRow]:
    """One row per UTM source + campaign seen in the range, by revenue.

    Cost is the campaign's whole spend as staff entered it, so cost per enrollment is meaningful
    when the range covers the campaign.
    """
    return campaign_report(start=start, end=end, model=model).rows


def engagement(*, start: date, end: date, fresh: Sequence[DailyMetric] = ()) -> dict:
    """Tests submitted per day and the average NTA score per topic over the range (two queries)."""
    attempts = metric_series(metrics=[M.ATTEMPTS], start=start, end=end, fresh=fresh)[M.ATTEMPTS]
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    topic_metrics = [M.TOPIC_SCORE_SUM, M.TOPIC_ATTEMPTS]
    rows = _stored(DailyMetric.objects.filter(metric__in=topic_metrics, date__range=(start, end)), fresh)
    for metric, topic, value in rows.values_list("metric", "dimension").annotate(v=Sum("value")).order_by():
        sums[topic][metric] = value
    for row in fresh:
        if start <= row.date <= end and row.metric in topic_metrics:
            sums[row.dimension][row.metric] += row.value
    topics = [
        (topic, round(numbers.get(M.TOPIC_SCORE_SUM, 0) / numbers[M.TOPIC_ATTEMPTS], 2), numbers[M.TOPIC_ATTEMPTS])
        for topic, numbers in sums.items()
        if numbers.get(M.TOPIC_ATTEMPTS)
    ]
    return {"attempts": attempts, "topics": sorted(topics)}


def _campaign_row(dimension: str, numbers: dict[str, int], campaigns: dict, chosen: dict) -> CampaignRow:
    source, _, campaign = dimension.partition("|")
    known = campaigns.get((source, campaign))
    return CampaignRow(
        source=source,
        campaign=campaign,
        name=known.name if known else "",
        visits=numbers.get(M.VISITS, 0),
        leads=numbers.get(M.LEADS, 0),
        signups=numbers.get(M.SIGNUPS, 0),
        enrollments=numbers.get(chosen["enrollments"], 0),
        payments=numbers.get(chosen["payments"], 0),
        revenue_paise=numbers.get(chosen["revenue_paise"], 0),
        cost_paise=known.cost_paise if known else None,
    )
