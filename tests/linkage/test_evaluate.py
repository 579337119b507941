"""Tests for linkage.evaluate: pairwise and B-cubed scores, blocking quality, decided reviews."""

import itertools
import random

import pandas as pd
import pytest

from linkage.evaluate import (
    PairMetrics,
    bcubed,
    blocking_metrics,
    pairwise_metrics,
    with_review_decided,
)

# Truth: {1, 2, 3} and {4, 5}. Prediction: {1, 2}, {3, 4} and {5}.
TRUTH = {1: "anna", 2: "anna", 3: "anna", 4: "ben", 5: "ben"}
PREDICTED = {1: "g1", 2: "g1", 3: "g3", 4: "g3", 5: "g5"}


def test_pairwise_counts_on_a_hand_worked_example():
    # True pairs 12 13 23 45; predicted pairs 12 34: one right, one wrong, three missed.
    metrics = pairwise_metrics(TRUTH, PREDICTED)

    assert metrics == PairMetrics(true_positives=1, false_positives=1, false_negatives=3)
    assert metrics.precision == 0.5
    assert metrics.recall == 0.25
    assert metrics.f1 == pytest.approx(1 / 3)


def test_pairwise_perfect_prediction_scores_one_whatever_the_label_names():
    renamed = {record: f"golden-{label}" for record, label in TRUTH.items()}

    metrics = pairwise_metrics(TRUTH, renamed)

    assert (metrics.precision, metrics.recall, metrics.f1) == (1.0, 1.0, 1.0)


def test_nothing_predicted_has_precision_one_and_nothing_true_has_recall_one():
    singletons = {record: record for record in TRUTH}

    nothing_predicted = pairwise_metrics(TRUTH, singletons)
    nothing_true = pairwise_metrics(singletons, TRUTH)
    nothing_at_all = pairwise_metrics(singletons, singletons)

    assert (nothing_predicted.precision, nothing_predicted.recall, nothing_predicted.f1) == (
        1.0, 0.0, 0.0)
    assert (nothing_true.precision, nothing_true.recall) == (0.0, 1.0)
    assert (nothing_at_all.precision, nothing_at_all.recall, nothing_at_all.f1) == (1.0, 1.0, 1.0)


def test_pairwise_counting_agrees_with_enumerating_every_pair():
    rng = random.Random(7)
    truth = {record: rng.randrange(15) for record in range(60)}
    predicted = {record: rng.choice([label, rng.randrange(20)]) for record, label in truth.items()}
    together_in_truth = {p for p in itertools.combinations(truth, 2) if truth[p[0]] == truth[p[1]]}
    together_predicted = {
        p for p in itertools.combinations(truth, 2) if predicted[p[0]] == predicted[p[1]]}

    metrics = pairwise_metrics(truth, predicted)

    assert metrics == PairMetrics(
        true_positives=len(together_in_truth & together_predicted),
        false_positives=len(together_predicted - together_in_truth),
        false_negatives=len(together_in_truth - together_predicted),
    )


def test_mappings_over_different_records_are_rejected():
    with pytest.raises(ValueError, match="5"):
        pairwise_metrics(TRUTH, {1: "a", 2: "a", 3: "a", 4: "b"})
    with pytest.raises(ValueError, match="6"):
        bcubed(TRUTH, {**PREDICTED, 6: "g6"})


def test_bcubed_on_a_hand_worked_example():
    # Precision per record: 1, 1, 1/2, 1/2, 1 -> 4/5. Recall: 2/3, 2/3, 1/3, 1/2, 1/2 -> 8/15.
    precision, recall, f1 = bcubed(TRUTH, PREDICTED)

    assert precision == pytest.approx(4 / 5)
    assert recall == pytest.approx(8 / 15)
    assert f1 == pytest.approx(2 * (4 / 5) * (8 / 15) / (4 / 5 + 8 / 15))


def test_bcubed_of_everything_merged_and_of_everything_apart():
    truth = {record: record for record in range(4)}  # four different people
    merged = dict.fromkeys(truth, "one")

    assert bcubed(truth, merged) == pytest.approx((0.25, 1.0, 0.4))
    assert bcubed(merged, truth) == pytest.approx((1.0, 0.25, 0.4))
    assert bcubed(truth, truth) == (1.0, 1.0, 1.0)
    assert bcubed({}, {}) == (1.0, 1.0, 1.0)


def test_blocking_metrics_on_a_hand_worked_example():
    # Repeats, reversed pairs and self pairs do not count: candidates are 12, 13, 34, 25.
    candidates = [(1, 2), (2, 1), (1, 3), (3, 4), (4, 4), (2, 5)]

    metrics = blocking_metrics(candidates, TRUTH)

    assert metrics == {
        "pairs_completeness": 0.5,  # 12 and 13 of the true 12 13 23 45
        "reduction_ratio": pytest.approx(1 - 4 / 10),  # 5 records: 10 possible pairs
        "pairs_quality": 0.5,
        "candidate_pairs": 4,
        "true_pairs": 4,
        "true_pairs_found": 2,
    }


def test_blocking_metrics_accept_a_frame_or_a_multiindex_and_counts_by_source():
    frame = pd.DataFrame({"left": [1, 4], "right": [2, 5], "score": [9.0, 3.0]})
    multiindex = pd.MultiIndex.from_tuples([(1, 2), (4, 5)])

    from_frame = blocking_metrics(frame, TRUTH, n_records={"crm": 3, "billing": 2})
    from_index = blocking_metrics(multiindex, TRUTH, n_records=5)

    assert from_frame == from_index
    assert from_frame["pairs_completeness"] == 0.5
    assert from_frame["reduction_ratio"] == pytest.approx(0.8)


def test_blocking_metrics_with_nothing_to_find_or_compare():
    assert blocking_metrics([], {"only": 1}) == {
        "pairs_completeness": 1.0, "reduction_ratio": 1.0, "pairs_quality": 1.0,
        "candidate_pairs": 0, "true_pairs": 0, "true_pairs_found": 0}


def test_blocking_metrics_reject_an_unknown_record():
    with pytest.raises(ValueError, match="99"):
        blocking_metrics([(1, 99)], TRUTH)


def test_review_decided_merges_true_pairs_and_leaves_false_ones_apart():
    predicted = {1: 1, 2: 1, 3: 3, 4: 4, 5: 5}

    decided = with_review_decided(predicted, [(2, 3), (3, 4)], TRUTH)

    assert decided == {1: 1, 2: 1, 3: 1, 4: 4, 5: 5}


def test_review_decided_merges_chain_and_take_the_smallest_label():
    truth = dict.fromkeys("abcd", "one person")
    predicted = {"a": "a", "b": "b", "c": "c", "d": "d"}

    decided = with_review_decided(predicted, [("d", "c"), ("b", "c"), ("a", "d")], truth)

    assert decided == dict.fromkeys("abcd", "a")


def test_review_decided_never_splits_a_predicted_cluster():
    predicted = {1: 1, 2: 1, 3: 1, 4: 4, 5: 5}

    decided = with_review_decided(predicted, [(3, 4)], TRUTH)

    assert decided == predicted


def test_review_decided_improves_the_scores_it_is_meant_to_estimate():
    predicted = {1: 1, 2: 1, 3: 3, 4: 4, 5: 5}

    decided = with_review_decided(predicted, [(2, 3), (4, 5)], TRUTH)

    assert pairwise_metrics(TRUTH, decided).f1 == 1.0
    assert pairwise_metrics(TRUTH, predicted).f1 < 1.0


def test_review_pair_with_an_unknown_record_is_rejected():
    with pytest.raises(ValueError, match="'x'"):
        with_review_decided(PREDICTED, [(1, "x")], TRUTH)
