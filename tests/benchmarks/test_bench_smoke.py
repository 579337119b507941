"""Smoke run of the benchmarks at a small size: they run and report real figures."""

from tests.benchmarks.bench_ingest import percentile, run_benchmark


def test_ingest_benchmark_ingests_and_times_every_record(db):
    figures = run_benchmark(records=150)
    assert figures["records"] == 150
    assert figures["stored_records"] == 150
    assert sum(figures["outcomes"].values()) == 150
    assert figures["outcomes"].get("linked", 0) > 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert figures["records_per_second"] > 0


def test_percentile_uses_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0


def test_agreement_benchmark_compares_real_time_with_batch(db):
    from tests.benchmarks.bench_agreement import run_agreement

    figures = run_agreement(records=120)
    assert figures["records"] == 120
    assert 0.5 <= figures["agreement"] <= 1.0


def test_partition_agreement_counts_records_with_identical_clusters():
    from tests.benchmarks.bench_agreement import partition_agreement

    assert partition_agreement({1: "a", 2: "a", 3: "b"}, {1: "x", 2: "x", 3: "y"}) == 1.0
    assert partition_agreement({1: "a", 2: "a", 3: "b"}, {1: "x", 2: "y", 3: "y"}) == 0.0
    assert partition_agreement({1: "a", 2: "a", 3: "b"}, {1: "x", 2: "y", 3: "z"}) == 1 / 3


def test_match_benchmark_loads_unmatched_records_and_times_one_batch_run(db):
    from hub.models import Entity, Event
    from tests.benchmarks.bench_match import run_benchmark as run_match

    figures = run_match(records=300)
    assert figures["records"] == 300
    assert figures["match_seconds"] > 0
    # The batch run merged duplicates: fewer entities than records, and it said so.
    assert figures["entities"] == Entity.objects.filter(state="active").count() < 300
    assert Event.objects.filter(kind="match.completed").count() == 1
    assert 0.5 < figures["precision"] <= 1.0 and 0.5 < figures["recall"] <= 1.0


def test_realtime_benchmark_times_upserts_and_a_rerun_meets_the_hub_as_loaded(db):
    from hub.models import SourceRecord
    from tests.benchmarks.bench_realtime import run_benchmark as run_realtime

    first = run_realtime(hub_records=400, probes=30, warmup=5)
    again = run_realtime(hub_records=400, probes=30, warmup=5, reuse=True)

    assert first["probes"] == again["probes"] == 30
    assert 0 < first["p50_ms"] <= first["p99_ms"]
    assert first["queries_per_upsert_p50"] > 0
    assert sum(first["outcomes"].values()) == 30
    # The rerun deleted the first run's probes (and warm-ups): it met the hub as loaded.
    assert again["hub_records"] == first["hub_records"]
    assert again["outcomes"] == first["outcomes"]
    assert SourceRecord.objects.filter(state="active").count() == first["hub_records"] + 35
