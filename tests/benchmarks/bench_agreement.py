"""Benchmark: do records arriving one at a time end in the same entities as the batch path?

    python tests/benchmarks/bench_agreement.py [--records 5000] [--database-url URL]

Ingests synthetic records one by one through the real-time path, then computes what the batch
path (``manage.py match``) would make of the same records with the same model, and reports the
share of records whose entity has exactly the same members both ways. Uses a fresh SQLite file
unless a database URL is given (that database is EMPTIED). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_ingest import (  # noqa: E402
    database_url_argument,
    run_on_database,
)


def partition_agreement(first: dict, second: dict) -> float:
    """Share of records whose cluster has the same members in both labellings."""
    def members(labels):
        groups = defaultdict(set)
        for record, label in labels.items():
            groups[label].add(record)
        return {record: frozenset(groups[label]) for record, label in labels.items()}

    a, b = members(first), members(second)
    same = sum(1 for record in a if a[record] == b.get(record))
    return same / len(a) if a else 1.0


def run_agreement(*, records: int, seed: int = 5) -> dict:
    """Ingest ``records`` synthetic records in real time and compare with the batch plan."""
    from hub.services.batch_match import batch_match_plan
    from hub.services.ingest import record_upsert
    from hub.services.sources import source_add
    from linkage.attributes import CANONICAL_ATTRIBUTES
    from linkage.synthetic import generate_records

    generated = generate_records(people=int(records / 1.7) + 10, seed=seed)[:records]
    for code in sorted({r["source"] for r in generated}):
        source_add(code=code)
    started = time.perf_counter()
    for row in generated:
        record_upsert(source_code=row["source"], source_key=row["source_key"],
                      attributes={k: row[k] for k in CANONICAL_ATTRIBUTES if row.get(k)})
    realtime_seconds = time.perf_counter() - started
    run = batch_match_plan()
    batch = {record_id: str(target) for record_id, target in run.plan.targets.items()}
    agreement = partition_agreement(run.current, batch)
    return {"benchmark": "realtime_batch_agreement", "records": len(generated),
            "agreement": round(agreement, 5), "records_relinked_by_batch": len(run.plan.moves),
            "realtime_seconds": round(realtime_seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=5000)
    database_url_argument(parser)
    args = parser.parse_args()
    figures = run_on_database(args.database_url, lambda: run_agreement(records=args.records))
    print(f"{figures['records']} records: real time and batch agree on "
          f"{figures['agreement']:.2%} of records")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
