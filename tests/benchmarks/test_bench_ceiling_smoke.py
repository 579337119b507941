"""Smoke run of the ceilings benchmark at a small size, and its blocking ceiling on a toy case."""

import numpy as np

from tests.benchmarks.bench_ceiling import blocking_ceiling, run_ceilings


def test_ceilings_benchmark_runs_and_its_ceilings_bound_the_model():
    figures = run_ceilings(records=2_000, seed=3)

    model, blocking = figures["model"], figures["blocking"]
    assert blocking["precision"] == 1.0
    assert blocking["f1"] >= model["f1"] > 0.85
    assert figures["model_reviews_decided"]["true_pairs"] == model["true_pairs"]
    for key in ("supervised_levels", "supervised_rich"):
        assert 0.8 < figures[key]["f1"] <= 1.0


def test_blocking_ceiling_links_true_candidates_through_chains_only():
    truth = np.array(["a", "a", "a", "b", "b"])
    # Candidates: 0-1 and 1-2 (true, chaining all of "a"), 2-3 (false), none for 3-4.
    left, right = np.array([0, 1, 2]), np.array([1, 2, 3])

    scores = blocking_ceiling(truth, left, right)

    assert (scores["true_pairs"], scores["linked_pairs"]) == (4, 3)
    assert scores["precision"] == 1.0 and scores["recall"] == 0.75
