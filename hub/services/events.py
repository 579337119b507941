"""Writing events: the one place that appends to the change log."""

from hub.models import Event
from hub.services.bulk import insert_row


def event_record(*, kind: str, entity_id: str = "", source_record_id: int | None = None,
                 actor=None, payload: dict | None = None) -> Event:
    """Append one event. Call inside the transaction of the change it records.

    ``payload`` must hold IDs, outcomes and numbers only: never key attribute values or source
    keys (DESIGN.md invariant 5).
    """
    event = Event(
        kind=kind,
        entity_id=entity_id or "",
        source_record_id=source_record_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        payload=payload or {},
    )
    # One plain INSERT: every real-time upsert writes an event, and the ORM's create compiles
    # its statement anew each time. Nobody reads an event back in the transaction that wrote it,
    # so it may go with the other last writes (hub.services.write_behind).
    insert_row(event)
    return event
