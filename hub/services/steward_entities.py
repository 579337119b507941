"""Steward changes to entities: merge two entities, split a record out into a new one."""

from __future__ import annotations

from hub.models import Decision, Entity, Link, SourceRecord
from hub.services.entities import entity_create
from hub.services.errors import Conflict, InvalidInput, NotFound
from hub.services.events import event_record
from hub.services.steward_common import (
    active_decisions,
    current_link,
    decision_create,
    decision_describe,
    entities_lock_all,
    entity_bump,
    last_change,
    members_lock,
    moot_tasks_cancel,
    pair,
    permission_require,
    record_move,
)
from hub.services.transactions import atomic_with_retry

_LOCK_ATTEMPTS = 3


def entity_require_active(entity: Entity) -> None:
    """Conflict naming the entity's state and its last change, unless it is active."""
    if entity.is_active:
        return
    where = f" into {entity.merged_into_id}" if entity.merged_into_id else ""
    raise Conflict(f"entity {entity.golden_id} is {entity.state}{where} "
                   f"(last change: {last_change(entity.golden_id)})")


def entity_require_version(entity: Entity, expected: int | None) -> None:
    """The optimistic check: Conflict if the entity changed since the steward loaded it."""
    if expected is not None and entity.version != expected:
        raise Conflict(f"entity {entity.golden_id} has changed since version {expected} "
                       f"(now {entity.version}; last change: {last_change(entity.golden_id)})")


@atomic_with_retry
def entity_merge(*, survivor_id: str, victim_id: str, user,
                 expected_versions: dict[str, int] | None = None) -> Entity:
    """Merge ``victim_id`` into ``survivor_id``; the survivor keeps its golden ID.

    Every record of both entities ends with a manual link to the survivor (the steward vouched
    for the whole entity, so neither real-time nor batch matching pulls it apart again). The
    victim becomes merged into the survivor, and entities merged into the victim earlier are
    re-pointed so every old ID resolves in one step. Conflict if either entity is not active,
    a version in ``expected_versions`` ({golden_id: version}) is stale, or an active
    "different" decision separates a record of one from a record of the other.
    """
    permission_require(user, "merge_entity")
    if survivor_id == victim_id:
        raise InvalidInput({"victim_id": ["an entity cannot be merged into itself"]})
    unknown = set(expected_versions or {}) - {survivor_id, victim_id}
    if unknown:
        raise InvalidInput({"expected_versions": [f"not part of this merge: {sorted(unknown)}"]})
    entities = entities_lock_all([survivor_id, victim_id])
    survivor, victim = entities[survivor_id], entities[victim_id]
    for entity in (survivor, victim):
        entity_require_active(entity)
        entity_require_version(entity, (expected_versions or {}).get(entity.golden_id))
    records = members_lock([survivor_id, victim_id])
    moving = [r for r in records if r.entity_id == victim_id]
    staying = [r for r in records if r.entity_id == survivor_id]
    blocking = [d for d in active_decisions([r.pk for r in moving], [r.pk for r in staying])
                if d.verdict == Decision.Verdict.DIFFERENT]
    if blocking:
        raise Conflict(f"cannot merge {victim_id} into {survivor_id}: "
                       f"{decision_describe(blocking[0])} says records "
                       f"{blocking[0].record_a_id} and {blocking[0].record_b_id} differ")
    moves = [record_move(r, survivor, user) for r in moving]
    confirmed = [record_move(r, survivor, user) for r in staying
                 if getattr(current_link(r), "origin", None) != Link.Origin.MANUAL]
    repointed = list(Entity.objects.filter(merged_into=victim).values_list("golden_id",
                                                                           flat=True))
    Entity.objects.filter(merged_into=victim).update(merged_into=survivor)
    victim.state, victim.merged_into = Entity.State.MERGED, survivor
    entity_bump(victim, survivor)
    cancelled = moot_tasks_cancel([survivor_id, victim_id])
    event_record(kind="entity.merged", entity_id=victim_id, actor=user,
                 payload={"into": survivor_id, "survivor_golden_id": survivor_id,
                          "victim_golden_id": victim_id, "moves": moves, "confirmed": confirmed,
                          "repointed": repointed, "cancelled_task_ids": cancelled})
    return survivor


def _lock_record_and_entity(record_id: int) -> tuple[SourceRecord, Entity]:
    """Lock the record's entity, then the record (the steward lock order)."""
    for _ in range(_LOCK_ATTEMPTS):
        peek = SourceRecord.objects.filter(pk=record_id).values_list("entity_id", "state").first()
        if peek is None:
            raise NotFound(f"no source record {record_id}")
        entity_id, state = peek
        if state != SourceRecord.State.ACTIVE:
            raise Conflict(f"record {record_id} is {state}")
        entity = entities_lock_all([entity_id])[entity_id]
        record = SourceRecord.objects.select_for_update().get(pk=record_id)
        if record.entity_id == entity_id:
            return record, entity
    raise Conflict(f"record {record_id} keeps changing entity; try again")


@atomic_with_retry
def record_split(*, record_id: int, user, expected_entity_version: int | None = None) -> Entity:
    """Split a record out of its entity into a new entity with a new golden ID.

    The record gets a manual link to the new entity (``split_from`` names the old one), and a
    "different" decision with every record it leaves, so matching never puts it back; "same"
    decisions with those records are deactivated. Conflict if the record is the only one of its
    entity (there is nothing to split from), its entity is not active or changed since
    ``expected_entity_version``.
    """
    permission_require(user, "split_entity")
    record, old = _lock_record_and_entity(record_id)
    entity_require_active(old)
    entity_require_version(old, expected_entity_version)
    others = list(SourceRecord.objects.filter(entity=old, state=SourceRecord.State.ACTIVE)
                  .exclude(pk=record.pk).order_by("id").values_list("id", flat=True))
    if not others:
        raise Conflict(f"record {record_id} is the only record of {old.golden_id}: "
                       "there is nothing to split it from")
    existing = active_decisions([record.pk], others)
    deactivated = [d.pk for d in existing if d.verdict == Decision.Verdict.SAME]
    Decision.objects.filter(pk__in=deactivated).update(is_active=False)
    decided = {pair(d.record_a_id, d.record_b_id) for d in existing
               if d.verdict == Decision.Verdict.DIFFERENT}
    created = [decision_create(record.pk, other, Decision.Verdict.DIFFERENT, user).pk
               for other in others if pair(record.pk, other) not in decided]
    new = entity_create()
    new.split_from = old
    move = record_move(record, new, user)
    entity_bump(old, new)
    cancelled = moot_tasks_cancel([old.golden_id, new.golden_id])
    event_record(kind="record.split", entity_id=new.golden_id, source_record_id=record.pk,
                 actor=user,
                 payload={"from": old.golden_id, "to": new.golden_id, "moves": [move],
                          "decisions_created": created, "decisions_deactivated": deactivated,
                          "cancelled_task_ids": cancelled})
    return new


__all__ = ["entity_merge", "entity_require_active", "entity_require_version", "record_split"]
