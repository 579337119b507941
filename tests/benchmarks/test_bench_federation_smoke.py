"""Smoke run of the federation benchmark at a tiny size: it runs and reports real figures."""

from tests.benchmarks.bench_federation import run_benchmark


def test_federation_benchmark_fans_out_concurrently_and_reports_latencies(db):
    figures = run_benchmark(calls=6, source_delay_ms=50)
    assert figures["statuses"] == ["ok", "ok", "ok", "ok"]
    assert figures["slowest_source_p50_ms"] >= 50
    assert 50 <= figures["api_p50_ms"] <= figures["api_p99_ms"]
    # Four sources fetched one after another would take at least four delays.
    assert figures["sequential_estimate_ms"] >= 200
    assert figures["api_p50_ms"] < figures["sequential_estimate_ms"]
