"""Smoke run of the batch-matching benchmark at a small size: it runs and its figures are sane."""

import numpy as np

from tests.benchmarks.bench_linkage import pairwise_scores, run_benchmark


def test_linkage_benchmark_matches_synthetic_records_with_sane_figures():
    figures = run_benchmark(records=2_000, seed=3)

    assert 1_500 <= figures["records"] <= 2_500
    assert figures["candidate_pairs"] > figures["true_pairs"] > 0
    assert figures["pairs_completeness"] > 0.95
    assert figures["precision"] > 0.9 and figures["recall"] > 0.8
    assert figures["f1"] > 0.85
    assert {"standardise", "block", "compare", "train", "score", "entities"} <= set(
        figures["seconds"]
    )
    assert figures["peak_memory_mb"] > 0


def test_pairwise_scores_count_pairs_of_records_in_one_entity():
    truth = np.array(["a", "a", "a", "b", "b"])
    predicted = np.array([0, 0, 1, 1, 1])

    scores = pairwise_scores(truth, predicted)

    # True pairs: 3 (a) + 1 (b); predicted: 1 + 3; shared: (0, 1) and (3, 4).
    assert (scores["true_pairs"], scores["linked_pairs"]) == (4, 4)
    assert scores["precision"] == scores["recall"] == scores["f1"] == 0.5
