"""Evaluation of the matcher on a labelled CSV, inside a throwaway database.

``manage.py evaluate`` starts a worker process of itself pointed at a fresh SQLite file, so the
hub's own data is never read or written. The worker loads the file as source records (one
singleton entity each, as a first load would), trains a model, runs the batch match, and
compares the resulting entities with the truth column.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path

from hub.models import Entity, Link, ReviewTask, SourceRecord, SourceSystem, new_golden_id
from linkage.attributes import CANONICAL_ATTRIBUTES
from linkage.standardise import standardise_record

REQUIRED_COLUMNS = ("source", "source_key")


class EvaluationFileError(ValueError):
    """The CSV cannot be evaluated (missing columns, duplicate keys); nothing was loaded."""


def read_rows(path: Path, truth_column: str) -> tuple[list[dict], list[str]]:
    """Rows of the CSV and the names of the columns that will be ignored."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [c for c in (*REQUIRED_COLUMNS, truth_column) if c not in columns]
        if missing:
            raise EvaluationFileError(f"missing column(s): {', '.join(missing)}")
        rows = list(reader)
    known = {*REQUIRED_COLUMNS, truth_column, *CANONICAL_ATTRIBUTES}
    keys = Counter((row["source"], row["source_key"]) for row in rows)
    duplicated = sum(1 for count in keys.values() if count > 1)
    if duplicated:
        raise EvaluationFileError(f"{duplicated} (source, source_key) pairs occur more than once")
    return rows, [c for c in columns if c not in known]


def load_rows(rows: list[dict], truth_column: str) -> tuple[dict[int, str], Counter]:
    """Store the rows as source records with singleton entities; returns the truth per record
    id and the count of bad values per attribute (treated as missing)."""
    bad_values: Counter = Counter()
    sources = {code: SourceSystem.objects.get_or_create(code=code)[0]
               for code in sorted({row["source"] for row in rows})}
    entities = [Entity(golden_id=new_golden_id()) for _ in rows]
    Entity.objects.bulk_create(entities, batch_size=2000)
    records = []
    for row, entity in zip(rows, entities, strict=True):
        received = {a: row[a] for a in CANONICAL_ATTRIBUTES if row.get(a)}
        result = standardise_record(received)
        for attribute in (*result.problems, *result.invalid):
            bad_values[attribute] += 1
        records.append(SourceRecord(
            source=sources[row["source"]], source_key=row["source_key"], entity=entity,
            attributes=received, standardised=result.values, content_hash=""))
    SourceRecord.objects.bulk_create(records, batch_size=2000)
    Link.objects.bulk_create([Link(source_record=r, entity_id=r.entity_id, origin="auto",
                                   outcome="new_entity") for r in records], batch_size=2000)
    truth = {record.pk: row[truth_column] for record, row in zip(records, rows, strict=True)}
    return truth, bad_values


def predicted_entities() -> dict[int, str]:
    """Each active record's golden ID after matching."""
    return dict(SourceRecord.objects.filter(state="active").values_list("id", "entity_id"))


def review_pairs() -> list[tuple[int, int]]:
    """The record pairs behind the open review tasks."""
    return [(a, b) for a, b in ReviewTask.objects.filter(state="open").values_list(
        "source_record_id", "candidate_record_id") if b is not None]


class Clock:
    """Collects the seconds spent in each named phase."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def __call__(self, phase: str, started: float) -> None:
        self.timings[phase] = round(self.timings.get(phase, 0) + time.perf_counter() - started, 3)
