"""Benchmark: real-time match of one record against a hub that already holds N records.

    python tests/benchmarks/bench_realtime.py [--hub-records 1000000] [--probes 500] \\
        [--database-url URL]

The hub is filled with ``--hub-records`` synthetic records (``linkage.synthetic``) as after a
first load and a (perfect) batch run, one entity per person: stored through the ingest
service's validation and standardisation (``prepare_attributes``), each with its real-time
blocking keys and term-frequency rows, in bulk. Then ``--probes`` further records of the
same population (so they have duplicates in the hub, as real traffic does) go one at a time
through ``record_upsert``: standardise, look the candidates up, score, decide, write. Prints
p50/p99 latency, queries and CPU time (hub and database server) per upsert; the last line is
JSON. Uses a fresh SQLite file unless a database URL is given (that database is EMPTIED).
``--reuse`` keeps a hub filled by an earlier run and deletes the probes earlier runs sent
(every run sends them under source keys of its own), so that each run meets the hub as it
was loaded, without the long load.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_ingest import (  # noqa: E402
    _prepare_database,
    database_url_argument,
    percentile,
    run_on_database,
)
from tests.benchmarks.bench_match import CHUNK, load_unmatched  # noqa: E402


def store_blocking_keys() -> int:
    """Write every stored record's blocking-key rows (COPY on PostgreSQL); returns the rows."""
    from django.db import connection, transaction

    from hub.models import BlockingKey, SourceRecord
    from hub.services.match_config import active_match_config
    from hub.services.matching import hashed_blocking_keys

    config = active_match_config()
    table = BlockingKey._meta.db_table
    rows = 0
    last_id = 0
    while True:
        chunk = list(SourceRecord.objects.filter(id__gt=last_id).order_by("id")
                     .values_list("id", "standardised")[:CHUNK])
        if not chunk:
            return rows
        last_id = chunk[-1][0]
        keys = [(record_id, rule, hashed) for record_id, standardised in chunk
                for rule, hashed in hashed_blocking_keys(standardised, config)]
        rows += len(keys)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor, cursor.cursor.copy(
                        f"COPY {table} (source_record_id, rule, key_hash) FROM STDIN") as copy:
                    for key in keys:
                        copy.write_row(key)
            else:
                BlockingKey.objects.bulk_create(
                    [BlockingKey(source_record_id=r, rule=rule, key_hash=h)
                     for r, rule, h in keys], batch_size=2000)


PROBE_PREFIX = "probe-"


def backend_cpu_seconds(connection) -> float | None:
    """CPU seconds the database server process of ``connection`` has used so far, when it
    runs on this machine (PostgreSQL's backend, read from /proc); None otherwise.

    Wall-clock latency on a shared virtual machine swings with its neighbours; the CPU time
    the client and the server spend per upsert is the steadier measure of the work done.
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _forget_earlier_probes() -> None:
    """Delete the probes (and warm-ups) earlier runs sent, through the ingest service: every run
    then meets the hub as it was loaded, not with exact copies of its probes stored already."""
    from hub.models import SourceRecord
    from hub.services.ingest import record_delete

    earlier = SourceRecord.objects.filter(state=SourceRecord.State.ACTIVE,
                                          source_key__startswith=PROBE_PREFIX)
    for code, key in earlier.values_list("source__code", "source_key"):
        record_delete(source_code=code, source_key=key)


def run_benchmark(*, hub_records: int, probes: int, seed: int = 3, reuse: bool = False,
                  warmup: int = 200) -> dict:
    """Fill the hub with ``hub_records`` records, then time ``probes`` real-time upserts.

    ``warmup`` upserts go first, untimed: a hub process serves many requests, and what the
    first ones pay once (loading the model, counting how many records hold a name, the counts
    of the commonest names) is not what a request costs.
    """
    from collections import Counter

    from django.db import connection

    from hub.services.ingest import record_upsert
    from linkage.attributes import CANONICAL_ATTRIBUTES
    from linkage.synthetic import generate_records, people_for

    generated = generate_records(people=people_for(hub_records + probes + warmup), seed=seed)
    # Probes come from across the population, interleaved, so most have duplicates stored.
    step = max(1, len(generated) // max(probes + warmup, 1))
    chosen = generated[::step][:probes + warmup]
    warmup_rows, probe_rows = chosen[:warmup], chosen[warmup:]
    probe_keys = {(r["source"], r["source_key"]) for r in chosen}
    stored = [r for r in generated if (r["source"], r["source_key"]) not in probe_keys]
    stored = stored[:hub_records]
    started = time.perf_counter()
    if reuse:
        from hub.models import BlockingKey, SourceRecord

        _forget_earlier_probes()
        stored = [None] * SourceRecord.objects.filter(state=SourceRecord.State.ACTIVE).count()
        key_rows = BlockingKey.objects.count()
    else:
        load_unmatched(stored, by_person=True)
        key_rows = store_blocking_keys()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # A hub that has been running for a while has been vacuumed by autovacuum: its
            # visibility map lets the blocking-key counts run as index-only scans. (Not in a
            # test's transaction, where VACUUM cannot run.)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
    load_seconds = time.perf_counter() - started
    # Probes go in under keys of their own, so that a later --reuse run can forget them.
    prefix = f"{PROBE_PREFIX}{time.time_ns()}-"

    latencies, queries, outcomes = [], [], Counter()
    statements = [0]

    def count(execute, sql, params, many, context):
        # A bare counter: capturing the SQL text (CaptureQueriesContext) costs more time per
        # statement than some statements take.
        statements[0] += 1
        return execute(sql, params, many, context)

    for row in warmup_rows:
        record_upsert(source_code=row["source"], source_key=prefix + row["source_key"],
                      attributes={k: row[k] for k in CANONICAL_ATTRIBUTES if row.get(k)})
    client_started, server_started = time.process_time(), backend_cpu_seconds(connection)
    with connection.execute_wrapper(count):
        for row in probe_rows:
            attributes = {k: row[k] for k in CANONICAL_ATTRIBUTES if row.get(k)}
            statements[0] = 0
            began = time.perf_counter()
            result = record_upsert(source_code=row["source"],
                                   source_key=prefix + row["source_key"], attributes=attributes)
            latencies.append((time.perf_counter() - began) * 1000)
            queries.append(statements[0])
            outcomes[result.outcome] += 1
    client_cpu = (time.process_time() - client_started) * 1000 / max(len(probe_rows), 1)
    server_cpu = (None if server_started is None else
                  (backend_cpu_seconds(connection) - server_started) * 1000
                  / max(len(probe_rows), 1))
    latencies.sort()
    return {
        "benchmark": "realtime_match",
        "hub_records": len(stored),
        "blocking_key_rows": key_rows,
        "probes": len(probe_rows),
        "warmup_upserts": len(warmup_rows),
        "load_seconds": round(load_seconds, 1),
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "queries_per_upsert_p50": sorted(queries)[len(queries) // 2],
        "client_cpu_ms_per_upsert": round(client_cpu, 2),
        "server_cpu_ms_per_upsert": None if server_cpu is None else round(server_cpu, 2),
        "outcomes": dict(outcomes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hub-records", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=200,
                        help="untimed upserts before the probes (a process in service)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the hub an earlier run filled (not emptied, not loaded)")
    database_url_argument(parser)
    args = parser.parse_args()
    figures = run_on_database(
        args.database_url,
        lambda: run_benchmark(hub_records=args.hub_records, probes=args.probes, reuse=args.reuse,
                              warmup=args.warmup),
        prepare=(lambda url: _prepare_database(url, empty=False)) if args.reuse else None)
    print(f"{figures['probes']} upserts against {figures['hub_records']} records on "
          f"{figures['database']}: "
          f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms; CPU per upsert: "
          f"{figures['client_cpu_ms_per_upsert']} ms hub, "
          f"{figures['server_cpu_ms_per_upsert']} ms database")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
