"""Benchmark: how far the shipped, unsupervised model is from what the data allows.

    python tests/benchmarks/bench_ceiling.py [--records 200000] [--seed 1]

Runs the batch path as ``bench_linkage`` does, then measures three ceilings on the same
candidate pairs, all clustered by ``linkage.cluster.cluster_pairs`` like the model's links:

* ``blocking``: every candidate pair classified correctly (only true pairs linked). What the
  blocking rules leave out can never be found, whatever the model.
* ``supervised_levels``: a gradient-boosted classifier trained on the truth, two-fold by person
  (each half scored by the model trained on the other), seeing only what the Fellegi-Sunter
  model sees: each attribute's level and the match weight. Links at p >= 0.5.
* ``supervised_rich``: the same with more per-pair facts besides: the pair of sources, how
  often each name occurs, how many candidate pairs the two records are in, Jaro-Winkler
  similarities of names, e-mail and address line, and the gap between birth years.

The supervised figures use the labels, which the hub never has: they say how much of the gap to
a target is the model's and how much is the data's. Also printed: the model's F1 if every
review task were decided correctly. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from linkage.cluster import ClusterSettings, cluster_pairs  # noqa: E402
from linkage.config import load_config  # noqa: E402
from linkage.pipeline import LEVEL_PREFIX, link_frame, standardise_frame  # noqa: E402
from tests.benchmarks.bench_linkage import load_synthetic, pairwise_scores  # noqa: E402

# Clamp of the supervised probabilities before they become weights (bits): keeps log2 finite.
_PROBABILITY_FLOOR = 1e-9
# Weight given to a review task decided by the truth: far beyond any threshold either way.
_DECIDED = 1e6


def cluster_labels(size: int, left: np.ndarray, right: np.ndarray, weight: np.ndarray,
                   conflict: np.ndarray, settings: ClusterSettings) -> np.ndarray:
    """Entity label per record position when ``weight`` scores the pairs ``left``-``right``
    (``conflict``: the pairs a conflict level marks as two people)."""
    pairs = pd.DataFrame({"left": left, "right": right, "weight": weight, "conflict": conflict})
    clusters = cluster_pairs(range(size), pairs, settings)
    return np.fromiter((clusters.labels[i] for i in range(size)), dtype=np.int64, count=size)


def blocking_ceiling(truth: np.ndarray, left: np.ndarray, right: np.ndarray) -> dict:
    """Pairwise scores if exactly the true candidate pairs were linked (their components)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    same = truth[left] == truth[right]
    graph = coo_matrix((np.ones(int(same.sum())), (left[same], right[same])),
                       shape=(len(truth), len(truth)))
    _, labels = connected_components(graph, directed=False)
    return pairwise_scores(truth, labels)


def two_fold_weights(features: np.ndarray, same: np.ndarray, persons: np.ndarray,
                     categorical: list[int]) -> np.ndarray:
    """Supervised weights (log2 odds) of each pair, scored by a classifier trained on the pairs
    of the other half of the people, so that no pair is scored by a model that saw it."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    fold = pd.util.hash_array(persons) % 2
    weights = np.zeros(len(same))
    for held_out in (0, 1):
        train, test = fold != held_out, fold == held_out
        model = HistGradientBoostingClassifier(max_iter=300, max_leaf_nodes=63,
                                               categorical_features=categorical, random_state=0)
        model.fit(features[train], same[train])
        probability = np.clip(model.predict_proba(features[test])[:, 1],
                              _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR)
        weights[test] = np.log2(probability / (1 - probability))
    return weights


def rich_features(frame: pd.DataFrame, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per pair: source pair code, name frequencies, candidate degree, similarities, year gap."""
    from rapidfuzz.distance import JaroWinkler
    from rapidfuzz.process import cpdist

    source = pd.factorize(frame["source"])[0]
    columns = [source[left] * 64 + source[right]]
    for name in ("given_name", "family_name"):
        values = frame[name].fillna("")
        counts = values.map(values.value_counts()).to_numpy()
        counts = np.where(values.to_numpy() == "", 0, counts)
        pair = np.sort(np.column_stack([counts[left], counts[right]]), axis=1)
        columns += [pair[:, 0], pair[:, 1]]
    degree = np.bincount(np.concatenate([left, right]), minlength=len(frame))
    columns.append(degree[left] + degree[right])
    for name in ("given_name", "family_name", "email", "address_line"):
        values = frame[name].fillna("").astype(str).to_numpy()
        a, b = values[left], values[right]
        similarity = cpdist(a, b, scorer=JaroWinkler.normalized_similarity, workers=-1)
        columns.append(np.where((a == "") | (b == ""), -1.0, similarity))
    year = pd.to_numeric(frame["birth_date"].str[:4], errors="coerce").to_numpy()
    gap = np.abs(year[left] - year[right])
    columns.append(np.where(np.isnan(gap), -1.0, gap))
    return np.column_stack(columns).astype(float)


def run_ceilings(*, records: int = 200_000, seed: int = 1) -> dict:
    """The model's figures and the three ceilings (see the module docstring)."""
    started = time.perf_counter()
    raw = load_synthetic(records, seed)
    truth = raw["cluster"].astype(str).to_numpy()
    frame = standardise_frame(raw.drop(columns=["cluster"]))
    result = link_frame(frame, load_config(None), train_model=True)
    config, pairs = result.config, result.pairs
    left, right = pairs.attrs["left_position"], pairs.attrs["right_position"]
    weight = pairs["weight"].to_numpy(dtype=float)
    conflict = pairs["conflict"].to_numpy(dtype=bool)
    same = truth[left] == truth[right]
    settings = ClusterSettings.from_config(config)
    model = pairwise_scores(
        truth, cluster_labels(len(frame), left, right, weight, conflict, settings))

    in_review = (weight >= config.review_threshold) & (weight < config.auto_link_threshold)
    decided = np.where(in_review, np.where(same, _DECIDED, -_DECIDED), weight)
    reviews_decided = pairwise_scores(
        truth, cluster_labels(len(frame), left, right, decided, conflict, settings))

    levels = np.column_stack([pairs[LEVEL_PREFIX + c.attribute].to_numpy()
                              for c in config.comparisons]).astype(float) + 1  # missing -> 0
    categorical = list(range(levels.shape[1]))
    at_even_odds = ClusterSettings.from_config(config, auto_link_threshold=0.0)
    level_features = np.column_stack([levels, weight])
    supervised_levels = pairwise_scores(truth, cluster_labels(
        len(frame), left, right,
        two_fold_weights(level_features, same, truth[left], categorical), conflict, at_even_odds))
    rich = np.column_stack([level_features, rich_features(frame, left, right)])
    supervised_rich = pairwise_scores(truth, cluster_labels(
        len(frame), left, right,
        two_fold_weights(rich, same, truth[left], categorical + [levels.shape[1] + 1]),
        conflict, at_even_odds))

    def rounded(scores: dict) -> dict:
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in scores.items()}

    return {
        "benchmark": "linkage_ceilings",
        "records": len(frame),
        "candidate_pairs": len(pairs),
        "model": rounded(model),
        "model_reviews_decided": rounded(reviews_decided),
        "blocking": rounded(blocking_ceiling(truth, left, right)),
        "supervised_levels": rounded(supervised_levels),
        "supervised_rich": rounded(supervised_rich),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    figures = run_ceilings(records=args.records, seed=args.seed)
    for key in ("model", "model_reviews_decided", "blocking", "supervised_levels",
                "supervised_rich"):
        scores = figures[key]
        print(f"{key:>22}: P {scores['precision']:.5f}  R {scores['recall']:.5f}  "
              f"F1 {scores['f1']:.5f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
