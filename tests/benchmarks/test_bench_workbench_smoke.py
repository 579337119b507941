"""Smoke run of the workbench benchmark at a tiny demo size: the demo source systems really start,
are loaded and synced into the hub, and every page renders and is timed, with the task pages'
source records fetched live through all four connectors."""

import os

from tests.benchmarks.bench_workbench import DEMO_TOKENS, run_benchmark


def test_workbench_benchmark_times_every_page_over_the_synced_demo_sources(db, tmp_path):
    variables = (*DEMO_TOKENS, "DEMO_BILLING_DATABASE_URL")
    before = {name: os.environ.get(name) for name in variables}
    figures = run_benchmark(people=150, tasks=2, repeats=2, folder=tmp_path)
    assert set(figures["records_by_source"]) == {"crm", "billing", "support", "webshop"}
    assert figures["records"] == sum(figures["records_by_source"].values()) > 40
    assert figures["open_tasks"] > 0
    # Every connector (REST CRM and support desk, SQL billing, web-shop file) answered with
    # the full records, and nothing but "ok" came back.
    assert set(figures["live_records"]) == {"crm", "billing", "support", "webshop"}
    assert all(set(statuses) == {"ok"} for statuses in figures["live_records"].values())
    assert set(figures["pages"]) == {"queue", "task_page", "task_with_source_records",
                                     "entity_page", "dashboard"}
    for page in figures["pages"].values():
        assert 0 < page["p50_ms"] <= page["max_ms"]
        assert page["queries"] > 0
    assert figures["pages"]["task_page"]["samples"] == 2 * figures["tasks_visited"]
    assert figures["pages"]["task_with_source_records"]["queries"] > \
        figures["pages"]["task_page"]["queries"]
    assert figures["all_under_target"] == all(
        page["max_ms"] < figures["target_ms"] for page in figures["pages"].values())
    # The tokens and the billing DSN were set for the run only.
    assert {name: os.environ.get(name) for name in variables} == before
