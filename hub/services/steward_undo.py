"""Undoing a steward action (task resolution, merge, split) from its event.

The action's event payload names everything it changed: record moves (with the link each
move ended and the link it started), entities it retired or re-pointed, decisions it created or
deactivated and tasks it cancelled. Undo checks that nothing has moved on since, then restores
the earlier state and writes an ``action.undone`` event.
"""

from __future__ import annotations

from django.utils import timezone

from hub.models import Decision, Entity, Event, Link, ReviewTask, SourceRecord
from hub.services.errors import Conflict, InvalidInput, NotFound
from hub.services.events import event_record
from hub.services.steward_common import (
    entities_lock_all,
    entity_bump,
    moot_tasks_cancel,
    permission_require,
    record_move,
    who_when,
)
from hub.services.steward_entities import entity_require_active
from hub.services.transactions import atomic_with_retry

UNDOABLE_KINDS = ("review.resolved", "entity.merged", "record.split")


def event_is_undoable(event: Event) -> bool:
    """Whether ``event`` records a steward action ``action_undo`` can undo (a batch run's
    ``entity.merged`` events cannot be: they carry no moves). Says nothing about whether it
    was undone already."""
    return event.kind in UNDOABLE_KINDS and "moves" in (event.payload or {})


def _undoable_event(event_id: int) -> Event:
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        raise NotFound(f"no event {event_id}")
    if not event_is_undoable(event):
        raise InvalidInput({"event_id": [f"event {event_id} ({event.kind}) is not a steward "
                                         "action that can be undone"]})
    return event


def _require_not_undone(event: Event) -> None:
    undone = (Event.objects.filter(kind="action.undone", payload__undone_event_id=event.pk)
              .select_related("actor").first())
    if undone is not None:
        raise Conflict(f"event {event.pk} was already undone by "
                       f"{who_when(undone.actor, undone.created_at)}")


def _plan(event: Event) -> dict:
    """What to restore: entities to reactivate (and who points at them), entities to retire."""
    payload = event.payload
    reactivate: dict[str, str] = {}  # retired golden ID -> the entity it was merged into
    repointed: dict[str, list[str]] = {}
    retire: dict[str, str] = {}  # entity left empty by the undo -> where its ID then resolves
    if event.kind == "entity.merged":
        victim = payload["victim_golden_id"]
        reactivate[victim] = payload["survivor_golden_id"]
        repointed[victim] = payload.get("repointed", [])
    elif event.kind == "review.resolved":
        for golden_id in payload.get("retired", []):
            reactivate[golden_id] = payload["candidate_golden_id"]
            repointed[golden_id] = payload.get("repointed", [])
    else:
        retire[payload["to"]] = payload["from"]
    return {"reactivate": reactivate, "repointed": repointed, "retire": retire}


def _require_unchanged(event: Event, plan: dict, entities: dict[str, Entity],
                       records: dict[int, SourceRecord]) -> None:
    """Conflict if anything the action did has been changed by a later action."""
    moves = event.payload["moves"] + event.payload.get("confirmed", [])
    links = {link.source_record_id: link for link in Link.objects.filter(
        source_record_id__in=list(records), ended_at=None).select_related("created_by")}
    made = Link.objects.in_bulk([move["link_id"] for move in moves])
    for move in moves:
        link, ours = links.get(move["record_id"]), made.get(move["link_id"])
        # Not the same row is fine when it is an equal link (a later action undone meanwhile).
        if link is None or ours is None or (link.entity_id, link.origin) != (ours.entity_id,
                                                                            ours.origin):
            by = who_when(link.created_by, link.created_at) if link else "a later change"
            raise Conflict(f"record {move['record_id']} has been relinked since, by {by}")
    for golden_id, into in plan["reactivate"].items():
        entity = entities[golden_id]
        if entity.state != Entity.State.MERGED or entity.merged_into_id != into:
            raise Conflict(f"entity {golden_id} has changed since: it is {entity.state}"
                           + (f" into {entity.merged_into_id}" if entity.merged_into_id else ""))
    for move in moves:
        if move["from"] not in plan["reactivate"]:
            entity_require_active(entities[move["from"]])
    for golden_id in plan["retire"]:
        entity_require_active(entities[golden_id])
        others = SourceRecord.objects.filter(entity_id=golden_id, state="active").exclude(
            id__in=[m["record_id"] for m in moves])
        if others.exists():
            raise Conflict(f"entity {golden_id} has gained records since; split them first")
    created = event.payload.get("decisions_created", [])
    if Decision.objects.filter(pk__in=created, is_active=False).exists():
        raise Conflict("a decision this action made has been withdrawn since")


def _restore_decisions(payload: dict) -> tuple[list[int], list[int]]:
    created = payload.get("decisions_created", [])
    Decision.objects.filter(pk__in=created).update(is_active=False)
    reactivated = []
    for decision in Decision.objects.filter(pk__in=payload.get("decisions_deactivated", [])):
        if not Decision.objects.filter(record_a_id=decision.record_a_id,
                                       record_b_id=decision.record_b_id,
                                       is_active=True).exists():
            decision.is_active = True
            decision.save(update_fields=["is_active"])
            reactivated.append(decision.pk)
    return created, reactivated


def _reopen_tasks(event: Event, golden_ids) -> list[int]:
    """Reopen the resolved task and the tasks the action cancelled, where no twin is open."""
    ids = list(event.payload.get("cancelled_task_ids", []))
    if event.kind == "review.resolved":
        ids.append(event.payload["task_id"])
    reopened = []
    for task in ReviewTask.objects.select_for_update().filter(pk__in=ids).order_by("id"):
        twin = ReviewTask.objects.filter(source_record_id=task.source_record_id,
                                         candidate_entity_id=task.candidate_entity_id,
                                         state=ReviewTask.State.OPEN).exists()
        if task.state == ReviewTask.State.OPEN or twin:
            continue
        task.state, task.verdict = ReviewTask.State.OPEN, ""
        task.resolved_by, task.resolved_at = None, None
        task.save(update_fields=["state", "verdict", "resolved_by", "resolved_at"])
        reopened.append(task.pk)
    still_moot = set(moot_tasks_cancel(golden_ids))
    return [task_id for task_id in reopened if task_id not in still_moot]


@atomic_with_retry
def action_undo(*, event_id: int, user) -> Event:
    """Undo the steward action recorded by ``event_id``; returns the ``action.undone`` event.

    Records go back to the entities they left, with copies of the links they had; a golden ID
    the action retired becomes active again with its own records (and IDs merged into it point
    at it again); a split-off entity resolves to the entity its record returns to. Decisions the
    action made are deactivated, those it deactivated come back, and the tasks it resolved or
    cancelled reopen. Conflict if it was already undone (naming who and when) or a later action
    changed what it did.
    """
    permission_require(user, "undo_action")
    event = _undoable_event(event_id)
    payload = event.payload
    plan = _plan(event)
    moves = payload["moves"] + payload.get("confirmed", [])
    golden_ids = ({m["from"] for m in moves} | {m["to"] for m in moves}
                  | set(plan["reactivate"]) | set(plan["reactivate"].values())
                  | set(plan["retire"]) | set(plan["retire"].values()))
    # Entity locks serialise two undos of one action: the second then sees the first's event.
    entities = entities_lock_all(golden_ids)
    _require_not_undone(event)
    records = {r.pk: r for r in SourceRecord.objects.select_for_update()
               .filter(pk__in=[m["record_id"] for m in moves]).order_by("id")}
    _require_unchanged(event, plan, entities, records)
    for golden_id in plan["reactivate"]:
        entity = entities[golden_id]
        entity.state, entity.merged_into = Entity.State.ACTIVE, None
        Entity.objects.filter(golden_id__in=plan["repointed"].get(golden_id, [])).update(
            merged_into=entity, updated_at=timezone.now())
    previous = Link.objects.in_bulk([m["previous_link_id"] for m in moves
                                     if m["previous_link_id"]])
    restored = [record_move(records[m["record_id"]], entities[m["from"]], user,
                            copy_of=previous.get(m["previous_link_id"]))
                for m in reversed(moves)]
    for golden_id, into in plan["retire"].items():
        entity = entities[golden_id]
        entity.state, entity.merged_into = Entity.State.MERGED, entities[into]
        Entity.objects.filter(merged_into=entity).update(merged_into=entities[into])
    entity_bump(*entities.values())
    deactivated, reactivated = _restore_decisions(payload)
    reopened = _reopen_tasks(event, golden_ids)
    return event_record(kind="action.undone", entity_id=event.entity_id,
                        source_record_id=event.source_record_id, actor=user,
                        payload={"undone_event_id": event.pk, "undone_kind": event.kind,
                                 "moves": restored, "decisions_deactivated": deactivated,
                                 "decisions_reactivated": reactivated,
                                 "reopened_task_ids": reopened})


__all__ = ["UNDOABLE_KINDS", "action_undo", "event_is_undoable"]
