"""Entity lifecycle inside other services' transactions: create, lock, attach, retire."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hub.models import Entity, Link, SourceRecord


def entity_create() -> Entity:
    """Issue a new golden ID. A (vanishingly rare) collision draws a new ID, never reuses one."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return Entity.objects.create()
        except IntegrityError:
            continue
    raise RuntimeError("could not issue a unique golden ID")


def entities_lock(golden_ids) -> dict[str, Entity]:
    """Lock the named entities, in ID order so two services never wait on each other in a cycle."""
    ids = sorted({gid for gid in golden_ids if gid})
    locked = Entity.objects.select_for_update().filter(golden_id__in=ids).order_by("golden_id")
    return {entity.golden_id: entity for entity in locked}


def entity_touch(entity: Entity) -> None:
    """Bump the entity's version after a change of its membership."""
    Entity.objects.filter(pk=entity.pk).update(version=F("version") + 1,
                                               updated_at=timezone.now())


def link_end(record: SourceRecord) -> None:
    """End the record's current link (membership history keeps the row)."""
    Link.objects.filter(source_record=record, ended_at=None).update(ended_at=timezone.now())


def link_start(*, record: SourceRecord, entity: Entity, origin: str, outcome: str,
               score: float | None, explanation: dict, model_version: str, actor=None) -> Link:
    """Make ``entity`` the record's entity with a new current link.

    The new link is also left on the record as ``current_link``, so the caller can report it
    without reading it back. A record inserted in this transaction (``record.is_new``) has no
    link to end.
    """
    if not getattr(record, "is_new", False):
        link_end(record)
    record.entity = entity
    record.state = SourceRecord.State.ACTIVE
    record.current_link = Link.objects.create(
        source_record=record, entity=entity, origin=origin, outcome=outcome, score=score,
        explanation=explanation, model_version=model_version,
        created_by=actor if getattr(actor, "is_authenticated", False) else None)
    return record.current_link


def entity_has_other_records(entity: Entity, record: SourceRecord) -> bool:
    return (SourceRecord.objects.filter(entity=entity, state=SourceRecord.State.ACTIVE)
            .exclude(pk=record.pk).exists())


def entity_retire(entity: Entity, *, merged_into: Entity | None = None) -> None:
    """Retire an entity whose last record has left.

    When the record went to another entity the old ID resolves there (state merged); when it was
    deleted, the ID resolves to this retired row. Entities merged into this one earlier are
    re-pointed so every merged ID resolves in one step.
    """
    if merged_into is not None:
        entity.state = Entity.State.MERGED
        entity.merged_into = merged_into
        Entity.objects.filter(merged_into=entity).update(merged_into=merged_into)
    else:
        entity.state = Entity.State.RETIRED
    entity.version += 1
    entity.save(update_fields=["state", "merged_into", "version", "updated_at"])
