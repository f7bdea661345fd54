"""Learner pages of the practice app: the post-test analysis (charts are server-rendered SVG)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.views.generic import TemplateView

from analytics.charts import hbar_chart
from cerebrum.errors import Conflict, NotFound
from practice import analysis, selectors


class AnalysisView(LoginRequiredMixin, TemplateView):
    """The analysis of an attempt the user may see (owner, linked parent read-only, staff); else 404."""

    template_name = "practice/analysis.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            attempt = selectors.attempt_for_analysis(user=request.user, attempt_id=kwargs["pk"])
            data = analysis.attempt_analysis(attempt=attempt)
        except NotFound as error:
            raise Http404(error.message) from error
        except Conflict as error:
            return self.render_to_response({"attempt": attempt, "pending": error.message})
        return self.render_to_response(self.get_context_data(attempt=attempt, analysis=data))

    def get_context_data(self, **kwargs) -> dict:
        data = kwargs["analysis"]
        comparison = data["comparison"]
        rows = [("You", comparison["you"]), ("Topper", comparison["topper"]), ("Average", comparison["average"])]
        return {**super().get_context_data(**kwargs), "charts": analysis_charts(data), "comparison_rows": rows}


def analysis_charts(data: dict) -> list[dict]:
    """The page's charts: horizontal bars (long names stay whole on a 390 px phone), each with axis units."""
    comparison = data["comparison"]
    charts = [
        (
            "score",
            "Score: you, the topper and the average taker",
            hbar_chart(
                [
                    ("You", comparison["you"]["score"]),
                    ("Topper", comparison["topper"]["score"]),
                    ("Average", comparison["average"]["score"]),
                ],
                x_title="Marks",
            ),
        ),
        (
            "time-section",
            "Your time per section, in minutes",
            hbar_chart([(row["name"], round(row["seconds"] / 60, 1)) for row in data["by_section"]], x_title="Minutes"),
        ),
        (
            "accuracy-topic",
            "Accuracy per topic (right out of attempted), in %",
            hbar_chart(
                [(row["name"], row["accuracy_percent"] or 0) for row in data["by_topic"]], x_title="Accuracy (%)"
            ),
        ),
        (
            "longest",
            "Questions that took you longest, in seconds",
            hbar_chart(
                [(f"Q{row['number']} · {row['topic']}", row["your_seconds"]) for row in data["longest"]],
                x_title="Seconds",
            ),
        ),
    ]
    return [{"id": chart_id, "title": title, "chart": chart} for chart_id, title, chart in charts]
