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


def test_row_values_are_what_djangos_own_preparation_gives(sources):
    # The plain-attribute shortcut must not change a value: compare every field of a link and
    # an event (choices members, foreign keys, JSON, auto_now_add) with the full preparation.
    from hub.services import bulk

    record = record_upsert(source_code="crm", source_key="C1", attributes={"given_name": "Ada"})
    objects = [
        Link(source_record_id=SourceRecord.objects.get().pk, entity_id=record.golden_id,
             origin=Link.Origin.MANUAL, outcome="linked", score=3, explanation={"w": 1.5},
             model_version="v"),
        Event(kind="record.relinked", entity_id=record.golden_id, payload={"from": "G1"}),
    ]
    for obj in objects:
        fields = bulk.insert_fields(type(obj))
        fast = bulk.row_values(fields, obj)
        full = [bulk._database_value(field, obj) for field in fields]
        for field, got, expected in zip(fields, fast, full, strict=True):
            if field.name == "created_at":  # auto_now_add: the time of each reading
                assert got is not None and type(got) is type(expected)
            else:
                assert got == expected and type(got) is type(expected), field.name
