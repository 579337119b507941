"""Bringing stored match attributes and the real-time blocking index up to date.

A record's standardised attributes and its ``BlockingKey`` rows are computed when it is
ingested. A new release of the standardisers, or a model in force with other blocking rules or
term-frequency attributes, leaves the stored ones as they were: batch matching would compare
stale values, and real-time lookups would search by keys no rule makes any more.
``reindex_records`` recomputes both from the attributes as received and rewrites only what
differs, a chunk of records at a time, each chunk in one transaction with its event row.
``index_staleness`` checks a sample cheaply, so that ``manage.py match`` can say when a reindex
is due.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from hub.models import BlockingKey, SourceRecord, SourceSystem
from hub.services.batch_match import chunks
from hub.services.events import event_record
from hub.services.match_config import active_match_config
from hub.services.matching import hashed_blocking_keys
from linkage.attributes import SOURCE_ATTRIBUTE
from linkage.config import MatchConfig
from linkage.standardise import standardise_record

CHUNK = 1000
SAMPLE = 200


@dataclass
class ReindexSummary:
    """How many records were looked at, and how many had stale values or keys."""

    records: int = 0
    restandardised: int = 0
    rekeyed: int = 0

    def add(self, other: ReindexSummary) -> None:
        self.records += other.records
        self.restandardised += other.restandardised
        self.rekeyed += other.rekeyed

    def as_dict(self) -> dict:
        return {"records": self.records, "restandardised": self.restandardised,
                "rekeyed": self.rekeyed}


@dataclass(frozen=True)
class _Fresh:
    """What one record's stored values and keys should be now."""

    record: SourceRecord
    standardised: dict
    invalid: dict
    keys: set[tuple[str, int]]
    stale_values: bool
    stale_keys: bool


def active_records(sources: list[str] | None = None):
    """The active records (of ``sources``, codes): what reindexing goes through."""
    records = SourceRecord.objects.filter(state=SourceRecord.State.ACTIVE)
    return records.filter(source__code__in=sources) if sources else records


# What re-standardising a record reads of it.
_READ_FIELDS = ("id", "source", "attributes", "standardised", "invalid_attributes")


def _fresh(records: list[SourceRecord], config: MatchConfig) -> list[_Fresh]:
    stored: dict[int, set] = defaultdict(set)
    for record_id, rule, key in BlockingKey.objects.filter(
            source_record_id__in=[r.pk for r in records]).values_list(
            "source_record_id", "rule", "key_hash"):
        stored[record_id].add((rule, key))
    # As ingestion stores them: the standardised values with the record's source code.
    source_codes = dict(SourceSystem.objects.values_list("id", "code"))
    fresh = []
    for record in records:
        result = standardise_record(record.attributes,
                                    default_country=settings.MATCH_DEFAULT_COUNTRY)
        values = {**result.values, SOURCE_ATTRIBUTE: source_codes[record.source_id]}
        invalid = dict(result.invalid)
        keys = set(hashed_blocking_keys(values, config))
        fresh.append(_Fresh(record, values, invalid, keys,
                            stale_values=(values != record.standardised
                                          or invalid != record.invalid_attributes),
                            stale_keys=keys != stored[record.pk]))
    return fresh


def index_staleness(*, sources: list[str] | None = None, sample: int = SAMPLE) -> tuple[int, int]:
    """(records checked, records whose standardised values or blocking keys are stale), over
    the ``sample`` most recently stored active records. Reads only."""
    records = list(active_records(sources).order_by("-id")
                   .only(*_READ_FIELDS)[:sample])
    fresh = _fresh(records, active_match_config())
    return len(fresh), sum(f.stale_values or f.stale_keys for f in fresh)


def reindex_records(*, sources: list[str] | None = None, dry_run: bool = False,
                    progress: Callable[[int], None] | None = None, actor=None) -> ReindexSummary:
    """Re-standardise every active record (of ``sources``) from its attributes as received and
    rebuild its blocking keys under the model in force, rewriting only what changed.

    Entity membership is left alone: run ``manage.py match`` afterwards to re-match on the
    fresh values. With ``dry_run`` nothing is written. ``progress`` gets the number of
    records done after each chunk.
    """
    config = active_match_config()
    ids = list(active_records(sources).order_by("id").values_list("id", flat=True))
    summary = ReindexSummary()
    for chunk in chunks(ids, CHUNK):
        summary.add(_reindex_chunk(chunk, config, dry_run=dry_run, actor=actor))
        if progress is not None:
            progress(len(chunk))
    return summary


def _reindex_chunk(ids: list[int], config: MatchConfig, *, dry_run: bool,
                   actor) -> ReindexSummary:
    with transaction.atomic():
        # Locked: a real-time upsert of one of these records waits, so values computed from
        # the attributes read here never overwrite newer ones.
        records = list(SourceRecord.objects.select_for_update().filter(
            pk__in=ids, state=SourceRecord.State.ACTIVE).order_by("id")
            .only(*_READ_FIELDS))
        fresh = _fresh(records, config)
        stale_values = [f for f in fresh if f.stale_values]
        stale_keys = [f for f in fresh if f.stale_keys]
        summary = ReindexSummary(len(fresh), len(stale_values), len(stale_keys))
        if dry_run or not (stale_values or stale_keys):
            return summary
        for f in stale_values:
            f.record.standardised, f.record.invalid_attributes = f.standardised, f.invalid
        SourceRecord.objects.bulk_update([f.record for f in stale_values],
                                         ["standardised", "invalid_attributes"], batch_size=500)
        BlockingKey.objects.filter(source_record_id__in=[f.record.pk for f in stale_keys]).delete()
        BlockingKey.objects.bulk_create(
            [BlockingKey(source_record_id=f.record.pk, rule=rule, key_hash=key)
             for f in stale_keys for rule, key in sorted(f.keys)], batch_size=500)
        event_record(kind="records.reindexed", actor=actor,
                     payload={**summary.as_dict(), "model_version": config.version,
                              "first_record_id": ids[0], "last_record_id": ids[-1]})
        return summary
