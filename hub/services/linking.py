"""Applying a match decision to one record: join an entity, stay, split off, open review tasks.

Runs inside the ingest transaction with the record's row already locked; entity rows are locked
here in golden-ID order.
"""

from __future__ import annotations

from django.utils import timezone

from hub.models import Entity, Link, ReviewTask, SourceRecord
from hub.services.entities import (
    active_entity_touch,
    entities_lock,
    entity_create,
    entity_has_other_records,
    entity_retire,
    entity_touch,
    link_start,
)
from hub.services.events import event_record
from hub.services.matching import EntityCandidate, MatchDecision
from hub.services.regroup_apply import regrouping_apply
from linkage.config import MatchConfig


def cancel_open_tasks(record: SourceRecord) -> None:
    """Cancel the record's open review tasks: the question they asked no longer stands."""
    ReviewTask.objects.filter(source_record=record, state=ReviewTask.State.OPEN).update(
        state=ReviewTask.State.CANCELLED, resolved_at=timezone.now())


def _lock_target(target_id: str, current_id: str | None, others=()) -> tuple[Entity | None,
                                                                             Entity | None]:
    """Lock the target, current and ``others`` entities (one call, so in ID order) and bump the
    target's version; follow a target merged meanwhile to its survivor."""
    if current_id is None and not others:
        # A new record joining one entity (the real-time common case): one statement.
        target = active_entity_touch(target_id)
        if target is not None:
            return target, None
    locked = entities_lock([target_id, current_id, *others])
    target = locked.get(target_id)
    if target is not None and target.state == Entity.State.MERGED:
        target = entities_lock([target.merged_into_id]).get(target.merged_into_id)
    if target is not None and not target.is_active:
        target = None
    if target is not None:
        entity_touch(target)
    return target, locked.get(current_id) if current_id else None


def _join(record: SourceRecord, target: Entity, current: Entity | None,
          decision: MatchDecision, config: MatchConfig, actor) -> dict:
    best = decision.target
    origin = Link.Origin.MANUAL if decision.forced_by_decision else Link.Origin.AUTO
    link_start(record=record, entity=target, origin=origin, outcome=Link.Outcome.LINKED,
               score=best.score.weight, explanation=best.explanation(),
               model_version=config.version, actor=actor)
    payload = {"outcome": "linked", "golden_id": target.golden_id, "score": best.score.weight,
               "matched_record_id": best.record_id}
    merged = [gid for gid in (_merge_into(target, c, record, config, actor)
                              for c in decision.merge) if gid]
    if merged:
        payload["merged_golden_ids"] = merged
    if current is not None and current.pk != target.pk:
        payload["previous_golden_id"] = current.golden_id
        if entity_has_other_records(current, record):
            entity_touch(current)
        else:
            entity_retire(current, merged_into=target)
            payload["merged_golden_id"] = current.golden_id
    return payload


def _merge_into(target: Entity, candidate: EntityCandidate, record: SourceRecord,
                config: MatchConfig, actor) -> str | None:
    """Move every record of the candidate's entity to ``target`` and retire it as merged there.

    The incoming record links both, as a batch run would join them. A steward's manual link
    stays manual when its group moves; the entity's ID keeps resolving, to ``target``.
    """
    victim = Entity.objects.filter(pk=candidate.entity_id).first()
    if victim is None or not victim.is_active or victim.pk == target.pk:
        return None
    members = list(SourceRecord.objects.filter(entity=victim, state=SourceRecord.State.ACTIVE)
                   .exclude(pk=record.pk))
    manual = set(Link.objects.filter(source_record__in=members, ended_at=None,
                                     origin=Link.Origin.MANUAL)
                 .values_list("source_record_id", flat=True))
    for member in members:
        link_start(record=member, entity=target,
                   origin=Link.Origin.MANUAL if member.pk in manual else Link.Origin.AUTO,
                   outcome=Link.Outcome.LINKED, score=candidate.score.weight,
                   explanation={**candidate.explanation(), "joined_by_record_id": record.pk},
                   model_version=config.version, actor=actor)
        member.save(update_fields=["entity", "state"])
    entity_retire(victim, merged_into=target)
    entity_touch(target)
    event_record(kind="entity.merged", entity_id=victim.golden_id, actor=actor,
                 payload={"into": target.golden_id, "joined_by_record_id": record.pk,
                          "records": len(members)})
    return victim.golden_id


def _stand_alone(record: SourceRecord, current: Entity | None, decision: MatchDecision,
                 config: MatchConfig, actor) -> dict:
    """Keep a record that matched nothing in its own entity: its current one if it is alone
    there (its golden ID should not change for nothing), otherwise a new one."""
    payload: dict = {"outcome": decision.outcome}
    if current is not None and not entity_has_other_records(current, record):
        entity = current
    else:
        entity = entity_create()
        if current is not None:
            entity_touch(current)
            payload["split_from_golden_id"] = current.golden_id
    best: EntityCandidate | None = decision.review[0][0] if decision.review else None
    link_start(record=record, entity=entity, origin=Link.Origin.AUTO, outcome=decision.outcome,
               score=best.score.weight if best else None,
               explanation=best.explanation() if best else {},
               model_version=config.version, actor=actor)
    payload["golden_id"] = entity.golden_id
    return payload


def _open_tasks(record: SourceRecord, decision: MatchDecision, config: MatchConfig) -> list[int]:
    tasks = [
        ReviewTask.objects.create(
            source_record=record, candidate_entity_id=candidate.entity_id,
            candidate_record_id=candidate.record_id, reason=reason,
            score=candidate.score.weight, explanation=candidate.explanation(),
            model_version=config.version)
        for candidate, reason in decision.review
        if candidate.entity_id != record.entity_id
    ]
    return [task.pk for task in tasks]


def apply_decision(*, record: SourceRecord, decision: MatchDecision, was_active: bool,
                   config: MatchConfig, actor=None, created: bool = False) -> dict:
    """Make the record's membership follow ``decision``; returns a payload of IDs for the event.

    A record moving out of an entity where it was alone retires that entity as merged into its
    new one, so the old golden ID keeps resolving to the right customer.
    """
    if not created:  # a record inserted in this transaction has no tasks yet
        cancel_open_tasks(record)
    if decision.regrouping is not None:
        payload = regrouping_apply(record=record, regrouping=decision.regrouping,
                                   config=config, actor=actor)
        if payload is not None:
            return payload
        # The group changed while it was planned: decide as if alone in the hub today.
    current_id = record.entity_id if was_active else None
    if decision.outcome == "linked":
        target, current = _lock_target(decision.target.entity_id, current_id,
                                       [c.entity_id for c in decision.merge])
        if target is not None:
            payload = _join(record, target, current, decision, config, actor)
            payload["review_task_ids"] = _open_tasks(record, decision, config)
            return payload
        # The candidate entity vanished (retired or erased) under us: nothing to join.
        decision = MatchDecision("new_entity")
    else:
        current = entities_lock([current_id]).get(current_id) if current_id else None
    payload = _stand_alone(record, current, decision, config, actor)
    payload["review_task_ids"] = _open_tasks(record, decision, config)
    return payload
