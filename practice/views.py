"""Learner pages of the practice app: post-test analysis (server-rendered SVG charts), revision, notebook."""

from __future__ import annotations

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from analytics.charts import hbar_chart
from cerebrum.errors import Conflict
from courses import selectors as course_selectors
from practice import analysis, revision, selectors, services
from practice.models import ReviewLog


class AnalysisView(LoginRequiredMixin, TemplateView):
    """The analysis of an attempt the user may see (owner, linked parent read-only, staff); else 404."""

    template_name = "practice/analysis.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        attempt = selectors.attempt_for_analysis(user=request.user, attempt_id=kwargs["pk"])
        try:
            data = analysis.attempt_analysis(attempt=attempt)
        except Conflict as error:
            return self.render_to_response({"attempt": attempt, "pending": error.message})
        return self.render_to_response(self.get_context_data(attempt=attempt, analysis=data))

    def get_context_data(self, **kwargs) -> dict:
        data = kwargs["analysis"]
        comparison = data["comparison"]
        rows = [
            (_("You"), comparison["you"]),
            (_("Topper"), comparison["topper"]),
            (_("Average"), comparison["average"]),
        ]
        questions = [{**q, "outcome_label": OUTCOME_LABELS.get(q["outcome"], q["outcome"])} for q in data["questions"]]
        return {
            **super().get_context_data(**kwargs),
            "analysis": {**data, "questions": questions},
            "charts": analysis_charts(data),
            "comparison_rows": rows,
        }


# practice.analysis's outcome codes as the page shows them, in the interface language.
OUTCOME_LABELS = {
    "correct": gettext_lazy("Right"),
    "wrong": gettext_lazy("Wrong"),
    "unanswered": gettext_lazy("Blank"),
    "not_evaluated": gettext_lazy("Not evaluated"),
}


def analysis_charts(data: dict) -> list[dict]:
    """The page's charts: horizontal bars (long names stay whole on a 390 px phone), each with axis units;
    titles and axes in the interface language."""
    comparison = data["comparison"]
    charts = [
        (
            "score",
            _("Score: you, the topper and the average taker"),
            hbar_chart(
                [
                    (_("You"), comparison["you"]["score"]),
                    (_("Topper"), comparison["topper"]["score"]),
                    (_("Average"), comparison["average"]["score"]),
                ],
                x_title=_("Marks"),
            ),
        ),
        (
            "time-section",
            _("Your time per section, in minutes"),
            hbar_chart(
                [(row["name"], round(row["seconds"] / 60, 1)) for row in data["by_section"]], x_title=_("Minutes")
            ),
        ),
        (
            "accuracy-topic",
            _("Accuracy per topic (right out of attempted), in %"),
            hbar_chart(
                [(row["name"], row["accuracy_percent"] or 0) for row in data["by_topic"]], x_title=_("Accuracy (%)")
            ),
        ),
        (
            "longest",
            _("Questions that took you longest, in seconds"),
            hbar_chart(
                [(f"Q{row['number']} · {row['topic']}", row["your_seconds"]) for row in data["longest"]],
                x_title=_("Seconds"),
            ),
        ),
    ]
    return [{"id": chart_id, "title": title, "chart": chart} for chart_id, title, chart in charts]


class RevisionView(LoginRequiredMixin, TemplateView):
    """Today's practice: due reviews to rate, fresh questions from the weakest topics, the streak."""

    template_name = "practice/revision.html"

    def get_context_data(self, **kwargs) -> dict:
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "daily": revision.daily_set(user=user),
            "summary": revision.revision_summary(user=user),
            "ratings": [(value, _(label)) for value, label in ReviewLog.Rating.choices],
            "protected": course_selectors.protected_question_ids(),
        }


class ReviewRateView(LoginRequiredMixin, View):
    """POST a rating of one due card (the same service as the API; a repeat or not-due rating is a no-op)."""

    def post(self, request: HttpRequest, card_id: int) -> HttpResponse:
        form = ReviewRateForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest("Choose a rating.")
        revision.review_rate(user=request.user, card_id=card_id, **form.cleaned_data)
        return redirect("practice:revision")


class NotebookView(LoginRequiredMixin, TemplateView):
    """My mistakes and bookmarks, filterable by chapter and topic (?chapter=&topic=)."""

    template_name = "practice/notebook.html"

    def get_context_data(self, **kwargs) -> dict:
        user, chapter, topic = self.request.user, self.request.GET.get("chapter", ""), self.request.GET.get("topic", "")
        return {
            **super().get_context_data(**kwargs),
            "mistakes": selectors.mistake_list(user=user, chapter=chapter, topic=topic)[:100],
            "bookmarks": selectors.bookmark_list(user=user, chapter=chapter, topic=topic)[:100],
            "chapter": chapter,
            "topic": topic,
            "protected": course_selectors.protected_question_ids(),
        }


class BookmarkView(LoginRequiredMixin, View):
    """POST to bookmark a question (idempotent), or with remove=1 to drop the bookmark."""

    def post(self, request: HttpRequest, question_id: int) -> HttpResponse:
        if request.POST.get("remove"):
            services.bookmark_remove(user=request.user, question_id=question_id)
        else:
            services.bookmark_add(user=request.user, question_id=question_id)
        return redirect(url_has_allowed_host_and_scheme_or(request, "practice:notebook"))


class ReviewRateForm(forms.Form):
    rating = forms.TypedChoiceField(choices=ReviewLog.Rating.choices, coerce=int)
    key = forms.CharField(required=False, max_length=100)


def url_has_allowed_host_and_scheme_or(request: HttpRequest, fallback: str) -> str:
    """The form's `next` if it is a safe local URL, else the named page."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(fallback)
