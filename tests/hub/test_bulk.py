"""Bulk inserts of batch runs (COPY on PostgreSQL) store what bulk_create would store."""

from django.utils import timezone

from hub.models import Entity, Event, Link, SourceRecord
from hub.services.bulk import bulk_insert
from hub.services.ingest import record_upsert


def test_bulk_insert_stores_json_defaults_and_foreign_keys_as_saved(sources):
    record = record_upsert(source_code="crm", source_key="C1",
                           attributes={"given_name": "Ada", "family_name": "Lovelace"})
    before = timezone.now()
    payload = {"from": "G1", "score": 12.5, "nested": {"text": 'quote " and \\ backslash'},
               "list": [1, None, "é"]}

    bulk_insert(Event, [Event(kind="record.relinked", entity_id=record.golden_id,
                              source_record_id=SourceRecord.objects.get().pk,
                              payload=payload)])
    Link.objects.update(ended_at=timezone.now())  # one current link per record
    bulk_insert(Link, [Link(source_record=SourceRecord.objects.get(),
                            entity=Entity.objects.get(), origin="auto", outcome="linked",
                            score=None, explanation={}, model_version="v")])

    event = Event.objects.get(kind="record.relinked")
    assert event.payload == payload
    assert event.created_at >= before
    assert event.entity_id == record.golden_id
    link = Link.objects.get(ended_at=None)
    assert (link.origin, link.outcome, link.score, link.explanation) == ("auto", "linked", None, {})
    assert link.created_at >= before and link.model_version == "v"


def test_bulk_insert_of_nothing_writes_nothing(db):
    bulk_insert(Event, [])
    assert not Event.objects.exists()
