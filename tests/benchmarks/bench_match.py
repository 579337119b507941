"""Benchmark: ``manage.py match`` over a hub holding N unmatched synthetic records.

    python tests/benchmarks/bench_match.py [--records 200000] [--database-url URL]

Stands for a first load: every record of the synthetic set (``linkage.synthetic``) is stored in
its own entity, as ingest would leave records it has not matched yet, and then one batch run
(``manage.py match``) blocks, compares, clusters and writes the links, merges, review tasks and
events. Only the match command is timed; the loading is set-up. The records are stored with
bulk inserts after the ingest service's own validation and standardisation
(``prepare_attributes``); their real-time blocking keys are left out, since the batch path
does not read them. Uses a fresh SQLite file unless a database URL is given (that database is
EMPTIED). Prints pairwise precision / recall / F1 of the resulting entities against the truth;
the last line is JSON.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_ingest import (  # noqa: E402
    database_url_argument,
    run_on_database,
)

CHUNK = 5000


def load_unmatched(records: list[dict], *, by_person: bool = False) -> dict[int, str]:
    """Store the records, each in a new entity (``by_person``: one entity per true person, as
    a perfect batch run would leave them); returns record id -> truth (person id)."""
    from django.db import transaction

    from hub.models import Entity, Link, SourceRecord, SourceSystem, new_golden_id
    from hub.services.ingest import prepare_attributes
    from linkage.attributes import CANONICAL_ATTRIBUTES

    sources = {code: SourceSystem.objects.get_or_create(code=code)[0]
               for code in sorted({r["source"] for r in records})}
    truth_of_key = {(r["source"], r["source_key"]): r["person_id"] for r in records}
    entity_of_person: dict[str, Entity] = {}
    for start in range(0, len(records), CHUNK):
        chunk = records[start:start + CHUNK]
        prepared = [prepare_attributes({k: r[k] for k in CANONICAL_ATTRIBUTES if r.get(k)},
                                       r["source"]) for r in chunk]
        with transaction.atomic():
            if by_person:
                new = {r["person_id"]: Entity(golden_id=new_golden_id()) for r in chunk
                       if r["person_id"] not in entity_of_person}
                entity_of_person.update(zip(new, Entity.objects.bulk_create(new.values()),
                                            strict=True))
                entities = [entity_of_person[r["person_id"]] for r in chunk]
            else:
                entities = Entity.objects.bulk_create(
                    [Entity(golden_id=new_golden_id()) for _ in chunk])
            stored = SourceRecord.objects.bulk_create([
                SourceRecord(source=sources[r["source"]], source_key=r["source_key"],
                             attributes=p.received, standardised=p.standardised,
                             invalid_attributes=p.invalid, content_hash=p.content_hash,
                             state=SourceRecord.State.ACTIVE, entity=entity)
                for r, p, entity in zip(chunk, prepared, entities, strict=True)])
            Link.objects.bulk_create([
                Link(source_record=record, entity=record.entity, origin=Link.Origin.AUTO,
                     outcome=Link.Outcome.NEW_ENTITY) for record in stored])
    rows = SourceRecord.objects.values_list("id", "source__code", "source_key")
    return {record_id: truth_of_key[(code, key)] for record_id, code, key in rows}


def run_benchmark(*, records: int, seed: int = 1) -> dict:
    """Load ``records`` synthetic records unmatched, then time one ``manage.py match``."""
    from django.core.management import call_command

    from hub.models import Entity, ReviewTask, SourceRecord
    from linkage.evaluate import pairwise_metrics
    from linkage.synthetic import generate_records, people_for

    generated = generate_records(people=people_for(records, at_least=True), seed=seed)[:records]
    started = time.perf_counter()
    truth = load_unmatched(generated)
    load_seconds = time.perf_counter() - started

    output = io.StringIO()
    started = time.perf_counter()
    # The loader stores no real-time blocking keys (the batch run does not read them), so the
    # command's advice to reindex first is expected here and kept out of the figures' output.
    call_command("match", verbosity=0, stdout=output, stderr=io.StringIO())
    match_seconds = time.perf_counter() - started

    entity_of = dict(SourceRecord.objects.values_list("id", "entity_id"))
    metrics = pairwise_metrics(truth, entity_of)
    return {
        "benchmark": "match_command",
        "records": len(generated),
        "load_seconds": round(load_seconds, 2),
        "match_seconds": round(match_seconds, 2),
        "entities": Entity.objects.filter(state=Entity.State.ACTIVE).count(),
        "open_review_tasks": ReviewTask.objects.filter(state=ReviewTask.State.OPEN).count(),
        "precision": round(metrics.precision, 5),
        "recall": round(metrics.recall, 5),
        "f1": round(metrics.f1, 5),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    database_url_argument(parser)
    args = parser.parse_args()
    figures = run_on_database(args.database_url, lambda: run_benchmark(records=args.records))
    print(f"{figures['records']} records on {figures['database']}: "
          f"match took {figures['match_seconds']} s "
          f"(loading {figures['load_seconds']} s), F1 {figures['f1']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
