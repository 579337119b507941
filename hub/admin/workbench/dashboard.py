"""The steward dashboard: queue flow, link outcomes, score histogram, per-source data quality."""

from __future__ import annotations

from hub.admin.workbench import charts
from hub.admin.workbench.access import page, require_view
from hub.selectors import workbench as selectors


def dashboard_view(request):
    """GET: the dashboard (a handful of grouped queries, whatever the data volume)."""
    require_view(request)
    thresholds = selectors.thresholds_current()
    flow = selectors.review_flow(days=14)
    bins = selectors.score_histogram()
    quality = selectors.source_quality()
    # One row per attribute, one cell per source: the table reads across sources.
    completeness = [{"name": cells[0]["name"], "cells": list(cells)}
                    for cells in zip(*(source["attributes"] for source in quality), strict=True)]
    return page(request, "dashboard.html", "Steward dashboard", {
        "flow": flow,
        "flow_chart": charts.daily_bars(flow),
        "outcomes": selectors.link_outcomes(),
        "histogram": charts.histogram(bins, review=thresholds.review,
                                      auto_link=thresholds.auto_link),
        "scored_links": sum(b["count"] for b in bins),
        "thresholds": thresholds,
        "quality": quality,
        "completeness": completeness,
    })
