"""Server-rendered SVG bar charts: no chart library, nothing from a CDN, readable without JavaScript."""

from __future__ import annotations

from datetime import date

WIDTH = 640
HEIGHT = 200
LABEL_ROOM = 26  # axis labels under the bars
TOP_ROOM = 22  # the "max" caption above them
MAX_LABELS = 5  # readable on a 360 px phone screen


def bar_chart(series: list[tuple[date | str, int | float]], *, width: int = WIDTH, height: int = HEIGHT) -> dict:
    """Geometry for a vertical bar chart of `series`; the template only draws it."""
    peak = max((value for _, value in series), default=0) or 1
    slot = width / max(len(series), 1)
    plot_height = height - LABEL_ROOM - TOP_ROOM
    bars = []
    for index, (label, value) in enumerate(series):
        bar_height = round(plot_height * max(value, 0) / peak, 1)
        bars.append(
            {
                "x": round(index * slot + slot * 0.1, 1),
                "y": round(TOP_ROOM + plot_height - bar_height, 1),
                "width": round(slot * 0.8, 1),
                "height": bar_height,
                "label": label.strftime("%d %b") if isinstance(label, date) else str(label),
                "value": value,
            }
        )
    every = max(1, -(-len(bars) // MAX_LABELS))
    for index, bar in enumerate(bars):
        bar["show_label"] = index % every == 0
    return {"width": width, "height": height, "peak": peak, "bars": bars}


def funnel_chart(steps: list[tuple[str, int]], *, width: int = WIDTH) -> dict:
    """Horizontal bars, one per funnel step, with the conversion from the previous step."""
    top = max((value for _, value in steps), default=0) or 1
    rows = []
    previous = None
    for index, (label, value) in enumerate(steps):
        rows.append(
            {
                "y": index * 44,
                "width": round((width - 330) * value / top, 1),
                "label": label,
                "value": value,
                "from_previous": round(100 * value / previous, 1) if previous else None,
            }
        )
        previous = value
    return {"width": width, "height": len(steps) * 44, "rows": rows}
