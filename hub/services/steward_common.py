"""Building blocks shared by the steward services: permissions, locks, moves, conflict messages.

Everything here runs inside the calling service's transaction. Locks are always taken entities
first (in golden-ID order), then source records (in id order), so two steward actions never
wait on each other in a cycle.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone

from hub.models import Decision, Entity, Event, Link, ReviewTask, SourceRecord
from hub.services.entities import link_start
from hub.services.errors import NotFound


def permission_require(user, codename: str) -> None:
    """Raise ``PermissionDenied`` unless ``user`` holds ``hub.<codename>`` (superusers do)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.has_perm(
            f"hub.{codename}"):
        raise PermissionDenied(f"this action needs the permission hub.{codename}")


def when(moment: datetime | None) -> str:
    """A timestamp as an ISO 8601 UTC string for messages, e.g. 2026-11-25T10:02:11Z."""
    if moment is None:
        return "an unknown time"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def who(user) -> str:
    """The name a conflict message gives a user (the matcher and API clients have none)."""
    return user.get_username() if user is not None else "the hub"


def who_when(user, moment: datetime | None) -> str:
    return f"{who(user)} at {when(moment)}"


def last_change(golden_id: str) -> str:
    """Who last changed an entity and when, from its newest event (for conflict messages)."""
    event = (Event.objects.filter(Q(entity_id=golden_id) | Q(payload__into=golden_id))
             .select_related("actor").order_by("-id").first())
    if event is None:
        return "no recorded change"
    return f"{event.kind} by {who_when(event.actor, event.created_at)}"


def entities_lock_all(golden_ids) -> dict[str, Entity]:
    """Lock the named entities in golden-ID order; ``NotFound`` if one does not exist."""
    ids = sorted(set(golden_ids))
    locked = {e.golden_id: e for e in
              Entity.objects.select_for_update().filter(golden_id__in=ids).order_by("golden_id")}
    missing = [gid for gid in ids if gid not in locked]
    if missing:
        raise NotFound(f"no entity {missing[0]}")
    return locked


def members_lock(golden_ids) -> list[SourceRecord]:
    """Lock the active records of the given (already locked) entities, in id order."""
    return list(SourceRecord.objects.select_for_update()
                .filter(entity_id__in=sorted(set(golden_ids)), state=SourceRecord.State.ACTIVE)
                .order_by("id"))


def current_link(record: SourceRecord) -> Link | None:
    return Link.objects.filter(source_record=record, ended_at=None).first()


def record_move(record: SourceRecord, entity: Entity, user, *,
                copy_of: Link | None = None) -> dict:
    """Give ``record`` a new current link to ``entity``; returns the move for an event payload.

    A steward's move makes a manual link. ``copy_of`` (used by undo) restores an earlier link's
    origin, outcome, score and explanation instead, so an undone action leaves the record linked
    exactly as it was before.
    """
    previous = current_link(record)
    move = {"record_id": record.pk, "from": record.entity_id, "to": entity.golden_id,
            "previous_link_id": previous.pk if previous else None}
    if copy_of is not None:
        link = link_start(record=record, entity=entity, origin=copy_of.origin,
                          outcome=copy_of.outcome, score=copy_of.score,
                          explanation=copy_of.explanation, model_version=copy_of.model_version,
                          actor=user)
    else:
        link = link_start(record=record, entity=entity, origin=Link.Origin.MANUAL,
                          outcome=Link.Outcome.LINKED,
                          score=previous.score if previous else None,
                          explanation=previous.explanation if previous else {},
                          model_version=previous.model_version if previous else "",
                          actor=user)
    record.save(update_fields=["entity", "state", "updated_at"])
    move["link_id"] = link.pk
    return move


def entity_bump(*entities: Entity) -> None:
    """Count a change of membership or state in each entity's version (optimistic checks)."""
    for entity in entities:
        entity.version += 1
        entity.save(update_fields=["state", "merged_into", "split_from", "version",
                                   "updated_at"])


def pair(a: int, b: int) -> tuple[int, int]:
    """A decision's record pair in the stored (ascending) order."""
    return (a, b) if a < b else (b, a)


def active_decisions(record_ids, other_ids) -> list[Decision]:
    """Active decisions between any record of ``record_ids`` and any of ``other_ids``."""
    left, right = set(record_ids), set(other_ids)
    if not left or not right:
        return []
    both = left | right
    found = Decision.objects.filter(is_active=True, record_a_id__in=both, record_b_id__in=both)
    return [d for d in found.select_related("decided_by")
            if (d.record_a_id in left and d.record_b_id in right)
            or (d.record_b_id in left and d.record_a_id in right)]


def decision_describe(decision: Decision) -> str:
    return (f"decision {decision.pk} ({decision.verdict}) by "
            f"{who_when(decision.decided_by, decision.created_at)}")


def decision_create(record_a: int, record_b: int, verdict: str, user) -> Decision:
    a, b = pair(record_a, record_b)
    return Decision.objects.create(record_a_id=a, record_b_id=b, verdict=verdict, decided_by=user)


def _task_is_moot(task: ReviewTask, entity_of: dict[int, str | None],
                  state_of: dict[str, tuple[str, str | None]],
                  members_of: dict[str, set[int]], different: set[tuple[int, int]]) -> bool:
    candidate = task.candidate_entity_id
    state, merged_into = state_of.get(candidate, ("", None))
    if state == Entity.State.MERGED and merged_into:
        candidate = merged_into
        state = state_of.get(candidate, ("", None))[0]
    record_entity = entity_of.get(task.source_record_id)
    if record_entity is None or state != Entity.State.ACTIVE or record_entity == candidate:
        return True
    return any(pair(task.source_record_id, other) in different
               for other in members_of.get(candidate, ()))


def moot_tasks_cancel(golden_ids) -> list[int]:
    """Cancel open tasks about these entities whose question no longer stands.

    A task is moot when its record left the active records, its candidate entity is gone, both
    are now in one entity, or a "different" decision separates the record from the candidate.
    Returns the cancelled task ids (an undo reopens them).
    """
    ids = set(golden_ids)
    tasks = list(ReviewTask.objects.filter(state=ReviewTask.State.OPEN).filter(
        Q(candidate_entity_id__in=ids) | Q(source_record__entity_id__in=ids)))
    if not tasks:
        return []
    record_ids = {t.source_record_id for t in tasks}
    entity_of = dict(SourceRecord.objects.filter(id__in=record_ids,
                                                 state=SourceRecord.State.ACTIVE)
                     .values_list("id", "entity_id"))
    candidates = {t.candidate_entity_id for t in tasks}
    state_of = {gid: (state, into) for gid, state, into in Entity.objects.filter(
        golden_id__in=candidates).values_list("golden_id", "state", "merged_into_id")}
    survivors = {into for _, into in state_of.values() if into}
    state_of.update({gid: (state, into) for gid, state, into in Entity.objects.filter(
        golden_id__in=survivors).values_list("golden_id", "state", "merged_into_id")})
    members_of: dict[str, set[int]] = {}
    for record_id, entity_id in SourceRecord.objects.filter(
            entity_id__in=candidates | survivors, state=SourceRecord.State.ACTIVE).values_list(
            "id", "entity_id"):
        members_of.setdefault(entity_id, set()).add(record_id)
    all_members = set().union(*members_of.values()) if members_of else set()
    different = {pair(d.record_a_id, d.record_b_id)
                 for d in active_decisions(record_ids, all_members)
                 if d.verdict == Decision.Verdict.DIFFERENT}
    moot = [t.pk for t in tasks if _task_is_moot(t, entity_of, state_of, members_of, different)]
    ReviewTask.objects.filter(pk__in=moot).update(state=ReviewTask.State.CANCELLED,
                                                  resolved_at=timezone.now())
    return sorted(moot)
