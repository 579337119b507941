"""Federated reads: GET /api/entities/{id}/records fetches every linked record concurrently."""

import time
from contextlib import ExitStack

import pytest

from hub.models import Entity, Event, SourceRecord, SourceSystem
from hub.services.connections import connectors_reset, source_connector
from hub.services.ingest import record_upsert
from hub.services.sources import source_configure
from tests.connectors.scripted_server import Reply, ScriptedServer

TIMEOUT = 0.5
MAPPING = {"first": "given_name", "last": "family_name"}
KEYS = {"crm": "C-1", "billing": "B-1", "support": "S-1", "webshop": "W-1"}


@pytest.fixture
def servers(settings):
    """One scripted HTTP server per source, registered as the source's connector."""
    settings.FEDERATION_TIMEOUT = TIMEOUT
    connectors_reset()
    with ExitStack() as stack:
        yield {code: stack.enter_context(ScriptedServer()) for code in KEYS}
    connectors_reset()


def configure(code, server, **settings):
    source_configure(code=code, connector_kind="http", field_mapping=MAPPING,
                     erase_policy="delete",
                     connector_settings={"base_url": server.url, "retry_attempts": 1,
                                         **settings})


@pytest.fixture
def entity(api, servers, person):
    """One customer with a record in each of the four sources, each source configured."""
    for code, server in servers.items():
        configure(code, server)
        golden_id = record_upsert(source_code=code, source_key=KEYS[code],
                                  attributes=person).golden_id
    assert SourceRecord.objects.filter(entity_id=golden_id).count() == 4
    # A running hub has built each source's connector once (and keeps it) and has loaded its
    # URLconf: do both up front so that the timings below measure the fetch, not the set-up.
    for source in SourceSystem.objects.all():
        source_connector(source)
    api.get("/api/entities/GWARMUP")  # the first request of a process loads the URLconf
    return golden_id


def answer(server, key, reply):
    server.script("GET", f"/customers/{key}", reply)


def fetch(api, golden_id):
    started = time.perf_counter()
    response = api.get(f"/api/entities/{golden_id}/records")
    return response, time.perf_counter() - started


def by_source(body):
    return {block["source"]: block for block in body["records"]}


def test_slow_and_failing_sources_never_delay_the_answer_past_the_timeout(api, servers, entity):
    answer(servers["crm"], "C-1", Reply(200, {"id": "C-1", "first": "Margaret"}))
    answer(servers["billing"], "B-1", Reply(200, {"id": "B-1", "iban": "GB00TEST"}))
    answer(servers["support"], "S-1", Reply(200, {"id": "S-1"}, delay=TIMEOUT + 1.5))
    answer(servers["webshop"], "W-1", Reply(500, {"detail": "boom"}))
    response, elapsed = fetch(api, entity)
    assert response.status_code == 200
    assert elapsed < TIMEOUT + 0.1
    blocks = by_source(response.json())
    assert {code: b["status"] for code, b in blocks.items()} == {
        "crm": "ok", "billing": "ok", "support": "timeout", "webshop": "error"}
    assert blocks["crm"]["record"] == {"id": "C-1", "first": "Margaret"}
    assert blocks["crm"]["source_key"] == "C-1"
    assert blocks["support"]["record"] is None and blocks["webshop"]["error"] == "HTTP 500"


def test_sources_are_fetched_concurrently(api, servers, entity, settings):
    settings.FEDERATION_TIMEOUT = 5.0
    for code, server in servers.items():
        answer(server, KEYS[code], Reply(200, {"id": KEYS[code]}, delay=0.3))
    response, elapsed = fetch(api, entity)
    assert [b["status"] for b in response.json()["records"]] == ["ok"] * 4
    assert elapsed < 0.3 * 3  # four sequential fetches would take 1.2 s


def test_a_source_that_keeps_failing_opens_its_circuit(api, servers, entity):
    configure("webshop", servers["webshop"], failure_threshold=1, cool_down=60)
    for code, server in servers.items():
        answer(server, KEYS[code], Reply(200, {"id": KEYS[code]}))
    answer(servers["webshop"], "W-1", Reply(503))
    assert by_source(fetch(api, entity)[0].json())["webshop"]["status"] == "error"
    calls = len(servers["webshop"].seen())
    again = by_source(fetch(api, entity)[0].json())
    assert again["webshop"]["status"] == "circuit_open"
    assert again["crm"]["status"] == "ok"
    assert len(servers["webshop"].seen()) == calls  # refused without calling the source


def test_a_record_gone_from_its_source_is_not_found(api, servers, entity):
    for code, server in servers.items():
        answer(server, KEYS[code], Reply(200, {"id": KEYS[code]}))
    answer(servers["billing"], "B-1", Reply(404, {"detail": "no such customer"}))
    blocks = by_source(fetch(api, entity)[0].json())
    assert blocks["billing"]["status"] == "not_found" and blocks["billing"]["record"] is None


def test_a_source_without_connector_is_an_error_block(api, servers, person):
    golden_id = record_upsert(source_code="crm", source_key="C-1", attributes=person).golden_id
    blocks = fetch(api, golden_id)[0].json()["records"]
    assert blocks == [{"source": "crm", "source_key": "C-1", "status": "error", "record": None,
                       "elapsed_ms": 0.0, "error": "no connector configured"}]


def test_access_is_recorded_without_any_record_content(api, servers, entity):
    for code, server in servers.items():
        answer(server, KEYS[code], Reply(200, {"id": KEYS[code], "secret_note": "VIP-4711"}))
    before = SourceRecord.objects.filter(entity_id=entity).values_list("attributes", flat=True)
    before = sorted(map(str, before))
    fetch(api, entity)
    event = Event.objects.get(kind="entity.records_accessed")
    assert event.entity_id == entity and event.actor.username == "app"
    assert event.payload == {"sources": ["billing", "crm", "support", "webshop"],
                             "statuses": {code: {"ok": 1} for code in KEYS}}
    after = SourceRecord.objects.filter(entity_id=entity).values_list("attributes", flat=True)
    assert sorted(map(str, after)) == before
    assert "VIP-4711" not in str(list(Event.objects.values_list("payload", flat=True)))


def test_a_merged_id_answers_for_its_survivor(api, servers, entity, person):
    lone = record_upsert(source_code="billing", source_key="B-2", attributes={
        "given_name": "Tobias", "family_name": "Lindqvist", "birth_date": "1990-11-02",
        "country": "SE"}).golden_id
    record_upsert(source_code="billing", source_key="B-2", attributes=person)
    assert Entity.objects.get(pk=lone).state == "merged"
    for code, server in servers.items():
        answer(server, KEYS[code], Reply(200, {"id": KEYS[code]}))
    answer(servers["billing"], "B-2", Reply(200, {"id": "B-2"}))
    body = fetch(api, lone)[0].json()
    assert body["golden_id"] == entity and body["resolved_from"] == lone
    assert {(b["source"], b["source_key"]) for b in body["records"]} == {
        *KEYS.items(), ("billing", "B-2")}
    event = Event.objects.get(kind="entity.records_accessed")
    assert event.entity_id == entity and event.payload["resolved_from"] == lone


def test_unknown_golden_id_is_404_and_no_access_is_recorded(api):
    assert api.get("/api/entities/GNOSUCHID/records").status_code == 404
    assert not Event.objects.filter(kind="entity.records_accessed").exists()


def test_records_need_a_token(client, entity):
    assert client.get(f"/api/entities/{entity}/records").status_code in (401, 403)


def test_openapi_schema_describes_the_records_path(api):
    paths = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    schema = paths["/api/entities/{golden_id}/records"]["get"]
    assert "200" in schema["responses"]
