"""Server-rendered SVG charts with axes, units and readable labels: the one chart approach of the site.

No chart library and nothing from a CDN; a chart is readable without JavaScript, prints, and costs no
request. Python computes the geometry (this module), a template only draws it
(`templates/analytics/_bar_chart.html`, `_hbar_chart.html`). Coordinates are in the SVG's own units
(`viewBox`); the SVG scales to the page width keeping its proportions, so text keeps its shape on a
390 px phone (font sizes are chosen for that width: 640 units shown in ~360 px).

* `bar_chart` — a value per day (or per category) as vertical bars: a y axis with 4–5 "nice" ticks,
  gridlines and its unit title, an x axis with at most MAX_X_LABELS date labels and its title.
* `hbar_chart` — a value per category (campaign, topic) as horizontal bars, the full category name on
  the left (shortened with an ellipsis past LABEL_CHARS, the full name in the bar's tooltip), the value
  at the end of each bar, an x axis with ticks and its unit title.
* `funnel_chart` — the cohort funnel: one horizontal bar per step with its count, its share of the
  first step and of the step before (each step is a subset of the one before, so at most 100 %).
"""

from __future__ import annotations

import math
from datetime import date

WIDTH = 640
HEIGHT = 260
MARGIN_LEFT = 64  # y tick labels
MARGIN_RIGHT = 12
MARGIN_TOP = 14
MARGIN_BOTTOM = 58  # x tick labels, then the x axis title
MAX_X_LABELS = 6  # readable at 390 px
LABEL_CHARS = 22
ROW_HEIGHT = 34
HBAR_LABEL_ROOM = 230


def nice_ticks(peak: float, *, count: int = 4) -> list[float]:
    """0 and evenly spaced round values (1, 2, 2.5 or 5 × 10^n) up to at least `peak`."""
    if peak <= 0:
        return [0, 1]
    raw = peak / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if step >= 1:
        step = max(1, round(step))
    top = step * math.ceil(peak / step - 1e-9)
    return [round(step * index, 6) for index in range(int(round(top / step)) + 1)]


def tick_label(value: float) -> str:
    """Indian grouping for readability of money and counts: 1,50,000; 2.5 stays 2.5."""
    if value != int(value):
        return f"{value:g}"
    number = int(value)
    text = str(abs(number))
    if len(text) > 3:
        head, tail = text[:-3], text[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        text = ",".join([head, *groups, tail]) if head else ",".join([*groups, tail])
    return f"-{text}" if number < 0 else text


def bar_chart(
    series: list[tuple[date | str, int | float]],
    *,
    y_title: str,
    x_title: str = "Date (IST)",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> dict:
    """Geometry for vertical bars over `series` [(label, value)], with both axes and their titles."""
    plot_width = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = height - MARGIN_TOP - MARGIN_BOTTOM
    ticks = nice_ticks(max((value for _, value in series), default=0))
    top = ticks[-1] or 1
    slot = plot_width / max(len(series), 1)
    every = max(1, math.ceil(len(series) / MAX_X_LABELS))
    bars = []
    for index, (label, value) in enumerate(series):
        bar_height = round(plot_height * max(value, 0) / top, 1)
        x = MARGIN_LEFT + index * slot
        text = label.strftime("%d %b") if isinstance(label, date) else str(label)
        bars.append(
            {
                "x": round(x + slot * 0.12, 1),
                "y": round(MARGIN_TOP + plot_height - bar_height, 1),
                "width": round(max(slot * 0.76, 1), 1),
                "height": bar_height,
                "label": text,
                "value": value,
                "value_text": tick_label(value),
                "show_label": index % every == 0,
                "label_x": round(x + slot / 2, 1),
            }
        )
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "y_ticks": [
            {"y": round(MARGIN_TOP + plot_height * (1 - tick / top), 1), "label": tick_label(tick)} for tick in ticks
        ],
        "plot": _plot_box(width, height),
        "x_label_y": MARGIN_TOP + plot_height + 22,
        "x_title": x_title,
        "y_title": y_title,
        "x_title_y": height - 6,
        "x_title_x": MARGIN_LEFT + plot_width / 2,
        "y_title_y": MARGIN_TOP + plot_height / 2,
        "total": sum(value for _, value in series),
    }


def hbar_chart(rows: list[tuple[str, int | float]], *, x_title: str, width: int = WIDTH) -> dict:
    """Geometry for horizontal bars, one per category, with the category names on the left."""
    plot_left = HBAR_LABEL_ROOM
    plot_width = width - plot_left - 70  # room for the value after the longest bar
    ticks = nice_ticks(max((value for _, value in rows), default=0), count=3)
    top = ticks[-1] or 1
    plot_height = max(len(rows), 1) * ROW_HEIGHT
    height = MARGIN_TOP + plot_height + 56
    bars = []
    for index, (label, value) in enumerate(rows):
        y = MARGIN_TOP + index * ROW_HEIGHT
        text = str(label)
        bars.append(
            {
                "y": y + 6,
                "height": ROW_HEIGHT - 12,
                "width": round(plot_width * max(value, 0) / top, 1),
                "label": text,
                "short_label": text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…",
                "text_y": y + ROW_HEIGHT / 2 + 6,
                "value_text": tick_label(value),
            }
        )
    for bar in bars:
        bar["value_x"] = round(plot_left + bar["width"] + 6, 1)
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "plot_left": plot_left,
        "plot_bottom": MARGIN_TOP + plot_height,
        "x_ticks": [{"x": round(plot_left + plot_width * tick / top, 1), "label": tick_label(tick)} for tick in ticks],
        "x_label_y": MARGIN_TOP + plot_height + 22,
        "x_title": x_title,
        "x_title_x": plot_left + plot_width / 2,
        "x_title_y": height - 6,
    }


def funnel_chart(steps: list[tuple[str, int]], *, width: int = WIDTH) -> dict:
    """Horizontal bars, one per cohort step: the count, its share of the first step and of the previous."""
    chart = hbar_chart(steps, x_title="People in the cohort", width=width)
    first = steps[0][1] if steps else 0
    previous = None
    rows = []
    for (label, value), bar in zip(steps, chart["bars"], strict=True):
        rows.append(
            {
                **bar,
                "label": label,
                "value": value,
                "of_first": _percent(value, first) if previous is not None else None,
                "from_previous": _percent(value, previous) if previous is not None else None,
            }
        )
        previous = value
    return {**chart, "bars": rows, "rows": rows}


def _percent(part: int, whole: int | None) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _plot_box(width: int, height: int) -> dict:
    return {
        "left": MARGIN_LEFT,
        "right": width - MARGIN_RIGHT,
        "top": MARGIN_TOP,
        "bottom": height - MARGIN_BOTTOM,
    }
