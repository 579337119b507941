"""Reading entities and cross-references."""

from __future__ import annotations

from django.db.models import QuerySet

from hub.models import Entity, Link, ReviewTask, SourceRecord


def entity_get(golden_id: str) -> Entity | None:
    """The entity row for a golden ID, whatever its state (merged rows point at the survivor)."""
    return Entity.objects.filter(golden_id=golden_id).select_related("merged_into").first()


def entity_current_links(golden_id: str) -> QuerySet[Link]:
    """The current links of an entity's active records, with source and record loaded."""
    return (Link.objects
            .filter(entity_id=golden_id, ended_at=None,
                    source_record__state=SourceRecord.State.ACTIVE)
            .select_related("source_record__source")
            .order_by("source_record__source__trust_rank", "source_record__source__code",
                      "source_record__source_key"))


def entity_open_task_count(golden_id: str) -> int:
    """Open review tasks about this entity (as the record's entity or as the candidate)."""
    tasks = ReviewTask.objects.filter(state=ReviewTask.State.OPEN)
    return (tasks.filter(candidate_entity_id=golden_id).count()
            + tasks.filter(source_record__entity_id=golden_id).count())


def record_by_xref(source_code: str, source_key: str) -> SourceRecord | None:
    """The source record for a cross-reference, if the hub has ever seen it."""
    return (SourceRecord.objects.select_related("source")
            .filter(source__code=source_code, source_key=source_key).first())
