from __future__ import annotations

from datetime import date, timedelta

from analytics.charts import LABEL_ROOM, TOP_ROOM, bar_chart, funnel_chart


def test_bars_scale_to_the_peak_and_sit_on_the_axis():
    chart = bar_chart([("a", 0), ("b", 5), ("c", 10)], width=300, height=100 + LABEL_ROOM + TOP_ROOM)

    assert [bar["height"] for bar in chart["bars"]] == [0, 50.0, 100.0]
    assert {bar["y"] + bar["height"] for bar in chart["bars"]} == {TOP_ROOM + 100}
    assert [bar["x"] for bar in chart["bars"]] == [10.0, 110.0, 210.0]
    assert chart["peak"] == 10


def test_a_month_of_days_shows_at_most_five_axis_labels():
    start = date(2026, 11, 1)
    chart = bar_chart([(start + timedelta(days=n), n) for n in range(30)])

    labels = [bar["label"] for bar in chart["bars"] if bar["show_label"]]
    assert labels == ["01 Nov", "07 Nov", "13 Nov", "19 Nov", "25 Nov"]


def test_empty_series_has_no_bars_and_no_division_by_zero():
    assert bar_chart([])["bars"] == []
    assert bar_chart([("a", 0)])["bars"][0]["height"] == 0


def test_funnel_shows_conversion_from_the_previous_step():
    chart = funnel_chart([("Visitors", 200), ("Sign-ups", 50), ("Paid", 0), ("Refunded", 0)])

    assert [row["from_previous"] for row in chart["rows"]] == [None, 25.0, 0.0, None]
