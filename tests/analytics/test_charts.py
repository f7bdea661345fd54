"""The SVG charts' geometry: axes with round ticks and units, readable labels (analytics/charts.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analytics.charts import MARGIN_BOTTOM, MARGIN_TOP, bar_chart, funnel_chart, hbar_chart, nice_ticks, tick_label


def test_bars_scale_to_the_top_tick_and_sit_on_the_x_axis():
    chart = bar_chart([("a", 0), ("b", 5), ("c", 10)], y_title="Learners", height=100 + MARGIN_TOP + MARGIN_BOTTOM)

    assert [tick["label"] for tick in chart["y_ticks"]] == ["0", "2", "4", "6", "8", "10"]
    assert [bar["height"] for bar in chart["bars"]] == [0, 50.0, 100.0]
    assert {round(bar["y"] + bar["height"], 1) for bar in chart["bars"]} == {chart["plot"]["bottom"]}
    assert chart["y_ticks"][0]["y"] == chart["plot"]["bottom"]  # 0 on the x axis
    assert chart["y_ticks"][-1]["y"] == chart["plot"]["top"]
    assert (chart["x_title"], chart["y_title"]) == ("Date (IST)", "Learners")


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [
        (0, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (10, [0, 2, 4, 6, 8, 10]),
        (0.5, [0, 0.2, 0.4, 0.6]),
        (59_999, [0, 20_000, 40_000, 60_000]),
    ],
)
def test_ticks_are_round_numbers_covering_the_peak(peak, ticks):
    assert nice_ticks(peak) == ticks


@pytest.mark.parametrize(
    ("value", "label"), [(0, "0"), (999, "999"), (1_500, "1,500"), (150_000, "1,50,000"), (12_345_678, "1,23,45,678")]
)
def test_tick_labels_use_indian_digit_grouping(value, label):
    assert tick_label(value) == label


def test_a_quarter_of_days_shows_at_most_six_whole_date_labels():
    start = date(2026, 9, 1)
    chart = bar_chart([(start + timedelta(days=n), n) for n in range(90)], y_title="Visitors")

    labels = [bar["label"] for bar in chart["bars"] if bar["show_label"]]
    assert labels == ["01 Sep", "16 Sep", "01 Oct", "16 Oct", "31 Oct", "15 Nov"]


def test_empty_series_has_no_bars_and_no_division_by_zero():
    assert bar_chart([], y_title="x")["bars"] == []
    assert bar_chart([("a", 0)], y_title="x")["bars"][0]["height"] == 0
    assert hbar_chart([], x_title="x")["bars"] == []


def test_horizontal_bars_keep_category_names_readable():
    chart = hbar_chart(
        [("google / neet-2027-class-12-target", 59_999), ("fb / retarget", 30_000)], x_title="Revenue (₹)"
    )

    first, second = chart["bars"]
    assert first["label"] == "google / neet-2027-class-12-target"  # whole in the tooltip
    assert first["short_label"] == "google / neet-2027-cl…"
    assert second["short_label"] == "fb / retarget"
    assert first["value_text"] == "59,999"
    assert first["width"] > second["width"] > 0
    assert [tick["label"] for tick in chart["x_ticks"]] == ["0", "20,000", "40,000", "60,000"]


def test_funnel_rates_are_shares_of_the_cohort_and_of_the_step_before():
    chart = funnel_chart([("Took a free test", 200), ("Signed up", 50), ("Enrolled", 10), ("Paid", 0)])

    assert [row["of_first"] for row in chart["rows"]] == [None, 25.0, 5.0, 0.0]
    assert [row["from_previous"] for row in chart["rows"]] == [None, 25.0, 20.0, 0.0]
