"""Events are append-only and carry no personal data."""

import json

import pytest

from hub.models import AppendOnlyError, Event
from hub.services.ingest import record_delete, record_upsert


def test_events_cannot_be_changed_or_deleted(db):
    event = Event.objects.create(kind="test")
    event.kind = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_ingest_events_hold_ids_not_attributes_or_source_keys(sources, person):
    record_upsert(source_code="crm", source_key="CRM-secret-key", attributes=person)
    record_upsert(source_code="billing", source_key="B-secret-key", attributes=person)
    record_delete(source_code="crm", source_key="CRM-secret-key")
    dumped = json.dumps(list(Event.objects.values("kind", "entity_id", "payload")))
    values = [v for k, v in person.items() if k != "country"]  # "gb" may occur in an ID
    for value in [*values, "secret-key", "margaret", "+442079460321"]:
        assert value.lower() not in dumped.lower()
    kinds = list(Event.objects.filter(kind__startswith="record.").values_list("kind", flat=True))
    assert kinds == ["record.created", "record.created", "record.deleted"]
