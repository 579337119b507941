"""Answering a "suppressed" review task: a record that matched the suppression list.

The steward's workbench cannot link a record into an erased tombstone, so these tasks have
their own two answers:

* **discard**: it is the erased person again. The record's values are wiped as in the erasure,
  its key included, also from the source's sync cursor (the source still holds it: ask the
  source's owner to erase it there too);
* **release**: it is somebody else who happens to share an identifier. The record is matched
  now as any new record would have been.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from hub.models import ReviewTask, SourceRecord
from hub.services.errors import Conflict, NotFound
from hub.services.events import event_record
from hub.services.sync_cursors import sync_cursors_forget


def _lock_open_task(task_id: int) -> tuple[ReviewTask, SourceRecord]:
    task = ReviewTask.objects.select_for_update().filter(pk=task_id).first()
    if task is None or task.reason != ReviewTask.Reason.SUPPRESSED:
        raise NotFound("no such suppression review task")
    if task.state != ReviewTask.State.OPEN:
        raise Conflict(f"review task {task.pk} is {task.state}")
    record = SourceRecord.objects.select_for_update().select_related("source").get(
        pk=task.source_record_id)
    if record.state == SourceRecord.State.ACTIVE:
        raise Conflict(f"record {record.pk} has meanwhile been linked")
    return task, record


def _close(task: ReviewTask, verdict: str, actor) -> None:
    task.state, task.verdict = ReviewTask.State.RESOLVED, verdict
    task.resolved_at = timezone.now()
    task.resolved_by = actor if getattr(actor, "is_authenticated", False) else None
    task.save(update_fields=["state", "verdict", "resolved_at", "resolved_by"])


@transaction.atomic
def suppressed_record_discard(*, task_id: int, actor=None) -> ReviewTask:
    """The record is the erased person: forget its values, keep only the tombstone's ID."""
    task, record = _lock_open_task(task_id)
    cursors = sync_cursors_forget(keys_by_source={record.source_id: [record.source_key]})
    SourceRecord.objects.filter(pk=record.pk).update(
        state=SourceRecord.State.ERASED, entity=None, attributes={}, standardised={},
        invalid_attributes={}, content_hash="", source_key=f"erased:{record.pk}",
        updated_at=timezone.now())
    _close(task, "same", actor)
    event_record(kind="record.suppression_discarded", entity_id=task.candidate_entity_id,
                 source_record_id=record.pk, actor=actor,
                 payload={"task_id": task.pk, "source_id": record.source_id,
                          "sync_cursors_rewritten": cursors})
    return task


@transaction.atomic
def suppressed_record_release(*, task_id: int, actor=None) -> ReviewTask:
    """The record is somebody else: match it now, as ingest would have without the hit."""
    from hub.services.ingest import _rematch  # noqa: PLC0415 - ingest imports this package

    task, record = _lock_open_task(task_id)
    _close(task, "different", actor)
    payload = _rematch(record, False, actor)
    record.save()
    event_record(kind="record.suppression_released", entity_id=record.entity_id,
                 source_record_id=record.pk, actor=actor,
                 payload={"task_id": task.pk, "source_id": record.source_id, **payload})
    return task
