"""Entity lifecycle inside other services' transactions: create, lock, attach, retire."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from hub.models import Entity, Link, SourceRecord
from hub.services.bulk import insert_returning_id, insert_row
from hub.services.sql import any_of


def entity_create() -> Entity:
    """Issue a new golden ID. A (vanishingly rare) collision draws a new ID, never reuses one."""
    for _ in range(5):
        entity = Entity()
        # ON CONFLICT rather than a savepoint around the insert: one statement, not three.
        if insert_returning_id(entity, conflict=("golden_id",)) is not None:
            return entity
    raise RuntimeError("could not issue a unique golden ID")


def entities_lock(golden_ids) -> dict[str, Entity]:
    """Lock the named entities, in ID order so two services never wait on each other in a cycle."""
    ids = sorted({gid for gid in golden_ids if gid})
    if not ids:
        return {}
    # A plain statement: every real-time link locks its entity, and the ORM's compilation of a
    # locking query costs more than the lookup.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    condition, params = any_of("golden_id", ids)
    locked = Entity.objects.raw(
        f"SELECT * FROM {Entity._meta.db_table} WHERE {condition} ORDER BY golden_id{lock}",
        params)
    return {entity.golden_id: entity for entity in locked}


def entity_touch(entity: Entity) -> None:
    """Bump the entity's version after a change of its membership."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Entity._meta.db_table} SET version = version + 1, "
                       "updated_at = %s WHERE golden_id = %s",
                       [connection.ops.adapt_datetimefield_value(timezone.now()), entity.pk])


def active_entity_touch(golden_id: str) -> Entity | None:
    """Lock an active entity and bump its version in one statement; None unless it is active.

    The real-time path's join of a new record to one entity: the row lock and the version bump
    it needs anyway, without the round trip of a separate lock. Only the ID and the state of
    the returned entity are read; other fields load when first used.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Entity._meta.db_table} SET version = version + 1, "
                       "updated_at = %s WHERE golden_id = %s AND state = %s RETURNING golden_id",
                       [connection.ops.adapt_datetimefield_value(timezone.now()), golden_id,
                        Entity.State.ACTIVE.value])
        if cursor.fetchone() is None:
            return None
    return Entity.from_db(connection.alias, ["golden_id", "state"],
                          [golden_id, Entity.State.ACTIVE.value])


def link_end(record: SourceRecord) -> None:
    """End the record's current link (membership history keeps the row)."""
    Link.objects.filter(source_record=record, ended_at=None).update(ended_at=timezone.now())


def link_start(*, record: SourceRecord, entity: Entity, origin: str, outcome: str,
               score: float | None, explanation: dict, model_version: str, actor=None) -> Link:
    """Make ``entity`` the record's entity with a new current link.

    The new link is also left on the record as ``current_link``, so the caller can report it
    without reading it back (without an id while writes are queued: see
    ``hub.services.bulk.insert_row``). A record inserted in this transaction
    (``record.is_new``) has no link to end.
    """
    if not getattr(record, "is_new", False):
        link_end(record)
    record.entity = entity
    record.state = SourceRecord.State.ACTIVE
    record.current_link = Link(
        source_record=record, entity=entity, origin=origin, outcome=outcome, score=score,
        explanation=explanation, model_version=model_version,
        created_by=actor if getattr(actor, "is_authenticated", False) else None)
    # One plain INSERT that may go with the other last writes (hub.services.write_behind): the
    # new link is reported from this object, never read back in the same transaction.
    insert_row(record.current_link)
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
