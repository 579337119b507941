"""The ``__any`` lookup selects what ``__in`` selects, on keys, strings and foreign keys."""

from hub.models import Entity, SourceRecord
from hub.services.ingest import record_upsert


def _three_records():
    for key, name in (("C1", "Ada"), ("C2", "Grace"), ("C3", "Edsger")):
        record_upsert(source_code="crm", source_key=key, attributes={"given_name": name})
    return list(SourceRecord.objects.order_by("id"))


def test_any_selects_the_rows_in_selects(sources):
    records = _three_records()
    ids = [records[0].pk, records[2].pk]
    golden = [records[1].entity_id]

    assert sorted(SourceRecord.objects.filter(id__any=ids).values_list("id", flat=True)) == ids
    assert list(Entity.objects.filter(golden_id__any=golden).values_list(
        "golden_id", flat=True)) == golden
    by_entity = SourceRecord.objects.filter(entity_id__any=golden)
    assert list(by_entity.values_list("id", flat=True)) == [records[1].pk]
    assert sorted(SourceRecord.objects.exclude(id__any=ids).values_list("id", flat=True)) == [
        records[1].pk]


def test_any_of_nothing_selects_nothing_and_updates_nothing(sources):
    _three_records()
    assert not SourceRecord.objects.filter(id__any=[]).exists()
    assert SourceRecord.objects.filter(id__any=[]).update(source_key="X") == 0
    assert SourceRecord.objects.exclude(id__any=[]).count() == 3
