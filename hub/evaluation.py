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
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from hub.models import Entity, Link, ReviewTask, SourceRecord, SourceSystem, new_golden_id
from linkage.attributes import CANONICAL_ATTRIBUTES, SOURCE_ATTRIBUTE
from linkage.standardise import standardise_record

REQUIRED_COLUMNS = ("source", "source_key")


class EvaluationFileError(ValueError):
    """The CSV cannot be evaluated (missing columns, duplicate or empty keys); nothing was
    loaded."""


@dataclass
class EvaluationRows:
    """The rows of an evaluation CSV, keyed by canonical column names, and what reading them
    noticed: columns ignored, columns read under their canonical name, rows without a truth."""

    rows: list[dict]
    ignored: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    unlabelled: int = 0


def read_rows(path: Path, truth_column: str) -> EvaluationRows:
    """Read the CSV; headers match the canonical names whatever their case and spacing.

    A row without a truth value is a person of its own (nothing is known to match it).
    """
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        known = [*REQUIRED_COLUMNS, truth_column, *CANONICAL_ATTRIBUTES]
        names = _canonical_names(header, known)
        missing = [c for c in (*REQUIRED_COLUMNS, truth_column) if c not in names.values()]
        if missing:
            raise EvaluationFileError(f"missing column(s): {', '.join(missing)}")
        rows, lines = [], []
        for line in reader:
            if any(cell.strip() for cell in line):  # blank lines hold no record
                rows.append({names[i]: value for i, value in enumerate(line) if i in names})
                lines.append(reader.line_num)  # where the row ends, for the error messages
    _check_keys(rows, lines)
    unlabelled = 0
    for number, row in enumerate(rows):
        if not (row.get(truth_column) or "").strip():
            # A tuple, where every real label is a string: it cannot clash with one.
            row[truth_column] = ("unlabelled", number)
            unlabelled += 1
    return EvaluationRows(
        rows, ignored=[c for i, c in enumerate(header) if i not in names],
        renamed={header[i]: name for i, name in names.items() if header[i] != name},
        unlabelled=unlabelled)


def _canonical_names(header: list[str], known: list[str]) -> dict[int, str]:
    """Column position -> canonical name, for the headers that name a known column."""
    by_folded = {_folded(name): name for name in known}
    names: dict[int, str] = {}
    for position, column in enumerate(header):
        name = by_folded.get(_folded(column))
        if name is not None and name not in names.values():
            names[position] = name
    return names


def _folded(column: str) -> str:
    """"Given Name", "given-name" and " GIVEN_NAME" all fold to "given_name"."""
    return "_".join(column.strip().lower().replace("-", " ").replace("_", " ").split())


def _check_keys(rows: list[dict], lines: list[int]) -> None:
    empty = [number for number, row in zip(lines, rows, strict=True)
             if not row.get("source", "").strip() or not row.get("source_key", "").strip()]
    if empty:
        shown = ", ".join(str(n) for n in empty[:5]) + (" ..." if len(empty) > 5 else "")
        raise EvaluationFileError(
            f"source or source_key is empty on {len(empty)} row(s) (line {shown})")
    keys = Counter((row["source"], row["source_key"]) for row in rows)
    duplicated = sum(1 for count in keys.values() if count > 1)
    if duplicated:
        raise EvaluationFileError(f"{duplicated} (source, source_key) pairs occur more than once")


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
        # As ingestion does: a national phone number is read in the hub's default country.
        result = standardise_record(received, default_country=settings.MATCH_DEFAULT_COUNTRY)
        for attribute in (*result.problems, *result.invalid):
            bad_values[attribute] += 1
        records.append(SourceRecord(
            source=sources[row["source"]], source_key=row["source_key"], entity=entity,
            attributes=received, standardised={**result.values, SOURCE_ATTRIBUTE: row["source"]},
            content_hash=""))
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
