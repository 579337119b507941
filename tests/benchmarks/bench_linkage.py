"""Benchmark: batch matching through linkage/ alone, with accuracy against the truth.

    python tests/benchmarks/bench_linkage.py [--records 200000] [--seed 1]
    python tests/benchmarks/bench_linkage.py --csv data/febrl4.csv [--drop-column national_id]

Synthetic records (``linkage.synthetic``) or a labelled CSV (columns source, source_key, the
canonical attributes and ``cluster`` = truth) are standardised, then matched: block, compare,
train (u from random pairs, m by EM; the truth is never used), score, and cluster the pairs at
or above the auto-link threshold into entities with ``linkage.cluster.cluster_pairs``, the
clustering the hub uses (it refuses chains through weak links). Prints seconds per phase, peak
memory, pairs completeness, candidate pairs and pairwise precision / recall / F1 of the
entities (``linkage.evaluate.pairwise_metrics``); the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
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
from linkage.evaluate import pairwise_metrics  # noqa: E402
from linkage.pipeline import link_frame, standardise_frame  # noqa: E402


def load_synthetic(records: int, seed: int) -> pd.DataFrame:
    """About ``records`` synthetic records; the truth is in ``cluster``."""
    from linkage.synthetic import generate_records_dataframe, people_for

    frame = generate_records_dataframe(people=people_for(records), seed=seed)
    return frame.rename(columns={"person_id": "cluster"})


def load_csv(path: str, drop: list[str]) -> pd.DataFrame:
    """A labelled CSV with empty cells as missing, minus the ``drop`` columns."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame.replace("", None)
    return frame.drop(columns=[c for c in drop if c in frame])


def pairs_of_clusters(labels: np.ndarray) -> int:
    """The number of record pairs sharing a label."""
    _, counts = np.unique(labels, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def entity_labels(size: int, pairs: pd.DataFrame, config) -> np.ndarray:
    """Entities as the hub forms them: ``cluster_pairs`` over the pairs (by row position)."""
    positions = pd.DataFrame({"left": pairs.attrs["left_position"],
                              "right": pairs.attrs["right_position"],
                              "weight": pairs["weight"].to_numpy(),
                              "conflict": pairs["conflict"].to_numpy()})
    clusters = cluster_pairs(range(size), positions, ClusterSettings.from_config(config))
    return np.fromiter((clusters.labels[i] for i in range(size)), dtype=np.int64, count=size)


def pairwise_scores(truth: np.ndarray, predicted: np.ndarray) -> dict:
    """Pairwise precision, recall and F1 of predicted entities against true clusters."""
    metrics = pairwise_metrics(dict(enumerate(truth.tolist())),
                               dict(enumerate(predicted.tolist())))
    return {"true_pairs": metrics.true_positives + metrics.false_negatives,
            "linked_pairs": metrics.true_positives + metrics.false_positives,
            "precision": metrics.precision, "recall": metrics.recall, "f1": metrics.f1}


def run_benchmark(*, records: int = 200_000, seed: int = 1, csv: str | None = None,
                  drop: list[str] = (), config_path: str | None = None) -> dict:
    """Run the whole batch path once and return the figures (see the module docstring)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    raw = load_csv(csv, list(drop)) if csv else load_synthetic(records, seed)
    timings["load"] = time.perf_counter() - started
    truth = raw["cluster"].astype(str).to_numpy()

    started = time.perf_counter()
    frame = standardise_frame(raw.drop(columns=["cluster"]))
    timings["standardise"] = time.perf_counter() - started

    started = time.perf_counter()
    result = link_frame(frame, load_config(config_path), train_model=True)
    timings.update(result.timings)
    timings["match_total"] = time.perf_counter() - started

    started = time.perf_counter()
    pairs = result.pairs
    left, right = pairs.attrs["left_position"], pairs.attrs["right_position"]
    linked = pairs["weight"].to_numpy() >= result.config.auto_link_threshold
    labels = entity_labels(len(frame), pairs, result.config)
    timings["entities"] = time.perf_counter() - started
    timings["match_total"] += timings["entities"]

    found_true = int((truth[left] == truth[right]).sum())
    scores = pairwise_scores(truth, labels)
    return {
        "benchmark": "linkage_batch",
        "source": csv or "synthetic",
        "dropped_columns": list(drop),
        "records": len(frame),
        "model_version": result.config.version,
        "prior_weight": round(result.config.prior_weight, 3),
        "candidate_pairs": len(pairs),
        "pairs_completeness": round(found_true / max(scores["true_pairs"], 1), 5),
        "auto_link_pairs": int(linked.sum()),
        "entities": int(len(np.unique(labels))),
        **{k: round(v, 5) if isinstance(v, float) else v for k, v in scores.items()},
        "seconds": {k: round(v, 3) for k, v in timings.items()},
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--csv", help="a labelled CSV (with a cluster column) instead")
    parser.add_argument("--drop-column", action="append", default=[], dest="drop")
    parser.add_argument("--config", help="a match configuration file (default: the shipped one)")
    args = parser.parse_args()
    figures = run_benchmark(records=args.records, seed=args.seed, csv=args.csv, drop=args.drop,
                            config_path=args.config)
    for phase, seconds in figures["seconds"].items():
        print(f"{phase:>14}: {seconds:8.3f} s")
    for key in ("records", "candidate_pairs", "pairs_completeness", "auto_link_pairs",
                "precision", "recall", "f1", "peak_memory_mb"):
        print(f"{key:>18}: {figures[key]}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
