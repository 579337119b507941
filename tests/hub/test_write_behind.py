"""Writes queued inside ``writes_sent_together`` reach the database at the block's end, in order,
inside the caller's transaction; a failing one raises Django's error and nothing of the
transaction stays."""

import pytest
from django.db import IntegrityError, connection, transaction

from hub.models import Event, SourceRecord
from hub.services.bulk import insert_row
from hub.services.ingest import record_upsert
from hub.services.write_behind import write, writes_queued, writes_sent_together

EVENTS = Event._meta.db_table


def _event(kind: str) -> Event:
    return Event(kind=kind, payload={"n": 1})


def test_queued_writes_arrive_when_the_block_ends_in_their_order(db):
    with writes_sent_together():
        insert_row(_event("test.first"))
        with writes_sent_together():  # a nested block joins the outer one
            insert_row(_event("test.second"))
        write(f"UPDATE {EVENTS} SET kind = %s WHERE kind = %s", ["test.renamed", "test.first"])
        assert writes_queued()
        assert not Event.objects.filter(kind__startswith="test.").exists()

    assert not writes_queued()
    assert sorted(Event.objects.filter(kind__startswith="test.").values_list(
        "kind", flat=True)) == ["test.renamed", "test.second"]


def test_outside_a_block_a_row_is_written_at_once_with_its_id(db):
    event = _event("test.now")
    insert_row(event)
    assert event.pk is not None
    assert Event.objects.get(pk=event.pk).kind == "test.now"


def test_a_failing_queued_write_raises_djangos_error_and_the_transaction_keeps_nothing(sources):
    record_upsert(source_code="crm", source_key="C1",
                  attributes={"given_name": "Ada", "family_name": "Lovelace"})
    record_id = SourceRecord.objects.get().pk
    events_before = Event.objects.count()

    with pytest.raises(IntegrityError):
        with transaction.atomic():
            with writes_sent_together():
                insert_row(_event("test.kept"))
                # A second record under the same (source, key): the unique constraint refuses.
                write(f"INSERT INTO {SourceRecord._meta.db_table} (source_id, source_key, state, "
                      "attributes, standardised, invalid_attributes, content_hash, created_at, "
                      "updated_at) SELECT source_id, source_key, state, attributes, standardised, "
                      "invalid_attributes, content_hash, created_at, updated_at "
                      f"FROM {SourceRecord._meta.db_table} WHERE id = %s", [record_id])

    assert not writes_queued()
    assert Event.objects.count() == events_before
    assert SourceRecord.objects.count() == 1
    assert connection.is_usable()


def test_an_exception_inside_the_block_drops_the_queue(db):
    with pytest.raises(RuntimeError):
        with writes_sent_together():
            insert_row(_event("test.dropped"))
            raise RuntimeError("the caller's transaction is rolling back")
    assert not writes_queued()
    assert not Event.objects.filter(kind="test.dropped").exists()
