"""Concurrent ingest on a real database server keeps one record and one entity per key."""

import threading

import pytest
from django.db import connection, connections

from hub.models import Entity, Event, Link, SourceRecord
from hub.services.ingest import record_upsert

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks of a database server (CI runs the suite on PostgreSQL)")


def _run_in_threads(count, target):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(target())
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_puts_store_one_record_and_one_entity(sources, person):
    results, errors = _run_in_threads(20, lambda: record_upsert(
        source_code="crm", source_key="CRM-1", attributes=person, version=1))
    assert errors == []
    assert len(results) == 20
    assert sorted(r.change for r in results) == ["created"] + ["unchanged"] * 19
    assert len({r.golden_id for r in results}) == 1
    assert SourceRecord.objects.count() == 1
    assert Entity.objects.count() == 1
    assert Link.objects.filter(ended_at=None).count() == 1
    assert Event.objects.filter(kind__startswith="record.").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_records_of_one_person_end_in_one_entity_at_most_per_record(sources, person):
    keys = iter(range(100))
    lock = threading.Lock()

    def upsert():
        with lock:
            key = next(keys)
        return record_upsert(source_code="billing", source_key=f"B-{key}", attributes=person)

    results, errors = _run_in_threads(10, upsert)
    assert errors == []
    assert SourceRecord.objects.count() == 10
    # Invariant 1: every active record has exactly one current link to an active entity.
    for record in SourceRecord.objects.select_related("entity"):
        assert record.entity.state == "active"
        assert Link.objects.filter(source_record=record, ended_at=None).get().entity_id == (
            record.entity_id)
