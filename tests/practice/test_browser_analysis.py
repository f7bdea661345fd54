"""Browser: a learner reads their post-test analysis on a 390 px phone: charts fit, labelled, no sideways scroll."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_analysis_at_390px(page, ten_learner_test):
    # Given learner 10 of the hand-computed test (rank 5 of 10, percentile 60)
    learner = ten_learner_test["learners"][10]
    attempt = ten_learner_test["attempts"][10]

    # When they sign in and open the analysis from their result
    page.goto("/accounts/login/")
    page.get_by_label("Email or mobile number").fill(learner.email)
    page.get_by_label("Password").fill("s3cret-Pass!")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/attempts/{attempt.pk}/result/")
    page.get_by_role("link", name="See the analysis").click()

    # Then the standing and the estimate are there, and each chart is a labelled image within the screen
    expect(page.locator("#standing")).to_contain_text("Rank 5 of 10")
    expect(page.locator("#standing")).to_contain_text("60.0000000")
    expect(page.locator("#rank-band")).to_contain_text("Estimate")
    charts = page.get_by_role("img")
    for name in ("Score: you, the topper and the average taker", "Your time per section, in minutes"):
        expect(page.get_by_role("img", name=name)).to_be_visible()
    assert charts.count() >= 4
    widths = page.evaluate("[...document.querySelectorAll('svg.chart')].map(s => s.getBoundingClientRect().right)")
    assert max(widths) <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Axis titles carry units, and the smallest chart text stays readable (>= 9 CSS px once scaled).
    expect(page.locator("svg.chart text.axis-title", has_text="Minutes")).to_have_count(1)
    smallest = page.evaluate(
        "Math.min(...[...document.querySelectorAll('svg.chart text')].map(t => t.getBoundingClientRect().height)"
        ".filter(h => h > 0))"
    )
    assert smallest >= 9
