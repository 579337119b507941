"""Benchmark: microseconds per ``score_many`` call, vectorised (before) and scalar (after) path.

    python tests/benchmarks/bench_scoring.py [--candidates 20] [--repeat 300]

Scores a synthetic record against K = 1, ``--candidates`` and 100 candidates (records of the
same person first, then others), with and without term frequencies. "before" forces the
vectorised comparisons (``SCALAR_MAX_CANDIDATES = 0``), "after" is the routed default. Prints
median microseconds per call; the last line is JSON. Timings only, nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from linkage import scoring  # noqa: E402
from linkage.config import load_config  # noqa: E402
from linkage.frequencies import TermFrequencies  # noqa: E402
from linkage.pipeline import standardise_frame  # noqa: E402
from linkage.synthetic import generate_records_dataframe  # noqa: E402


def _median_us(call, repeat: int) -> float:
    call()  # warm caches (compiled config, feature caches, nickname table)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def run(candidates: int, repeat: int) -> dict:
    """Median µs per score_many call for each K, path and frequency setting."""
    config = load_config()
    frame = standardise_frame(generate_records_dataframe(people=600, seed=3))
    frequencies = TermFrequencies.from_frame(frame, config.attributes)
    records = frame.to_dict("records")
    person = records[0]["person_id"]
    same = [r for r in records[1:] if r["person_id"] == person]
    pool = same + [r for r in records[1:] if r["person_id"] != person]
    limit = scoring.SCALAR_MAX_CANDIDATES
    results = {}
    for k in sorted({1, candidates, 100}):
        chosen = pool[:k]
        for label, source in (("no_tf", None), ("tf", frequencies)):
            for path, threshold in (("before", 0), ("after", limit)):
                scoring.SCALAR_MAX_CANDIDATES = threshold
                try:
                    us = _median_us(
                        lambda c=chosen, s=source: scoring.score_many(records[0], c, config, s),
                        repeat,
                    )
                finally:
                    scoring.SCALAR_MAX_CANDIDATES = limit
                results[f"k{k}_{label}_{path}_us"] = round(us, 1)
                print(f"K={k:4d} {label:5s} {path:6s} {us:10.1f} us/call", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    print(json.dumps(run(args.candidates, args.repeat)))


if __name__ == "__main__":
    main()
