"""Reads for the staff dashboards. Each reads only the rollup table (plus campaigns' costs), so its
query count and cost do not grow with the number of events.

Access: the views are staff-only (`staff_member_required`); nothing here is learner-facing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Sum

from analytics.models import Campaign, DailyMetric

M = DailyMetric.Metric
FUNNEL = [M.VISITS, M.FREE_TESTS, M.SIGNUPS, M.ENROLLMENTS, M.PAYMENTS]
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
    def cost_per_enrollment_paise(self) -> int | None:
        if self.cost_paise is None or not self.enrollments:
            return None
        return round(self.cost_paise / self.enrollments)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def metric_series(*, metrics: list[str], start: date, end: date) -> dict[str, list[tuple[date, int]]]:
    """Each metric's daily totals over the range, with zero for days that have no row (one query)."""
    values: dict[str, dict[date, int]] = defaultdict(dict)
    rows = DailyMetric.objects.filter(metric__in=metrics, dimension="", date__range=(start, end))
    for metric, day, value in rows.values_list("metric", "date", "value"):
        values[metric][day] = value
    days = days_between(start, end)
    return {metric: [(day, values[metric].get(day, 0)) for day in days] for metric in metrics}


def overview(*, start: date, end: date) -> dict:
    """Daily active learners and sign-ups per day, and the funnel's totals over the range (one query)."""
    series = metric_series(metrics=[M.ACTIVE_LEARNERS, *FUNNEL], start=start, end=end)
    funnel = [(M(metric).label, sum(value for _, value in series[metric])) for metric in FUNNEL]
    return {"active_learners": series[M.ACTIVE_LEARNERS], "signups": series[M.SIGNUPS], "funnel": funnel}


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


def campaign_report(*, start: date, end: date, model: str = "first") -> CampaignReport:
    """Campaigns by first touch (the campaign that first brought the learner, on any device) or by
    last touch (the latest attributed visit before the payment) (three queries)."""
    chosen = MODELS[model]
    metrics = [M.VISITS, M.LEADS, M.SIGNUPS, *chosen.values()]
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = DailyMetric.objects.filter(metric__in=metrics, date__range=(start, end)).exclude(dimension="")
    for metric, dimension, value in rows.values_list("metric", "dimension").annotate(v=Sum("value")).order_by():
        totals[dimension][metric] = value
    direct = totals.pop(DIRECT, {})
    campaigns = {(c.utm_source, c.utm_campaign): c for c in Campaign.objects.all()}
    table = [_campaign_row(dimension, numbers, campaigns, chosen) for dimension, numbers in totals.items()]
    paid = DailyMetric.objects.filter(metric=M.REVENUE_PAISE, dimension="", date__range=(start, end))
    return CampaignReport(
        model=model,
        rows=sorted(table, key=lambda row: (-row.revenue_paise, -row.leads, row.source, row.campaign)),
        direct_enrollments=direct.get(chosen["enrollments"], 0),
        direct_payments=direct.get(chosen["payments"], 0),
        direct_revenue_paise=direct.get(chosen["revenue_paise"], 0),
        paid_revenue_paise=paid.aggregate(total=Sum("value"))["total"] or 0,
    )


def campaign_table(*, start: date, end: date, model: str = "first") -> list[CampaignRow]:
    """One row per UTM source + campaign seen in the range, by revenue.

    Cost is the campaign's whole spend as staff entered it, so cost per enrollment is meaningful
    when the range covers the campaign.
    """
    return campaign_report(start=start, end=end, model=model).rows


def engagement(*, start: date, end: date) -> dict:
    """Tests submitted per day and the average NTA score per topic over the range (two queries)."""
    attempts = metric_series(metrics=[M.ATTEMPTS], start=start, end=end)[M.ATTEMPTS]
    sums: dict[str, dict[str, int]] = defaultdict(dict)
    rows = DailyMetric.objects.filter(metric__in=[M.TOPIC_SCORE_SUM, M.TOPIC_ATTEMPTS], date__range=(start, end))
    for metric, topic, value in rows.values_list("metric", "dimension").annotate(v=Sum("value")).order_by():
        sums[topic][metric] = value
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
