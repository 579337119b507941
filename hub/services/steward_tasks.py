"""Review tasks in the steward's hands: claim, release, resolve as "same" or "different"."""

from __future__ import annotations

from django.utils import timezone

from hub.models import Decision, Entity, ReviewTask, SourceRecord
from hub.services.errors import Conflict, InvalidInput, NotFound
from hub.services.events import event_record
from hub.services.steward_common import (
    active_decisions,
    decision_create,
    decision_describe,
    entities_lock_all,
    entity_bump,
    moot_tasks_cancel,
    pair,
    permission_require,
    record_move,
    when,
    who_when,
)
from hub.services.transactions import atomic_with_retry

# A record can change entity between reading its task and locking its entity; try again then.
_LOCK_ATTEMPTS = 3


def _task_lock(task_id: int) -> ReviewTask:
    task = (ReviewTask.objects.select_for_update(of=("self",)).filter(pk=task_id)
            .select_related("resolved_by", "assignee").first())
    if task is None:
        raise NotFound(f"no review task {task_id}")
    return task


def _require_open(task: ReviewTask) -> None:
    """Conflict naming who closed the task and when, unless it is still open."""
    if task.state == ReviewTask.State.RESOLVED:
        raise Conflict(f"task {task.pk} was already resolved ({task.verdict or 'no verdict'}) "
                       f"by {who_when(task.resolved_by, task.resolved_at)}")
    if task.state == ReviewTask.State.CANCELLED:
        raise Conflict(f"task {task.pk} was cancelled at {when(task.resolved_at)}: its "
                       "question no longer stands")


def _require_not_claimed_by_other(task: ReviewTask, user) -> None:
    if task.assignee_id and task.assignee_id != user.pk and not user.is_superuser:
        raise Conflict(f"task {task.pk} is claimed by "
                       f"{who_when(task.assignee, task.claimed_at)}")


@atomic_with_retry
def review_task_claim(*, task_id: int, user) -> ReviewTask:
    """Assign an open task to ``user`` so other stewards see it is being worked on.

    Claiming one's own task again changes nothing. Conflict if the task is closed or claimed by
    someone else.
    """
    permission_require(user, "resolve_reviewtask")
    task = _task_lock(task_id)
    _require_open(task)
    if task.assignee_id == user.pk:
        return task
    if task.assignee_id:
        raise Conflict(f"task {task.pk} is claimed by {who_when(task.assignee, task.claimed_at)}")
    task.assignee, task.claimed_at = user, timezone.now()
    task.save(update_fields=["assignee", "claimed_at"])
    event_record(kind="review.claimed", entity_id=task.candidate_entity_id,
                 source_record_id=task.source_record_id, actor=user,
                 payload={"task_id": task.pk})
    return task


@atomic_with_retry
def review_task_release(*, task_id: int, user) -> ReviewTask:
    """Give an open task back to the queue. Only its assignee (or a superuser) may release it;
    releasing an unclaimed task changes nothing."""
    permission_require(user, "resolve_reviewtask")
    task = _task_lock(task_id)
    _require_open(task)
    if task.assignee_id is None:
        return task
    _require_not_claimed_by_other(task, user)
    previous = task.assignee_id
    task.assignee, task.claimed_at = None, None
    task.save(update_fields=["assignee", "claimed_at"])
    event_record(kind="review.released", entity_id=task.candidate_entity_id,
                 source_record_id=task.source_record_id, actor=user,
                 payload={"task_id": task.pk, "assignee_id": previous})
    return task


def _lock_task_scope(task_id: int) -> tuple[ReviewTask, SourceRecord, dict[str, Entity], str]:
    """Lock the entities a resolution touches, then the task, then its record.

    Entities come first (as in every steward action) so a merge of the same entities waits for
    us or we for it, never both. Returns the task, record, locked entities and the candidate's
    golden ID after following merges.
    """
    for _ in range(_LOCK_ATTEMPTS):
        peek = ReviewTask.objects.filter(pk=task_id).values(
            "source_record__entity_id", "candidate_entity_id",
            "candidate_entity__merged_into_id").first()
        if peek is None:
            raise NotFound(f"no review task {task_id}")
        candidate_id = peek["candidate_entity__merged_into_id"] or peek["candidate_entity_id"]
        wanted = {candidate_id, peek["source_record__entity_id"]} - {None}
        entities = entities_lock_all(wanted)
        task = _task_lock(task_id)
        _require_open(task)
        record = SourceRecord.objects.select_for_update().get(pk=task.source_record_id)
        if record.state != SourceRecord.State.ACTIVE:
            raise Conflict(f"record {record.pk} is no longer active")
        candidate = entities[candidate_id]
        if candidate.state == Entity.State.MERGED:
            continue  # merged after our first look: lock its survivor instead
        if record.entity_id in entities:
            return task, record, entities, candidate_id
    raise Conflict(f"task {task_id}: its entities keep changing; try again")


def _candidate_members(golden_id: str) -> list[int]:
    return list(SourceRecord.objects.filter(entity_id=golden_id, state=SourceRecord.State.ACTIVE)
                .order_by("id").values_list("id", flat=True))


def _resolve_same(task: ReviewTask, record: SourceRecord, entities: dict[str, Entity],
                  target: Entity, user) -> dict:
    members = _candidate_members(target.golden_id)
    blocking = [d for d in active_decisions([record.pk], members)
                if d.verdict == Decision.Verdict.DIFFERENT]
    if blocking:
        raise Conflict(f"record {record.pk} cannot join {target.golden_id}: "
                       f"{decision_describe(blocking[0])} says they differ")
    old = entities[record.entity_id]
    mates = [r for r in _candidate_members(old.golden_id) if r != record.pk]
    bound = [d for d in active_decisions([record.pk], mates)
             if d.verdict == Decision.Verdict.SAME] if old.pk != target.pk else []
    if bound:
        raise Conflict(f"record {record.pk} is bound to {old.golden_id} by "
                       f"{decision_describe(bound[0])}; merge the entities instead")
    other = task.candidate_record_id if task.candidate_record_id in members else None
    other = other or next((m for m in members if m != record.pk), None)
    created = []
    existing = active_decisions([record.pk], [other]) if other else []
    if other and not existing:
        created.append(decision_create(record.pk, other, Decision.Verdict.SAME, user).pk)
    payload: dict = {"moves": [], "decisions_created": created, "retired": [], "repointed": []}
    if old.pk == target.pk:
        return payload  # matching put it there meanwhile: the decision is all that is left
    payload["moves"].append(record_move(record, target, user))
    if SourceRecord.objects.filter(entity=old, state=SourceRecord.State.ACTIVE).exists():
        entity_bump(old)
    else:
        # Its old golden ID now names the same customer as the target: it resolves there.
        payload["repointed"] = list(Entity.objects.filter(merged_into=old)
                                    .values_list("golden_id", flat=True))
        Entity.objects.filter(merged_into=old).update(merged_into=target)
        old.state, old.merged_into = Entity.State.MERGED, target
        entity_bump(old)
        payload["retired"].append(old.golden_id)
    entity_bump(target)
    return payload


def _resolve_different(record: SourceRecord, target: Entity, user) -> dict:
    if record.entity_id == target.golden_id:
        raise Conflict(f"record {record.pk} has meanwhile joined {target.golden_id}; "
                       "split it out of the entity instead")
    members = _candidate_members(target.golden_id)
    existing = active_decisions([record.pk], members)
    same = [d for d in existing if d.verdict == Decision.Verdict.SAME]
    if same:
        raise Conflict(f"record {record.pk}: {decision_describe(same[0])} says they are the "
                       "same; undo it first")
    decided = {pair(d.record_a_id, d.record_b_id) for d in existing}
    created = [decision_create(record.pk, m, Decision.Verdict.DIFFERENT, user).pk
               for m in members if pair(record.pk, m) not in decided]
    return {"moves": [], "decisions_created": created, "retired": [], "repointed": []}


@atomic_with_retry
def review_task_resolve(*, task_id: int, verdict: str, user) -> ReviewTask:
    """Answer a review task.

    "same": the task's record joins the candidate entity with a manual link and a "same"
    decision with the candidate record; an entity it leaves empty resolves to the candidate
    from then on. "different": a "different" decision between the record and every record of
    the candidate entity; the record stays where it is. Open tasks the answer makes moot are
    cancelled. Conflict if the task is no longer open (naming who resolved it and when), is
    claimed by another steward, or a decision contradicts the answer.
    """
    permission_require(user, "resolve_reviewtask")
    if verdict not in Decision.Verdict.values:
        raise InvalidInput({"verdict": [f"expected one of {', '.join(Decision.Verdict.values)}"]})
    task, record, entities, candidate_id = _lock_task_scope(task_id)
    _require_not_claimed_by_other(task, user)
    target = entities[candidate_id]
    if not target.is_active:
        raise Conflict(f"candidate entity {target.golden_id} is {target.state}")
    if verdict == Decision.Verdict.SAME:
        payload = _resolve_same(task, record, entities, target, user)
    else:
        payload = _resolve_different(record, target, user)
    task.state, task.verdict = ReviewTask.State.RESOLVED, verdict
    task.resolved_by, task.resolved_at = user, timezone.now()
    task.save(update_fields=["state", "verdict", "resolved_by", "resolved_at"])
    cancelled = moot_tasks_cancel(entities)
    if verdict == Decision.Verdict.SAME:
        # The record's place is decided: its other candidates are now questions about merging
        # entities, which a steward asks with a merge, not by moving this record again.
        others = ReviewTask.objects.filter(source_record=record, state=ReviewTask.State.OPEN)
        cancelled += list(others.values_list("id", flat=True))
        others.update(state=ReviewTask.State.CANCELLED, resolved_at=timezone.now())
    payload["cancelled_task_ids"] = sorted(cancelled)
    event_record(kind="review.resolved", entity_id=target.golden_id,
                 source_record_id=record.pk, actor=user,
                 payload={"task_id": task.pk, "verdict": verdict,
                          "candidate_golden_id": target.golden_id, **payload})
    return task


__all__ = ["review_task_claim", "review_task_release", "review_task_resolve"]
