"""Writing events: the one place that appends to the change log."""

from hub.models import Event


def event_record(*, kind: str, entity_id: str = "", source_record_id: int | None = None,
                 actor=None, payload: dict | None = None) -> Event:
    """Append one event. Call inside the transaction of the change it records.

    ``payload`` must hold IDs, outcomes and numbers only: never key attribute values or source
    keys (DESIGN.md invariant 5).
    """
    return Event.objects.create(
        kind=kind,
        entity_id=entity_id or "",
        source_record_id=source_record_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        payload=payload or {},
    )
