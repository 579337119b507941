"""Writes queued inside ``writes_sent_together`` reach the database at the block's end, in order,
inside the caller's transaction; a failing one raises Django's error and nothing of the
transaction stays. ``read`` sends the queued writes before its statements, so they see them."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from hub.models import Event, SourceRecord
from hub.services.bulk import insert_row
from hub.services.ingest import record_upsert
from hub.services.write_behind import read, write, writes_queued, writes_sent_together

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


def _count_of(kind: str) -> tuple[str, list]:
    return f"SELECT COUNT(*) FROM {EVENTS} WHERE kind = %s", [kind]


def test_read_sends_the_queued_writes_first_and_answers_each_statement(db):
    with transaction.atomic(), writes_sent_together():
        insert_row(_event("test.before-read"))
        write(f"UPDATE {EVENTS} SET payload = %s WHERE kind = %s",
              ['{"n": 2}', "test.before-read"])
        seen, nothing, numbers = read([
            _count_of("test.before-read"), _count_of("test.never"),
            ("SELECT n FROM (SELECT 1 AS n UNION ALL SELECT 2) AS t ORDER BY n", [])])
        insert_row(_event("test.after-read"))  # queued again, sent when the block ends
        assert not Event.objects.filter(kind="test.after-read").exists()

    assert (seen, nothing, numbers) == ([(1,)], [(0,)], [(1,), (2,)])
    # The writes sent by the read are not sent a second time at the block's end.
    assert Event.objects.filter(kind="test.before-read").count() == 1
    assert Event.objects.get(kind="test.before-read").payload == {"n": 2}
    assert Event.objects.filter(kind="test.after-read").count() == 1


def test_the_first_read_of_a_transaction_opens_it(db):
    # On PostgreSQL the BEGIN goes in the read's pipeline: what follows is still one
    # transaction, and a rollback takes back what was written after the read.
    with pytest.raises(RuntimeError), transaction.atomic():
        assert read([_count_of("test.rolled-back")]) == [[(0,)]]
        insert_row(_event("test.rolled-back"))
        raise RuntimeError("roll back")
    assert not Event.objects.filter(kind="test.rolled-back").exists()


def test_a_failing_read_raises_djangos_error_and_the_transaction_keeps_nothing(db):
    with pytest.raises(DatabaseError):
        with transaction.atomic(), writes_sent_together():
            insert_row(_event("test.lost"))
            read([_count_of("test.lost"), (f"SELECT no_such_column FROM {EVENTS}", [])])
    assert not writes_queued()
    assert not Event.objects.filter(kind="test.lost").exists()
    assert connection.is_usable()
