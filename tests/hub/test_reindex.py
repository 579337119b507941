"""Reindexing: stored match values and blocking keys follow upgraded standardisers and other
blocking rules, only what is stale is rewritten, and a dry run writes nothing."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from hub.models import BlockingKey, Event, SourceRecord
from hub.services.ingest import record_upsert
from hub.services.matching import hashed_blocking_keys
from hub.services.reindex import index_staleness, reindex_records
from linkage.config import load_config
from linkage.standardise import standardise_record

ONE_FIELD = {"given_name": "Peter Harthofer", "email": "peter.h4@example-mail.de",
             "country": "DE"}


def stored_keys(record: SourceRecord) -> set:
    return set(BlockingKey.objects.filter(source_record=record).values_list("rule", "key_hash"))


def as_an_older_release_stored_it(record: SourceRecord) -> None:
    """What the hub held before whole names were split: the name in one field, and the keys
    of those values."""
    older = {**record.standardised, "given_name": "peter harthofer", "family_name": None}
    SourceRecord.objects.filter(pk=record.pk).update(standardised=older)
    BlockingKey.objects.filter(source_record=record).delete()
    BlockingKey.objects.bulk_create(
        BlockingKey(source_record=record, rule=rule, key_hash=key)
        for rule, key in set(hashed_blocking_keys(older, load_config())))


def test_fresh_records_need_nothing_and_no_event_is_written(sources, person):
    record_upsert(source_code="crm", source_key="c-1", attributes=person)
    events = Event.objects.count()

    summary = reindex_records()

    assert summary.as_dict() == {"records": 1, "restandardised": 0, "rekeyed": 0}
    assert Event.objects.count() == events
    assert index_staleness() == (1, 0)


def test_values_stored_before_the_source_was_compared_get_the_source_code(sources, person):
    record_upsert(source_code="billing", source_key="b-1", attributes=person)
    record = SourceRecord.objects.get(source_key="b-1")
    assert record.standardised["source"] == "billing"
    older = {k: v for k, v in record.standardised.items() if k != "source"}
    SourceRecord.objects.filter(pk=record.pk).update(standardised=older)
    assert index_staleness() == (1, 1)

    summary = reindex_records()

    record.refresh_from_db()
    assert summary.as_dict() == {"records": 1, "restandardised": 1, "rekeyed": 0}
    assert record.standardised == {**older, "source": "billing"}


def test_values_stored_by_an_older_standardiser_are_rewritten_with_their_keys(sources):
    record_upsert(source_code="support", source_key="s-1", attributes=ONE_FIELD)
    record = SourceRecord.objects.get(source_key="s-1")
    as_an_older_release_stored_it(record)
    assert index_staleness() == (1, 1)

    summary = reindex_records()

    record.refresh_from_db()
    assert summary.as_dict() == {"records": 1, "restandardised": 1, "rekeyed": 1}
    assert (record.standardised["given_name"], record.standardised["family_name"]) == (
        "peter", "harthofer")
    assert record.standardised == {**standardise_record(ONE_FIELD).values, "source": "support"}
    assert stored_keys(record) == set(hashed_blocking_keys(record.standardised, load_config()))
    event = Event.objects.get(kind="records.reindexed")
    assert event.payload["restandardised"] == 1 and event.payload["rekeyed"] == 1
    assert "harthofer" not in json.dumps(event.payload).lower()  # IDs and counts only
    assert reindex_records().as_dict() == {"records": 1, "restandardised": 0, "rekeyed": 0}


def test_a_dry_run_counts_and_writes_nothing(sources):
    record_upsert(source_code="support", source_key="s-1", attributes=ONE_FIELD)
    record = SourceRecord.objects.get(source_key="s-1")
    as_an_older_release_stored_it(record)
    keys, events = stored_keys(record), Event.objects.count()
    out = StringIO()

    call_command("reindex", "--dry-run", stdout=out, verbosity=0)

    record.refresh_from_db()
    assert "Would refresh: 1 of 1 records re-standardised, 1 with new blocking keys" in (
        out.getvalue())
    assert record.standardised["family_name"] is None
    assert stored_keys(record) == keys and Event.objects.count() == events


def test_other_blocking_rules_in_force_rebuild_every_records_keys(sources, person, tmp_path):
    record_upsert(source_code="crm", source_key="c-1", attributes=person)
    record_upsert(source_code="billing", source_key="b-1", attributes=ONE_FIELD)
    document = load_config().to_dict()
    document["blocking_rules"] = document["blocking_rules"][:3]
    path = tmp_path / "fewer_rules.json"
    path.write_text(json.dumps(document))

    with override_settings(MATCH_CONFIG_PATH=str(path)):
        assert index_staleness() == (2, 2)
        summary = reindex_records(sources=["crm"])
        assert summary.as_dict() == {"records": 1, "restandardised": 0, "rekeyed": 1}
        crm = SourceRecord.objects.get(source_key="c-1")
        rules = {rule for rule, _ in stored_keys(crm) if not rule.startswith("tf:")}
        assert rules <= {rule["name"] for rule in document["blocking_rules"]}
        assert index_staleness(sources=["crm"]) == (1, 0)


def test_match_warns_when_the_index_is_stale(sources):
    record_upsert(source_code="support", source_key="s-1", attributes=ONE_FIELD)
    as_an_older_release_stored_it(SourceRecord.objects.get(source_key="s-1"))
    err = StringIO()

    call_command("match", "--dry-run", stdout=StringIO(), stderr=err, verbosity=0)

    assert "1 of the 1 most recent records have stale" in err.getvalue()
    assert "manage.py reindex" in err.getvalue()


def test_unknown_source_is_refused_by_name(sources):
    with pytest.raises(CommandError, match=r"--sources: unknown source\(s\) nope"):
        call_command("reindex", "--sources", "nope", stdout=StringIO())
