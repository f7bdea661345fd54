"""Template helpers for the courses pages: rupees, safe Markdown, the score-trend chart."""

from __future__ import annotations

import functools

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe

from cerebrum.money import format_inr

register = template.Library()

TREND_WIDTH, TREND_HEIGHT, TREND_PAD = 320, 120, 18


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


@register.inclusion_tag("courses/_trend.html")
def score_trend(history: list[dict]):
    """Points of an inline SVG line chart of score percentages, oldest left (server-rendered, no JS)."""
    values = [row["percent"] for row in reversed(history)]
    span_x = TREND_WIDTH - 2 * TREND_PAD
    span_y = TREND_HEIGHT - 2 * TREND_PAD
    step = span_x / (len(values) - 1) if len(values) > 1 else 0
    points = [
        (round(TREND_PAD + index * step, 1), round(TREND_PAD + span_y * (1 - value / 100), 1))
        for index, value in enumerate(values)
    ]
    return {
        "points": " ".join(f"{x},{y}" for x, y in points),
        "dots": [(x, y, value) for (x, y), value in zip(points, values, strict=True)],
        "values": values,
        "width": TREND_WIDTH,
        "height": TREND_HEIGHT,
        "pad": TREND_PAD,
        "mid": TREND_HEIGHT / 2,
    }
