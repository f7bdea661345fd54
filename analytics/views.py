"""Staff dashboards under /staff/analytics/: thin views over selectors.py and performance.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponseRedirect
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from analytics import charts, performance, selectors
from analytics.forms import DateRangeForm
from analytics.tasks import rollups_rebuild


@method_decorator(staff_member_required, name="dispatch")
class StaffDashboardView(TemplateView):
    section = ""

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        form = DateRangeForm(self.request.GET or None)
        start, end = form.range()
        context.update(form=form, start=start, end=end, section=self.section)
        context.update(self.numbers(start, end))
        return context

    def numbers(self, start, end) -> dict:
        return {}


class OverviewView(StaffDashboardView):
    template_name = "analytics/overview.html"
    section = "overview"

    def numbers(self, start, end) -> dict:
        data = selectors.overview(start=start, end=end)
        return {
            "active_chart": charts.bar_chart(data["active_learners"]),
            "signups_chart": charts.bar_chart(data["signups"]),
            "funnel": charts.funnel_chart(data["funnel"]),
        }


class CampaignsView(StaffDashboardView):
    template_name = "analytics/campaigns.html"
    section = "campaigns"

    def numbers(self, start, end) -> dict:
        model = self.request.GET.get("model", "first")
        model = model if model in selectors.MODELS else "first"
        report = selectors.campaign_report(start=start, end=end, model=model)
        rows = report.rows
        chart = charts.bar_chart([(row.campaign or row.source, row.revenue_paise // 100) for row in rows[:12]])
        return {"rows": rows, "report": report, "model": model, "revenue_chart": chart}


class EngagementView(StaffDashboardView):
    template_name = "analytics/engagement.html"
    section = "engagement"

    def numbers(self, start, end) -> dict:
        data = selectors.engagement(start=start, end=end)
        topics = data["topics"]
        return {
            "attempts_chart": charts.bar_chart(data["attempts"]),
            "topics": topics,
            "topics_chart": charts.bar_chart([(topic, average) for topic, average, _ in topics]),
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
        rollups_rebuild.delay(days=settings.ANALYTICS_ROLLUP_DAYS)
        messages.success(request, "The numbers of the last few days are being recomputed.")
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "/staff/analytics/"
        return HttpResponseRedirect(target)
