"""Benchmark: push synthetic records one by one through the ingest service (upsert + match).

    python tests/benchmarks/bench_ingest.py [--records 20000] [--database-url URL]

Without --database-url (or BENCH_DATABASE_URL) it uses a fresh SQLite file in a temporary
folder; with a PostgreSQL URL it migrates that database and EMPTIES it first, so give it a
database of its own. Prints records/second and the p50/p99 latency of one upsert with match;
the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def run_benchmark(*, records: int, seed: int = 1) -> dict:
    """Ingest ``records`` synthetic records into the configured database and time each one."""
    from hub.models import Entity, ReviewTask, SourceRecord
    from hub.services.ingest import record_upsert
    from hub.services.sources import source_add
    from linkage.attributes import CANONICAL_ATTRIBUTES
    from linkage.synthetic import generate_records, people_for

    generated = generate_records(people=people_for(records, at_least=True), seed=seed)[:records]
    for code in sorted({r["source"] for r in generated}):
        source_add(code=code)
    latencies, outcomes = [], Counter()
    started = time.perf_counter()
    for row in generated:
        attributes = {k: row[k] for k in CANONICAL_ATTRIBUTES if row.get(k)}
        before = time.perf_counter()
        result = record_upsert(source_code=row["source"], source_key=row["source_key"],
                               attributes=attributes)
        latencies.append(time.perf_counter() - before)
        outcomes[result.outcome] += 1
    elapsed = time.perf_counter() - started
    return {
        "benchmark": "ingest_upsert_with_match",
        "records": len(generated),
        "seconds": round(elapsed, 3),
        "records_per_second": round(len(generated) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 3),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 3),
        "outcomes": dict(outcomes),
        "entities": Entity.objects.filter(state="active").count(),
        "open_review_tasks": ReviewTask.objects.filter(state="open").count(),
        "stored_records": SourceRecord.objects.count(),
    }


def _prepare_database(url: str, *, empty: bool = True) -> str:
    """Point Django at ``url``, create the PostgreSQL database if needed, migrate and (unless
    ``empty`` is false) empty it."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    if connection.vendor == "postgresql":
        _create_postgres_database(connection.settings_dict)
    call_command("migrate", verbosity=0)
    if empty:
        call_command("flush", interactive=False, verbosity=0)
    return connection.vendor


def _create_postgres_database(settings_dict: dict) -> None:
    import psycopg

    params = {k: settings_dict[v] for k, v in (("host", "HOST"), ("port", "PORT"),
                                               ("user", "USER")) if settings_dict.get(v)}
    name = settings_dict["NAME"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                               (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def run_on_database(url: str | None, run, *, prepare=None) -> dict:
    """``run()``'s figures with the database vendor, on ``url`` (which is EMPTIED) or, without
    one, on a fresh SQLite file that is deleted afterwards. ``prepare`` replaces
    ``_prepare_database`` for benchmarks that need more set-up."""
    with tempfile.TemporaryDirectory() as folder:
        fallback = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        vendor = (prepare or _prepare_database)(url or fallback)
        return {"database": vendor, **run()}


def database_url_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--database-url`` option every database benchmark takes."""
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="a PostgreSQL URL (that database is EMPTIED); default: SQLite file")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    database_url_argument(parser)
    args = parser.parse_args()
    figures = run_on_database(args.database_url,
                              lambda: run_benchmark(records=args.records, seed=args.seed))
    print(f"{figures['records']} records on {figures['database']}: "
          f"{figures['records_per_second']} records/s, "
          f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms per upsert with match")
    print(f"outcomes {figures['outcomes']}, {figures['entities']} entities, "
          f"{figures['open_review_tasks']} open review tasks")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
