"""Ingest: upsert and delete source records, matching them in real time.

Each call is one transaction that also writes one ``record.*`` event. Replays and out-of-order
changes are recognised by the source's version / updated-at and change nothing (invariant 4).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from hub.models import BlockingKey, Link, ReviewTask, SourceRecord, SourceSystem
from hub.services import write_behind
from hub.services.bulk import insert_returning_id, update_columns
from hub.services.entities import (
    entities_lock,
    entity_has_other_records,
    entity_retire,
    entity_touch,
    link_end,
)
from hub.services.errors import Conflict, InvalidInput, NotFound
from hub.services.events import event_record
from hub.services.linking import apply_decision, cancel_open_tasks
from hub.services.match_config import (
    ACTIVE_VERSION_SQL,
    active_match_config,
    match_config_of,
)
from hub.services.matching import (
    decide,
    entities_to_regroup,
    hashed_blocking_keys,
    score_candidates,
)
from hub.services.privacy_suppression import ANY_SUPPRESSED_SQL, suppressed_record_hold
from hub.services.regroup import regroup
from hub.services.transactions import atomic_with_retry
from hub.services.write_behind import writes_sent_together
from linkage.attributes import SOURCE_ATTRIBUTE
from linkage.config import MatchConfig
from linkage.standardise import standardise_record


@dataclass(frozen=True)
class PreparedRecord:
    """Key attributes as received (canonical names, empty values dropped) and standardised;
    the standardised values also hold the record's source code, which the matcher compares."""

    received: dict
    standardised: dict
    content_hash: str
    invalid: dict = field(default_factory=dict)


@dataclass
class IngestResult:
    """What one upsert or delete did, as the API reports it."""

    source: str
    source_key: str
    change: str  # created | updated | unchanged | stale | deleted
    golden_id: str | None = None
    outcome: str | None = None  # linked | new_entity | review
    origin: str | None = None
    score: float | None = None
    explanation: dict = field(default_factory=dict)
    review_tasks: list[dict] = field(default_factory=list)
    warnings: dict = field(default_factory=dict)
    message: str = ""


def prepare_attributes(attributes: Mapping, source_code: str | None = None) -> PreparedRecord:
    """Validate and standardise key attributes; raise ``InvalidInput`` naming each bad field.

    ``source_code`` (None for a search, which has no source) goes with the standardised values:
    the matcher compares it, since one system rarely holds one person twice.
    """
    if not isinstance(attributes, Mapping):
        raise InvalidInput({"non_field_errors": ["expected an object of key attributes"]})
    result = standardise_record(attributes, default_country=settings.MATCH_DEFAULT_COUNTRY)
    if result.problems:
        raise InvalidInput({name: [reason] for name, reason in result.problems.items()})
    received = {k: v for k, v in attributes.items() if v is not None and str(v).strip() != ""}
    digest = hashlib.sha256(json.dumps(received, sort_keys=True).encode()).hexdigest()
    standardised = dict(result.values)
    if source_code is not None:
        standardised[SOURCE_ATTRIBUTE] = source_code
    return PreparedRecord(received, standardised, digest, dict(result.invalid))


def source_by_code(code: str) -> SourceSystem:
    """The active source system with this code, or ``InvalidInput`` on the ``source`` field.

    Only its id and code are read; any other field loads when first used.
    """
    # A plain statement: every upsert starts here, and compiling the ORM's query for this
    # model (twenty columns, an ordering) takes longer than the indexed lookup.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {SourceSystem._meta.db_table} "
                       "WHERE code = %s AND is_active", [code])
        row = cursor.fetchone()
    if row is None:
        raise InvalidInput({"source": [f"unknown source system '{code}'"[:120]]})
    return _active_source(row[0], code)


def _active_source(source_id: int, code: str) -> SourceSystem:
    """An active source system known by id and code; its other fields load when first used."""
    return SourceSystem.from_db(connection.alias, ["id", "code", "is_active"],
                                [source_id, code, True])


# Source system ids by code, as this process last looked them up: every upsert names its source,
# and the lookup would be a round trip of its own. Each upsert confirms inside its transaction,
# in the statement that reads its matching context, that the source is still active under that
# code; when it is not, the entry is forgotten and the source looked up afresh.
_SOURCE_IDS: dict[str, int] = {}
_SOURCE_ACTIVE_SQL = (f"SELECT 1 FROM {SourceSystem._meta.db_table} "
                      "WHERE id = %s AND code = %s AND is_active")


def _source_for_upsert(code: str, *, fresh: bool = False) -> SourceSystem:
    """The source system of this code (``source_by_code``), from this process's memory of it
    unless ``fresh``; ``_matching_context`` confirms it in the upsert's transaction."""
    source_id = None if fresh else _SOURCE_IDS.get(code)
    if source_id is not None:
        return _active_source(source_id, code)
    _SOURCE_IDS.pop(code, None)  # an unknown or inactive code is not remembered
    source = source_by_code(code)
    _SOURCE_IDS[code] = source.pk
    return source


def _with_current_source(source: SourceSystem, upsert: Callable[[SourceSystem], object]):
    """Run ``upsert`` with ``source``; once more with a fresh lookup of its code if the source
    remembered under that code changed (deactivated, or replaced by another with that code)."""
    try:
        return upsert(source)
    except _SourceChanged:
        return upsert(_source_for_upsert(source.code, fresh=True))


def _record_for_update(source: SourceSystem, source_key: str,
                       prepared: PreparedRecord) -> tuple[SourceRecord, bool]:
    """Lock the record's row, creating it (not yet a member of anything) when it is new.

    Two concurrent first upserts of one key both try to insert; the unique constraint makes the
    loser wait for the winner's commit and fail, after which it locks the winner's row.
    """
    queryset = SourceRecord.objects.select_for_update()
    record = _insert_new_record(source, source_key, prepared)
    if record is None:
        return queryset.get(source=source, source_key=source_key), False
    record.is_new = True  # inserted by this transaction: it has no links, keys or tasks
    return record, True


def _insert_new_record(source: SourceSystem, source_key: str,
                       prepared: PreparedRecord) -> SourceRecord | None:
    """Insert the record row, not yet active, with its attributes; or return None when the
    key exists.

    One statement whatever happens (the common case in real time is a new key): the unique
    constraint on (source, source_key) makes a concurrent insert of the same key wait for the
    first transaction, and then insert nothing. The attributes go in now so that joining an
    entity later only rewrites the few columns that change.
    """
    record = SourceRecord(source=source, source_key=source_key,
                          state=SourceRecord.State.DELETED, content_hash="")
    _store(record, prepared, None, None)
    if insert_returning_id(record, conflict=("source_id", "source_key")) is None:
        return None
    return record


def _version_order(record: SourceRecord, version: int | None,
                   updated_at: datetime | None) -> int:
    """-1 if the change is older than the stored one, 0 if the same, 1 if newer or unknown."""
    pairs = ((version, record.source_version), (updated_at, record.source_updated_at))
    for incoming, stored in pairs:
        if incoming is not None and stored is not None:
            if incoming < stored:
                return -1
            if incoming == stored:
                return 0
    return 1


def _current_result(record: SourceRecord, change: str, message: str = "", *,
                    known_link: Link | None = None, tasks_opened: bool = True) -> IngestResult:
    """Describe the record as it stands. ``known_link``: its current link, just written (no
    need to read it back); ``tasks_opened=False``: it has no open review task for certain."""
    result = IngestResult(record.source.code, record.source_key, change, message=message,
                          warnings=dict(record.invalid_attributes))
    if record.state != SourceRecord.State.ACTIVE:
        return result
    link = known_link or Link.objects.filter(source_record=record, ended_at=None).first()
    result.golden_id = record.entity_id
    if link is not None:
        result.outcome, result.origin = link.outcome, link.origin
        result.score, result.explanation = link.score, link.explanation
    if tasks_opened:
        result.review_tasks = [
            {"id": task_id, "candidate_golden_id": entity_id, "score": score,
             "reason": reason}
            for task_id, entity_id, score, reason in ReviewTask.objects.filter(
                source_record=record, state=ReviewTask.State.OPEN).values_list(
                "id", "candidate_entity_id", "score", "reason")]
    return result


def _replace_blocking_keys(record: SourceRecord, keys: list[tuple[str, int]], *,
                           created: bool = False) -> None:
    # Both statements may wait in write_behind: the keys are read only through
    # write_behind.read (candidates and term frequencies), which sends them first.
    table = BlockingKey._meta.db_table
    if not created:  # a record inserted in this transaction has no keys yet
        write_behind.write(f"DELETE FROM {table} WHERE source_record_id = %s", [record.pk])
    rows = list(dict.fromkeys(keys))
    if not rows:
        return
    # One plain INSERT: bulk_create costs more than the insert itself for the two dozen rows
    # of one record, on the real-time path. On PostgreSQL the rows come as two arrays, so the
    # statement has one shape whatever their number (see hub.services.sql).
    if connection.vendor == "postgresql":
        write_behind.write(
            f"INSERT INTO {table} (source_record_id, rule, key_hash) "
            "SELECT %s, rule, key_hash FROM unnest(%s::varchar[], %s::bigint[]) "
            "AS keys (rule, key_hash)",
            [record.pk, [rule for rule, _ in rows], [hashed for _, hashed in rows]])
    else:
        write_behind.write(
            f"INSERT INTO {table} (source_record_id, rule, key_hash) VALUES "
            + ", ".join(["(%s, %s, %s)"] * len(rows)),
            [value for rule, hashed in rows for value in (record.pk, rule, hashed)])


def _store(record: SourceRecord, prepared: PreparedRecord, version, updated_at) -> None:
    record.attributes = prepared.received
    record.standardised = prepared.standardised
    record.invalid_attributes = prepared.invalid
    record.content_hash = prepared.content_hash
    if version is not None:
        record.source_version = version
    if updated_at is not None:
        record.source_updated_at = updated_at


class _SourceChanged(Exception):
    """The source system this process knew under a code is no longer active under it."""


def _matching_context(source: SourceSystem) -> tuple[MatchConfig, bool]:
    """The configuration in force and whether the suppression list holds anybody, in one
    statement that also confirms the source is still active under its code (all three are
    read for every change; see ``hub.services.match_config``,
    ``hub.services.privacy_suppression`` and ``_source_for_upsert``)."""
    # Through write_behind.read: the transaction's BEGIN travels with this statement.
    [[(version, any_suppressed, source_active)]] = write_behind.read([(
        f"SELECT ({ACTIVE_VERSION_SQL}), ({ANY_SUPPRESSED_SQL}), EXISTS ({_SOURCE_ACTIVE_SQL})",
        [source.pk, source.code])])
    if not source_active:
        raise _SourceChanged(source.code)
    return match_config_of(version), bool(any_suppressed)


def _rematch(record: SourceRecord, was_active: bool, actor, *,
             config: MatchConfig | None = None, created: bool = False) -> dict:
    """Match the record afresh and apply the decision; returns the event payload part.

    ``config``: the configuration in force, when the caller has read it already.
    ``created``: the record was inserted in this transaction, so it has no keys, decisions,
    tasks or links yet, and the queries looking for them are skipped (the real-time budget).
    """
    config = config or active_match_config()
    keys = hashed_blocking_keys(record.standardised, config)
    _replace_blocking_keys(record, keys, created=created)
    members = []
    if was_active:
        members = list(SourceRecord.objects.filter(
            entity_id=record.entity_id, state=SourceRecord.State.ACTIVE)
            .values_list("id", flat=True))
    candidates, constraints = score_candidates(
        record_id=record.pk, standardised=record.standardised, config=config, keys=keys,
        extra_record_ids=members, has_decisions=not created)
    decision = decide(candidates, constraints, config)
    group = entities_to_regroup(candidates, constraints, config) if created else []
    if group:
        decision.regrouping = regroup(record.pk, record.standardised, group, config)
    return apply_decision(record=record, decision=decision, was_active=was_active,
                          config=config, actor=actor, created=created)


def _match_and_store(record: SourceRecord, created: bool, was_active: bool,
                     attributes_changed: bool, config: MatchConfig, actor) -> dict:
    """Match the record unless nothing to match on changed, then save its row; returns the
    event payload part."""
    current_link = (None if created
                    else Link.objects.filter(source_record=record, ended_at=None).first())
    if not attributes_changed or (current_link and current_link.origin == Link.Origin.MANUAL):
        # A steward's link is never undone by matching: only the blocking keys follow the data.
        _replace_blocking_keys(record, hashed_blocking_keys(record.standardised, config))
        match_payload = {"rematched": False}
    else:
        match_payload = _rematch(record, was_active, actor, config=config, created=created)
    if created:  # inserted with its attributes: only membership and versions changed since
        update_columns(record, ("entity", "state", "source_version", "source_updated_at",
                                "updated_at"))
    else:
        record.save()
    return match_payload


def _upsert(source: SourceSystem, source_key: str, prepared: PreparedRecord,
            version: int | None, updated_at: datetime | None, actor) -> IngestResult:
    config, any_suppressed = _matching_context(source)
    record, created = _record_for_update(source, source_key, prepared)
    order = 1 if created else _version_order(record, version, updated_at)
    was_active = record.state == SourceRecord.State.ACTIVE
    if order < 0 or (order == 0 and not was_active):
        return _current_result(record, "stale", "an equal or newer version is already stored")
    if was_active and record.content_hash == prepared.content_hash and (
            order == 0 or (version is None and updated_at is None)):
        return _current_result(record, "unchanged")
    if order == 0:
        raise Conflict("this version is already stored with different key attributes")
    attributes_changed = not was_active or record.standardised != prepared.standardised
    _store(record, prepared, version, updated_at)
    if not was_active:
        # An erased person sent again is held for a steward, never silently re-linked.
        held_tasks = suppressed_record_hold(record=record, actor=actor,
                                            any_suppressed=any_suppressed)
        if held_tasks is not None:
            result = _current_result(record, "created" if created else "updated",
                                     "matches an erased person: held for review")
            result.outcome, result.review_tasks = "review", held_tasks
            return result
    change = "created" if created else "updated"
    # The new link, the record's row and the event are read by nobody before the commit: they
    # go to the database together (hub.services.write_behind), one round trip for three.
    with writes_sent_together():
        match_payload = _match_and_store(record, created, was_active, attributes_changed,
                                         config, actor)
        event_record(kind=f"record.{change}", entity_id=record.entity_id,
                     source_record_id=record.pk, actor=actor,
                     payload={"source_id": source.pk, "version": record.source_version,
                              **match_payload})
    if "review_task_ids" in match_payload:
        # Matching just ran: the link is the one it wrote, and the only open tasks are those
        # it opened (it cancelled the others).
        return _current_result(record, change, known_link=getattr(record, "current_link", None),
                               tasks_opened=bool(match_payload["review_task_ids"]))
    return _current_result(record, change)


@atomic_with_retry
def _upsert_one(source, source_key, prepared, version, updated_at, actor) -> IngestResult:
    return _upsert(source, source_key, prepared, version, updated_at, actor)


def record_upsert(*, source_code: str, source_key: str, attributes: Mapping,
                  version: int | None = None, updated_at: datetime | None = None,
                  actor=None) -> IngestResult:
    """Create or update one source record and match it in real time.

    Returns the record's golden ID, the match outcome (linked / new_entity / review), score and
    explanation. The same change twice, or an older version after a newer one, changes nothing
    and says so in ``change`` (unchanged / stale). Raises ``InvalidInput`` for bad attributes or
    an unknown source and ``Conflict`` for a stored version with different attributes.
    """
    source = _source_for_upsert(source_code)
    prepared = prepare_attributes(attributes, source.code)
    return _with_current_source(source, lambda current: _upsert_one(
        current, source_key, prepared, version, updated_at, actor))


def records_upsert_batch(*, source_code: str, items: list[Mapping], actor=None,
                         ) -> list[IngestResult]:
    """Upsert up to ``INGEST_BATCH_LIMIT`` records of one source, all or nothing.

    Every item is validated first; if any is bad, ``InvalidInput`` lists the problems per item
    index and nothing is stored. Otherwise all are applied in order in one transaction.
    Items are dicts with ``source_key``, optional ``version`` / ``updated_at`` and
    ``attributes``.
    """
    limit = settings.INGEST_BATCH_LIMIT
    if len(items) > limit:
        raise InvalidInput({"records": [f"at most {limit} records per batch, got {len(items)}"]})
    source = _source_for_upsert(source_code)
    prepared, problems = [], {}
    for index, item in enumerate(items):
        try:
            prepared.append(prepare_attributes(item["attributes"], source.code))
        except InvalidInput as error:
            problems[str(index)] = error.errors
    if problems:
        raise InvalidInput({"records": problems})
    return _with_current_source(
        source, lambda current: _upsert_batch(current, items, prepared, actor))


@atomic_with_retry
def _upsert_batch(source, items, prepared, actor) -> list[IngestResult]:
    return [_upsert(source, item["source_key"], ready, item.get("version"),
                    item.get("updated_at"), actor)
            for item, ready in zip(items, prepared, strict=True)]


@atomic_with_retry
def record_delete(*, source_code: str, source_key: str, version: int | None = None,
                  actor=None) -> IngestResult:
    """Remove a record from its entity because the source deleted it.

    The cross-reference row stays (with its version, so an older upsert arriving late is
    ignored) but its key attributes and blocking keys are dropped. An entity left without
    records is retired; its golden ID still resolves.
    """
    source = source_by_code(source_code)
    record = (SourceRecord.objects.select_for_update()
              .filter(source=source, source_key=source_key).first())
    if record is None:
        raise NotFound("no such source record")
    if version is not None and record.source_version is not None and (
            version < record.source_version):
        return _current_result(record, "stale", "a newer version is already stored")
    if record.state != SourceRecord.State.ACTIVE:
        return _current_result(record, "unchanged", "the record is already deleted")
    entity = entities_lock([record.entity_id])[record.entity_id]
    link_end(record)
    cancel_open_tasks(record)
    record.entity, record.state = None, SourceRecord.State.DELETED
    record.attributes, record.standardised, record.content_hash = {}, {}, ""
    record.invalid_attributes = {}
    if version is not None:
        record.source_version = version
    BlockingKey.objects.filter(source_record=record).delete()
    record.save()
    retired = not entity_has_other_records(entity, record)
    if retired:
        entity_retire(entity)
        ReviewTask.objects.filter(candidate_entity=entity, state=ReviewTask.State.OPEN).update(
            state=ReviewTask.State.CANCELLED, resolved_at=timezone.now())
    else:
        entity_touch(entity)
    event_record(kind="record.deleted", entity_id=entity.golden_id, source_record_id=record.pk,
                 actor=actor, payload={"source_id": source.pk, "version": record.source_version,
                                       "entity_retired": retired})
    return IngestResult(source.code, source_key, "deleted", golden_id=entity.golden_id)
