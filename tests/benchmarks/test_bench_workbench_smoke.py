"""Smoke run of the workbench benchmark at a tiny demo size: every page renders and is timed."""

from tests.benchmarks.bench_workbench import run_benchmark


def test_workbench_benchmark_times_every_page_over_the_demo(db, tmp_path):
    figures = run_benchmark(people=60, repeats=2, folder=tmp_path)
    assert figures["records"] > 60
    assert figures["open_tasks"] > 0
    # The fake file sources answer, so the task page's live records really were fetched.
    assert figures["source_record_statuses"] == ["ok"]
    assert set(figures["pages"]) == {"queue", "task_page", "task_with_source_records",
                                     "entity_page", "dashboard"}
    for page in figures["pages"].values():
        assert 0 < page["p50_ms"] <= page["max_ms"]
        assert page["queries"] > 0
    assert figures["pages"]["task_with_source_records"]["queries"] > \
        figures["pages"]["task_page"]["queries"]
