"""The demo's four systems of record synced into the hub as ``dev.py demo`` does it (REST CRM,
REST support desk, SQL billing, JSON Lines web shop, configured from the ``sources.json`` they
write): a second sync changes nothing, the review queue has work, and the federation API
fetches a person's live record from every one of them."""

from collections import Counter

import pytest
from rest_framework.test import APIClient

from hub.models import Entity, Event, Link, ReviewTask, SourceRecord, SourceSystem
from hub.services.sync import COUNT_NAMES, source_sync
from hub.services.tokens import token_issue
from tests.hub.demo_hub import demo_sources_configured

TOKENS = {"DEMO_CRM_TOKEN": "crm-sync-token", "DEMO_SUPPORT_TOKEN": "support-sync-token"}
CODES = ("crm", "billing", "support", "webshop")
NOTHING = dict.fromkeys(COUNT_NAMES, 0)


@pytest.fixture
def demo(tmp_path, monkeypatch, db):
    """The four demo systems seeded (small) and serving, configured in the hub, not synced."""
    with demo_sources_configured(tmp_path, monkeypatch, people=150, tokens=TOKENS) as running:
        yield running


def hub_state() -> dict:
    """What a sync could change: entities, links, records, review tasks, events by kind."""
    return {
        "entities": sorted(Entity.objects.values_list("golden_id", "state", "version")),
        "links": sorted(Link.objects.values_list("pk", "entity_id", "ended_at")),
        "records": sorted(SourceRecord.objects.values_list(
            "pk", "state", "entity_id", "content_hash", "source_version")),
        "tasks": sorted(ReviewTask.objects.values_list("pk", "state")),
        "events": Counter(Event.objects.values_list("kind", flat=True)),
    }


def counts(report) -> dict:
    return report.as_dict()["counts"]


def test_syncing_the_demo_sources_twice_changes_nothing_the_second_time(demo):
    first = {code: source_sync(source_code=code) for code in CODES}
    for code, report in first.items():
        assert report.completed and report.error == "", code
        assert counts(report)["new"] > 0 and counts(report)["rejected"] == 0, code
    before = hub_state()
    cursors = dict(SourceSystem.objects.values_list("code", "sync_cursor"))
    assert all(cursors.values())

    second = {code: counts(source_sync(source_code=code)) for code in CODES}

    assert second == dict.fromkeys(CODES, NOTHING)
    after = hub_state()
    new_events = after.pop("events") - before.pop("events")
    assert after == before  # no new entity, link, record or task; nothing changed
    assert new_events == Counter({"source.synced": 4})  # only the sync summaries
    assert dict(SourceSystem.objects.values_list("code", "sync_cursor")) == cursors

    # Reading everything again from the start is just as harmless: all unchanged.
    full = {code: counts(source_sync(source_code=code, full=True)) for code in CODES}
    assert full == {code: {**NOTHING, "unchanged": counts(first[code])["new"]}
                    for code in CODES}
    after_full = hub_state()
    after_full.pop("events")
    assert after_full == before


def test_after_the_first_sync_the_queue_has_work_and_every_source_answers_live(demo):
    for code in CODES:
        assert not source_sync(source_code=code).error, code
    per_entity = Counter(entity_id for entity_id, _ in SourceRecord.objects.filter(
        state="active").values_list("entity_id", "source__code").distinct())
    everywhere = [entity_id for entity_id, sources in per_entity.items() if sources == 4]
    key, _ = token_issue(username="demo-app")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    answer = client.get(f"/api/entities/{everywhere[0]}/records")

    assert ReviewTask.objects.filter(state=ReviewTask.State.OPEN).exists()
    assert answer.status_code == 200
    blocks = answer.json()["records"]
    assert sorted(block["source"] for block in blocks) == sorted(CODES)
    assert {block["source"]: block["status"] for block in blocks} == dict.fromkeys(CODES, "ok")
    assert all(block["record"] for block in blocks)
    keys = dict(SourceRecord.objects.filter(entity_id=everywhere[0]).values_list(
        "source__code", "source_key"))
    assert {block["source"]: block["source_key"] for block in blocks} == keys
