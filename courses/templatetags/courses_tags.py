"""Template helpers for the courses pages: rupees, safe Markdown, the score-trend chart."""

from __future__ import annotations

import functools

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from analytics.charts import bar_chart
from cerebrum.money import format_inr
from courses.selectors import ACTIVITY_TEXTS

register = template.Library()


@register.filter
def rupees(paise: int | None) -> str:
    """4999900 → "₹49,999" (Indian digit grouping; paise shown only when there are any)."""
    return format_inr(paise)


@register.filter
def markdown_safe(text: str) -> str:
    """Markdown to HTML, then sanitised by nh3 (staff-written notes still never carry scripts)."""
    return mark_safe(_markdown_html(text or ""))  # noqa: S308 - nh3 has removed anything unsafe


@functools.lru_cache(maxsize=512)
def _markdown_html(text: str) -> str:
    # A pure function of the note's text, re-rendered on every view before (~5 % of a mixed load's CPU).
    html = markdown_lib.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(html)


@register.filter
def activity_text(item: dict) -> str:
    """A dashboard activity line in the interface language: its English `text` (selectors.ACTIVITY_TEXTS,
    kept English in the cached data the API serves too) matched to its template, then translated."""
    text = item["text"]
    for template_text in ACTIVITY_TEXTS.get(item["kind"], ()):
        prefix = template_text.split("%(name)s")[0]
        if text.startswith(prefix):
            return _(template_text) % {"name": text[len(prefix) :]}
    return text


@register.inclusion_tag("courses/_trend.html")
def score_trend(history: list[dict]):
    """The score trend as the site's one chart kind (analytics.charts, server-rendered SVG with axes):
    one bar per test, oldest left, y axis "Score (%)" with round ticks (0-100), the % on each bar."""
    values = [row["percent"] for row in reversed(history)]
    chart = bar_chart(
        [(f"#{number}", max(value, 0)) for number, value in enumerate(values, start=1)],
        y_title=_("Score (%)"),  # rendered per request, in the interface language (locale/hi)
        x_title=_("Test, oldest to newest"),
    )
    if values:
        chart["y_ticks"] = bar_chart([("", 100)], y_title="")["y_ticks"]  # always a 0-100 % scale
        _rescale_to_percent(chart)
    for bar, value in zip(chart["bars"], values, strict=True):
        bar["value_text"] = f"{value:.0f}%"
    return {"chart": chart, "values": values}


def _rescale_to_percent(chart: dict) -> None:
    plot = chart["plot"]
    height = plot["bottom"] - plot["top"]
    for bar in chart["bars"]:
        bar["height"] = round(height * min(bar["value"], 100) / 100, 1)
        bar["y"] = round(plot["bottom"] - bar["height"], 1)
        bar["value_y"] = round(bar["y"] - 6, 1)
