"""Writing a batch match plan: one transaction, bulk statements, one event per change."""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from hub.models import Decision, Entity, Event, Link, ReviewTask, SourceRecord, new_golden_id
from hub.services.batch_match import BatchRun, chunks
from hub.services.batch_plan import NewEntity
from hub.services.bulk import bulk_insert
from hub.services.errors import Conflict
from hub.services.events import event_record
from linkage.explain import explain_rows


def _update_from_values(table: str, assignments: str, columns: tuple[str, str],
                        rows: list[tuple], params: tuple = ()) -> None:
    """UPDATE ... FROM a list of (key, value) rows: one statement per chunk of rows instead of
    one per row.

    ``columns`` names the key and the value column of the list; ``assignments`` is the SET
    clause reading ``v.<value column>``, with ``params`` for its own placeholders. The key is
    matched against the table's primary key. On PostgreSQL the rows go as two arrays
    (``unnest``), so the statement has two parameters whatever its size; elsewhere as VALUES.
    """
    key, value = columns
    primary_key = "golden_id" if table == Entity._meta.db_table else "id"
    postgresql = connection.vendor == "postgresql"
    for chunk in chunks(rows, 20_000 if postgresql else 2000):
        if postgresql:
            keys, values = (list(column) for column in zip(*chunk, strict=True))
            source = (f"unnest(%s::{_array_type(keys)}, %s::{_array_type(values)}) "
                      f"AS v({key}, {value})")
            row_params = [keys, values]
        else:
            placeholders = ", ".join(["(%s, %s)"] * len(chunk))
            source = (f"(SELECT column1 AS {key}, column2 AS {value} "
                      f"FROM (VALUES {placeholders}) AS t) AS v")
            row_params = [item for pair in chunk for item in pair]
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {assignments} FROM {source} "
                           f"WHERE {table}.{primary_key} = v.{key}", [*params, *row_params])


def _array_type(values: list) -> str:
    # Record ids are integers, golden IDs strings: the array's type follows its values.
    return "bigint[]" if isinstance(values[0], int) else "text[]"


def _set_entities(assignments: list[tuple[int, str]]) -> None:
    """Point each record at its new entity, in bulk."""
    _update_from_values(SourceRecord._meta.db_table, "entity_id = v.entity_id, updated_at = %s",
                        ("record_id", "entity_id"), assignments, (timezone.now(),))


def _check_unchanged(run: BatchRun, moved: list[int]) -> None:
    """Refuse to apply a plan computed from memberships that changed since."""
    for chunk in chunks(moved):
        for record_id, entity_id in SourceRecord.objects.select_for_update().filter(
                id__any=chunk).values_list("id", "entity_id"):
            if run.current[record_id] != entity_id:
                raise Conflict("records changed entity while the run was planned; run it again")


def _best_rows(run: BatchRun, golden_of: dict[int, str]) -> dict[int, int]:
    """For each record, the strongest scored pair linking it inside its new entity."""
    pairs = run.result.pairs
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    same = np.fromiter((golden_of.get(a) == golden_of.get(b) for a, b in
                        zip(left.tolist(), right.tolist(), strict=True)), bool, len(left))
    rows = np.flatnonzero(same)
    frame = pd.DataFrame({"record": np.concatenate([left[rows], right[rows]]),
                          "row": np.concatenate([rows, rows]),
                          "weight": np.tile(pairs["weight"].to_numpy()[rows], 2)})
    best = frame.sort_values("weight", ascending=False).drop_duplicates("record")
    return dict(zip(best["record"].tolist(), best["row"].tolist(), strict=True))


def _relink(run: BatchRun, golden_of: dict[int, str], actor) -> list[Link]:
    moved = [record_id for record_id, _old, _target in run.plan.moves]
    best = _best_rows(run, golden_of)
    rows = [best.get(record_id) for record_id in moved]
    explained = explain_rows(run.result, np.array([r for r in rows if r is not None]))
    explanation_of = dict(zip([m for m, r in zip(moved, rows, strict=True) if r is not None],
                              explained, strict=True))
    now = timezone.now()
    # A record a steward placed keeps a manual link when its whole group moves to another
    # golden ID (must-links keep the group together), so real-time matching still leaves it be.
    manual: set[int] = set()
    for chunk in chunks(moved):
        manual.update(Link.objects.filter(source_record_id__any=chunk, ended_at=None,
                                          origin=Link.Origin.MANUAL)
                      .values_list("source_record_id", flat=True))
        Link.objects.filter(source_record_id__any=chunk, ended_at=None).update(ended_at=now)
    links = [Link(source_record_id=record_id, entity_id=golden_of[record_id],
                  origin=Link.Origin.MANUAL if record_id in manual else Link.Origin.AUTO,
                  outcome=Link.Outcome.LINKED if record_id in explanation_of
                  else Link.Outcome.NEW_ENTITY,
                  score=explanation_of.get(record_id, {}).get("weight"),
                  explanation=explanation_of.get(record_id, {}),
                  model_version=run.config.version,
                  created_by=actor if getattr(actor, "is_authenticated", False) else None)
             for record_id in moved]
    bulk_insert(Link, links)
    return links


def _retire(run: BatchRun, golden_of_target) -> None:
    """Mark the entities the run empties as merged into their survivors, in bulk, and re-point
    entities merged into them earlier, so every old golden ID resolves in one step."""
    survivor_of = {old: golden_of_target(target) for old, target in run.plan.retired.items()}
    table = Entity._meta.db_table
    _update_from_values(table, "state = %s, merged_into_id = v.survivor, version = version + 1, "
                        "updated_at = %s", ("old", "survivor"), list(survivor_of.items()),
                        (Entity.State.MERGED, timezone.now()))
    earlier = []
    for chunk in chunks(list(survivor_of)):
        earlier += Entity.objects.filter(merged_into_id__any=chunk).exclude(
            golden_id__any=chunk).values_list("golden_id", "merged_into_id")
    _update_from_values(table, "merged_into_id = v.survivor", ("old", "survivor"),
                        [(gid, survivor_of[into]) for gid, into in earlier])


def _open_review_tasks(run: BatchRun, golden_of: dict[int, str]) -> int:
    decided = set(Decision.objects.filter(is_active=True).values_list("record_a_id",
                                                                      "record_b_id"))
    candidates = [c for c in run.review if (c.other_record_id, c.record_id) not in decided]
    explained = explain_rows(run.result, np.array([c.row for c in candidates
                                                   if c.row is not None]))
    explanations = iter(explained)
    tasks = {}
    for c in candidates:
        key = (c.record_id, golden_of[c.other_record_id])
        explanation = next(explanations) if c.row is not None else {}
        if key not in tasks or tasks[key].score < c.weight:
            tasks[key] = ReviewTask(
                source_record_id=c.record_id, candidate_entity_id=key[1],
                candidate_record_id=c.other_record_id, score=c.weight,
                reason=c.reason if c.reason in ReviewTask.Reason.values else "uncertain",
                explanation=explanation, model_version=run.config.version)
    open_pairs = set(ReviewTask.objects.filter(state=ReviewTask.State.OPEN).values_list(
        "source_record_id", "candidate_entity_id"))
    bulk_insert(ReviewTask, [t for k, t in tasks.items() if k not in open_pairs])
    return len(tasks)


@transaction.atomic
def batch_match_apply(run: BatchRun, *, actor=None) -> dict:
    """Apply a planned batch match; returns the counts written (also in the summary event)."""
    plan = run.plan
    _check_unchanged(run, [record_id for record_id, _old, _new in plan.moves])
    created = {target: Entity(golden_id=new_golden_id()) for target in plan.new_entities}
    Entity.objects.bulk_create(created.values(), batch_size=2000)

    def golden_of_target(target) -> str:
        return created[target].golden_id if isinstance(target, NewEntity) else target

    golden_of = {record_id: golden_of_target(target) for record_id, target in
                 plan.targets.items()}
    _set_entities([(record_id, golden_of[record_id]) for record_id, _o, _t in plan.moves])
    links = _relink(run, golden_of, actor)
    _retire(run, golden_of_target)
    touched = {golden_of[r] for r, _o, _t in plan.moves} | plan.split
    for chunk in chunks(sorted(touched)):
        Entity.objects.filter(golden_id__any=chunk).update(version=F("version") + 1)
    moved = [record_id for record_id, _o, _t in plan.moves]
    for chunk in chunks(moved):
        ReviewTask.objects.filter(source_record_id__any=chunk, state=ReviewTask.State.OPEN)\
            .update(state=ReviewTask.State.CANCELLED, resolved_at=timezone.now())
    for chunk in chunks(list(plan.retired)):
        ReviewTask.objects.filter(candidate_entity_id__any=chunk,
                                  state=ReviewTask.State.OPEN).update(
            state=ReviewTask.State.CANCELLED, resolved_at=timezone.now())
    tasks = _open_review_tasks(run, golden_of)
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    bulk_insert(Event,
        [Event(kind="record.relinked", entity_id=link.entity_id,
               source_record_id=link.source_record_id, actor_id=actor_id,
               payload={"from": old, "score": link.score, "model": run.config.version})
         for link, (_r, old, _t) in zip(links, plan.moves, strict=True)]
        + [Event(kind="entity.merged", entity_id=old, actor_id=actor_id,
                 payload={"into": golden_of_target(target)})
           for old, target in plan.retired.items()])
    summary = {**plan.summary(), "review_tasks": tasks, "model": run.config.version}
    event_record(kind="match.completed", actor=actor, payload=summary)
    return summary
