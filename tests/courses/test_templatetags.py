"""Template helpers: rupee formatting, sanitised Markdown, the server-side score-trend chart."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from courses.templatetags.courses_tags import markdown_safe, rupees


@pytest.mark.parametrize(
    ("paise", "text"),
    [
        (0, "₹0"),
        (99, "₹0.99"),
        (100_000, "₹1,000"),
        (4_999_900, "₹49,999"),
        (12_345_678_90, "₹1,23,45,678.90"),
        (-5_000, "-₹50"),
        (None, ""),
    ],
)
def test_rupees_uses_indian_grouping(paise, text):
    assert rupees(paise) == text


@pytest.mark.parametrize(
    ("markdown", "kept", "dropped"),
    [
        ("**bold**", "<strong>bold</strong>", None),
        ("<script>alert(1)</script>", None, "<script>"),
        ('<a href="javascript:alert(1)">x</a>', None, "javascript:"),
        ("<img src=x onerror=alert(1)>", None, "onerror"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "<table>", None),
    ],
)
def test_markdown_is_rendered_then_sanitised(markdown, kept, dropped):
    html = markdown_safe(markdown)

    if kept:
        assert kept in html
    if dropped:
        assert dropped not in html


def test_score_trend_draws_oldest_first_with_labels():
    history = [{"percent": 75.0}, {"percent": 25.0}]  # newest first, as the dashboard stores it

    svg = Template("{% load courses_tags %}{% score_trend history %}").render(Context({"history": history}))

    assert "Score in percent, oldest first: 25.0, 75.0." in svg
    assert svg.index(">25%<") < svg.index(">75%<")
    assert svg.count('class="bar"') == 2
    # The site's chart kind: a y axis with its unit and 0-100 ticks, an x axis with its title.
    assert ">Score (%)</text>" in svg
    assert ">Test, oldest to newest</text>" in svg
    assert [f">{tick}</text>" in svg for tick in (0, 25, 50, 75, 100)] == [True] * 5


def test_score_trend_without_history_invites_a_test():
    html = Template("{% load courses_tags %}{% score_trend history %}").render(Context({"history": []}))

    assert "Take a test to see your score trend." in html
