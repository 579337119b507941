"""Applying a regrouping (``hub.services.regroup``) inside the ingest transaction.

The incoming record joins its cluster's entity; stored records the plan moves get a new link
to their new entity (a steward's manual link stays manual), entities left empty retire as
merged into the entity that took their records (their golden IDs keep resolving), and the
links clustering refused across clusters become review tasks about the incoming record. The
entities are locked first, in golden-ID order, and the plan is only applied if their
membership is still the one it was computed from.
"""

from __future__ import annotations

from django.utils import timezone

from hub.models import Entity, Link, ReviewTask, SourceRecord
from hub.services.batch_plan import NewEntity
from hub.services.entities import (
    entities_lock,
    entity_create,
    entity_retire,
    entity_touch,
    link_start,
)
from hub.services.events import event_record
from hub.services.regroup import Regrouping
from linkage.config import MatchConfig
from linkage.scoring import PairScore


class _Entities:
    """The locked entities of a plan, and the new ones it issues (once each)."""

    def __init__(self, locked: dict[str, Entity]) -> None:
        self.locked = locked
        self.created: dict[NewEntity, Entity] = {}

    def of(self, target: object) -> Entity:
        if isinstance(target, NewEntity):
            if target not in self.created:
                self.created[target] = entity_create()
            return self.created[target]
        return self.locked[target]


def regrouping_apply(*, record: SourceRecord, regrouping: Regrouping, config: MatchConfig,
                     actor=None) -> dict | None:
    """Apply the plan; the event payload for the record, or None when the entities changed
    since it was planned (a concurrent change: the caller then decides without regrouping)."""
    locked = entities_lock(regrouping.members)
    if not _unchanged(regrouping, locked, record):
        return None
    entities = _Entities(locked)
    target = entities.of(regrouping.target)
    outcome = _join(record, target, regrouping, config, actor)
    moved = _move_stored_records(record, regrouping, entities, config, actor)
    merged = _retire_emptied(record, regrouping, entities, actor)
    for golden_id in regrouping.plan.split | {t for _, _, t in regrouping.plan.moves
                                               if isinstance(t, str)} | {target.golden_id}:
        if golden_id in locked and golden_id not in regrouping.plan.retired:
            entity_touch(locked[golden_id])
    payload = {"outcome": outcome, "golden_id": target.golden_id,
               "regrouped_record_ids": moved}
    if merged:
        payload["merged_golden_ids"] = merged
    payload["review_task_ids"] = _open_tasks(record, regrouping, entities, config)
    return payload


def _unchanged(regrouping: Regrouping, locked: dict[str, Entity], record: SourceRecord) -> bool:
    if any(gid not in locked or not locked[gid].is_active for gid in regrouping.members):
        return False
    members: dict[str, set[int]] = {}
    for record_id, entity_id in (SourceRecord.objects
                                 .filter(entity_id__in=list(regrouping.members),
                                         state=SourceRecord.State.ACTIVE)
                                 .exclude(pk=record.pk).values_list("id", "entity_id")):
        members.setdefault(entity_id, set()).add(record_id)
    return members == {gid: set(ids) for gid, ids in regrouping.members.items()}


def _explanation(score: PairScore | None, other: int | None, record_id: int) -> dict:
    if score is None:
        return {}
    return {**score.explanation(), "matched_record_id": other, "regrouped_by_record_id":
            record_id}


def _join(record: SourceRecord, target: Entity, regrouping: Regrouping, config: MatchConfig,
          actor) -> str:
    other, score = regrouping.best.get(record.pk, (None, None))
    if other is not None:
        outcome = Link.Outcome.LINKED
    else:
        outcome = Link.Outcome.REVIEW if regrouping.refused else Link.Outcome.NEW_ENTITY
    link_start(record=record, entity=target, origin=Link.Origin.AUTO, outcome=outcome,
               score=score.weight if score else None,
               explanation=_explanation(score, other, record.pk),
               model_version=config.version, actor=actor)
    return str(outcome)


def _move_stored_records(record: SourceRecord, regrouping: Regrouping, entities: _Entities,
                         config: MatchConfig, actor) -> list[int]:
    moves = regrouping.plan.moves
    ids = [record_id for record_id, _old, _new in moves]
    members = SourceRecord.objects.in_bulk(ids)
    manual = set(Link.objects.filter(source_record_id__in=ids, ended_at=None,
                                     origin=Link.Origin.MANUAL)
                 .values_list("source_record_id", flat=True))
    for record_id, old, new in moves:
        member, entity = members[record_id], entities.of(new)
        other, score = regrouping.best.get(record_id, (None, None))
        link_start(record=member, entity=entity,
                   origin=Link.Origin.MANUAL if record_id in manual else Link.Origin.AUTO,
                   outcome=Link.Outcome.LINKED if score else Link.Outcome.NEW_ENTITY,
                   score=score.weight if score else None,
                   explanation=_explanation(score, other, record.pk),
                   model_version=config.version, actor=actor)
        member.save(update_fields=["entity", "state"])
        ReviewTask.objects.filter(source_record=member, state=ReviewTask.State.OPEN).update(
            state=ReviewTask.State.CANCELLED, resolved_at=timezone.now())
        event_record(kind="record.relinked", entity_id=entity.golden_id,
                     source_record_id=record_id, actor=actor,
                     payload={"from": old, "regrouped_by_record_id": record.pk,
                              "score": score.weight if score else None})
    return ids


def _retire_emptied(record: SourceRecord, regrouping: Regrouping, entities: _Entities,
                    actor) -> list[str]:
    merged = []
    for old, survivor in regrouping.plan.retired.items():
        into = entities.of(survivor)
        entity_retire(entities.locked[old], merged_into=into)
        ReviewTask.objects.filter(candidate_entity_id=old, state=ReviewTask.State.OPEN).update(
            state=ReviewTask.State.CANCELLED, resolved_at=timezone.now())
        event_record(kind="entity.merged", entity_id=old, actor=actor,
                     payload={"into": into.golden_id, "joined_by_record_id": record.pk})
        merged.append(old)
    return merged


def _open_tasks(record: SourceRecord, regrouping: Regrouping, entities: _Entities,
                config: MatchConfig) -> list[int]:
    """One review task per other entity the record's cluster was kept apart from."""
    strongest: dict[str, tuple[int, PairScore, str]] = {}
    for _inside, outside, score, reason in regrouping.refused:
        entity = entities.of(regrouping.plan.targets[outside]).golden_id
        if entity not in strongest or strongest[entity][1].weight < score.weight:
            strongest[entity] = (outside, score, reason)
    tasks = [ReviewTask.objects.create(
        source_record=record, candidate_entity_id=entity, candidate_record_id=outside,
        # Kept apart because of a conflict: which of the two is this person? ("ambiguous")
        reason=reason if reason in ReviewTask.Reason.values else ReviewTask.Reason.AMBIGUOUS,
        score=score.weight, explanation=score.explanation(), model_version=config.version)
        for entity, (outside, score, reason) in strongest.items()
        if entity != record.entity_id]
    return [task.pk for task in tasks]
