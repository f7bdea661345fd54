"""Staff dashboards under /staff/analytics/: thin views over reports/selectors.py and analytics/performance.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponseRedirect
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from analytics import charts, performance
from analytics.forms import DateRangeForm
from cerebrum.task_publish import task_publish
from reports import caches, rollups, selectors
from reports.tasks import rollups_backfill, rollups_rebuild


def range_complete(*, start, end) -> tuple[list, list]:
    """What the chosen range needs beyond the stored rollups, writing nothing (a GET never writes).

    Returns (fresh, computing): `fresh` are the unsaved DailyMetric rows of the newest
    ANALYTICS_ROLLUP_SYNC_DAYS missing (or stale) days, computed in this request for display, bounded
    in cost (~0.1 s a day per million events); `computing` the older missing days (newest first), which
    the page names. Persisting every missing day is the `rollups_backfill` task's job, published once per
    ten minutes per range (idempotent: it recomputes whole days). Where tasks run in the process (the
    embedded default, tests) the publish itself fills the table, and nothing is left to compute here.
    """
    missing = rollups.days_to_compute(start=start, end=end)
    if missing and caches.backfill_claim(start, end):
        # Broker down: left; the page asks again once this ten-minute mark expires.
        task_publish(rollups_backfill, [day.isoformat() for day in missing], if_unreachable="leave")
        missing = rollups.days_to_compute(start=start, end=end)
    now, later = missing[: settings.ANALYTICS_ROLLUP_SYNC_DAYS], missing[settings.ANALYTICS_ROLLUP_SYNC_DAYS :]
    return rollups.days_compute(dates=now), later


@method_decorator(staff_member_required, name="dispatch")
class StaffDashboardView(TemplateView):
    section = ""

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        form = DateRangeForm(self.request.GET or None)
        start, end = form.range()
        fresh, computing = range_complete(start=start, end=end)
        context.update(form=form, start=start, end=end, section=self.section, computing=computing)
        context.update(self.numbers(start, end, fresh))
        return context

    def numbers(self, start, end, fresh) -> dict:
        return {}


class OverviewView(StaffDashboardView):
    template_name = "analytics/overview.html"
    section = "overview"

    def numbers(self, start, end, fresh) -> dict:
        data = selectors.overview(start=start, end=end, fresh=fresh)
        return {
            "active_chart": charts.bar_chart(data["active_learners"], y_title="Learners (signed in)"),
            "visits_chart": charts.bar_chart(data["visits"], y_title="Visitors"),
            "signups_chart": charts.bar_chart(data["signups"], y_title="Sign-ups"),
            "funnel": charts.funnel_chart(data["funnel"]),
        }


class CampaignsView(StaffDashboardView):
    template_name = "analytics/campaigns.html"
    section = "campaigns"

    def numbers(self, start, end, fresh) -> dict:
        model = self.request.GET.get("model", "first")
        model = model if model in selectors.MODELS else "first"
        report = selectors.campaign_report(start=start, end=end, model=model, fresh=fresh)
        rows = report.rows
        chart = charts.hbar_chart(
            [(f"{row.source or '(none)'} / {row.campaign or '(none)'}", row.revenue_paise // 100) for row in rows[:12]],
            x_title="Paid revenue, net of refunds (₹)",
        )
        return {"rows": rows, "report": report, "model": model, "revenue_chart": chart}


class EngagementView(StaffDashboardView):
    template_name = "analytics/engagement.html"
    section = "engagement"

    def numbers(self, start, end, fresh) -> dict:
        data = selectors.engagement(start=start, end=end, fresh=fresh)
        topics = data["topics"]
        return {
            "attempts_chart": charts.bar_chart(data["attempts"], y_title="Tests submitted"),
            "topics": topics,
            "topics_chart": charts.hbar_chart(
                [(topic, average) for topic, average, _ in topics], x_title="Average score per attempt (NTA marks)"
            ),
        }


@method_decorator(staff_member_required, name="dispatch")
class PerformanceView(TemplateView):
    template_name = "analytics/performance.html"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context.update(performance.snapshot(), section="performance", refresh_seconds=10)
        return context


@method_decorator(staff_member_required, name="dispatch")
class RefreshView(View):
    """Recompute the recent rollups now instead of waiting for the 5-minute task (the embedded default
    has no beat at all, so this is how its dashboards fill)."""

    def post(self, request):
        task_publish(rollups_rebuild, days=settings.ANALYTICS_ROLLUP_DAYS, if_unreachable="run_here")
        messages.success(request, "The numbers of the last few days are being recomputed.")
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "/staff/analytics/"
        return HttpResponseRedirect(target)
