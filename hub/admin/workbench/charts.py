"""Geometry for the workbench's inline SVG charts: plain numbers the templates draw as rects.

Charts are drawn server-side as SVG so the pages need no script library and no CDN; this module
only maps values to coordinates, the templates hold the markup.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """A linear map from ``[low, high]`` onto ``[left, left + width]`` pixels."""

    low: float
    high: float
    left: float
    width: float

    def x(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return round(self.left + (value - self.low) / span * self.width, 1)


def _padded(values: list[float], pad: float = 1.0) -> tuple[float, float]:
    return min(values) - pad, max(values) + pad


def waterfall(explanation: dict, *, review: float, auto_link: float, width: int = 640,
              label_width: int = 170, row_height: int = 22) -> dict:
    """A waterfall of the match weight: the prior, then each attribute's weight added in turn,
    then the total, with both thresholds drawn across. Each row carries its agreement level."""
    attributes = explanation.get("attributes") or []
    prior = float(explanation.get("prior") or 0.0)
    steps = [("prior", "", prior)] + [
        (a.get("attribute", "?"), a.get("level", ""), float(a.get("weight") or 0.0))
        for a in attributes]
    running, edges = 0.0, [0.0]
    for _, _, weight in steps:
        running += weight
        edges.append(running)
    total = float(explanation.get("weight", running))
    low, high = _padded(edges + [total, review, auto_link])
    scale = Scale(low, high, label_width, width - label_width - 60)
    rows = []
    start = 0.0
    for index, (name, level, weight) in enumerate(steps):
        end = start + weight
        x0, x1 = scale.x(min(start, end)), scale.x(max(start, end))
        rows.append({"label": name, "level": level, "weight": round(weight, 2),
                     "x": x0, "width": max(x1 - x0, 1.0), "y": index * row_height,
                     "positive": weight >= 0, "text_x": scale.x(max(start, end)) + 4})
        start = end
    total_y = len(steps) * row_height
    x0, x1 = scale.x(min(0.0, total)), scale.x(max(0.0, total))
    rows.append({"label": "total", "level": "", "weight": round(total, 2), "x": x0,
                 "width": max(x1 - x0, 1.0), "y": total_y, "positive": total >= 0,
                 "is_total": True, "text_x": x1 + 4})
    height = total_y + row_height + 18
    return {"rows": rows, "height": height, "width": width, "row_height": row_height,
            "bar_height": row_height - 6, "label_width": label_width,
            "zero_x": scale.x(0.0), "review_x": scale.x(review), "auto_x": scale.x(auto_link),
            "axis_y": height - 14, "review": review, "auto_link": auto_link}


def histogram(bins: list[dict], *, review: float, auto_link: float, width: int = 440,
              height: int = 220) -> dict:
    """Bars of a score histogram (1-bit bins) with the two threshold lines."""
    left, bottom, top = 40, height - 24, 10
    if not bins:
        return {"bars": [], "width": width, "height": height, "ticks": []}
    low, high = bins[0]["start"], bins[-1]["start"] + 1
    scale = Scale(low, high, left, width - left - 10)
    tallest = max(b["count"] for b in bins) or 1
    bar_width = max(scale.x(low + 1) - scale.x(low) - 1, 1)
    bars = []
    for item in bins:
        bar_height = round((bottom - top) * item["count"] / tallest, 1)
        bars.append({"x": scale.x(item["start"]), "y": round(bottom - bar_height, 1),
                     "width": bar_width, "height": bar_height, "count": item["count"],
                     "start": item["start"]})
    ticks = [{"x": scale.x(v), "label": v} for v in range(low, high + 1, 5)]
    return {"bars": bars, "width": width, "height": height, "bottom": bottom, "top": top,
            "review_x": scale.x(review), "auto_x": scale.x(auto_link), "ticks": ticks,
            "tallest": tallest, "label_y": bottom + 16}


def daily_bars(rows: list[dict], *, width: int = 440, height: int = 200) -> dict:
    """Side-by-side bars per day: tasks opened and tasks resolved."""
    left, bottom, top = 30, height - 22, 10
    slot = (width - left) / max(len(rows), 1)
    tallest = max([max(r["opened"], r["resolved"]) for r in rows] + [1])
    days = []
    for index, row in enumerate(rows):
        x = left + index * slot
        opened_h = round((bottom - top) * row["opened"] / tallest, 1)
        resolved_h = round((bottom - top) * row["resolved"] / tallest, 1)
        days.append({"label": row["day"].strftime("%d %b"), "x": round(x, 1),
                     "bar_width": round(slot / 2 - 3, 1),
                     "opened": row["opened"], "opened_y": round(bottom - opened_h, 1),
                     "opened_h": opened_h, "resolved": row["resolved"],
                     "resolved_x": round(x + slot / 2 - 2, 1),
                     "resolved_y": round(bottom - resolved_h, 1), "resolved_h": resolved_h,
                     "label_x": round(x + slot / 2 - 3, 1)})
    return {"days": days, "width": width, "height": height, "bottom": bottom,
            "label_y": bottom + 15, "tallest": tallest}
