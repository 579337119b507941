"""Each demo system answers the hub's real connectors, as configured by sources.json."""

import json
import sqlite3

import httpx
import pytest

from connectors import ErasureRefused
from demo_sources import crm, serve
from demo_sources.rest import TokenMissing
from tests.demo_sources.conftest import build_connectors

SMALL_PAGES = {"crm": {"page_size": 7}, "support": {"page_size": 5},
               "billing": {"page_size": 9}, "webshop": {"page_size": 8}}


def seeded_keys(data_dir):
    """Every source's keys as written to the data directory."""
    crm_records = json.loads((data_dir / "crm" / "customers.json").read_text())["records"]
    support = json.loads((data_dir / "support" / "contacts.json").read_text())["records"]
    shop = (data_dir / "webshop" / "customers.jsonl").read_text().splitlines()
    conn = sqlite3.connect(data_dir / "billing" / "billing.sqlite3")
    billing = [row[0] for row in conn.execute("SELECT customer_id FROM customers")]
    conn.close()
    return {"crm": {r["id"] for r in crm_records}, "support": {r["id"] for r in support},
            "webshop": {json.loads(line)["customer_ref"] for line in shop},
            "billing": set(billing)}


def listed(connector, cursor=None):
    return [change for page in connector.list_changes(cursor) for change in page.changes]


def test_list_changes_pages_through_every_record_of_every_source(running, tmp_path, environ):
    connectors = build_connectors(tmp_path, environ, **SMALL_PAGES)
    expected = seeded_keys(tmp_path)

    for code, connector in connectors.items():
        pages = list(connector.list_changes())
        keys = [change.key for page in pages for change in page.changes]
        assert len(pages) > 1, code
        assert sorted(keys) == sorted(expected[code]), code
        first = pages[0].changes[0]
        assert first.version >= 1 and first.updated_at and first.attributes.get("given_name")
        assert listed(connector, pages[-1].cursor) == [], code  # resuming finds nothing new


def test_listing_twice_gives_the_same_changes(hub_connectors):
    for connector in hub_connectors.values():
        assert listed(connector) == listed(connector)


def test_fetch_many_returns_live_records_and_not_found(hub_connectors, tmp_path):
    keys = {code: sorted(k)[0] for code, k in seeded_keys(tmp_path).items()}

    results = {code: connector.fetch_many([keys[code], "NO-SUCH-KEY"])
               for code, connector in hub_connectors.items()}

    for code, (found, missing) in results.items():
        assert (found.status, missing.status) == ("ok", "not_found"), code
    assert results["crm"][0].record["id"] == keys["crm"]
    contact = results["support"][0].record
    assert contact["ticket_stats"]["total"] == len(contact["tickets"])
    assert {"invoice_count", "invoiced_cents"} <= set(results["billing"][0].record)
    assert isinstance(results["webshop"][0].record["orders"], list)


def test_crm_erasure_deletes_and_leaves_only_a_tombstone_that_survives_a_restart(
        hub_connectors, tmp_path, environ):
    connector = hub_connectors["crm"]
    key = sorted(seeded_keys(tmp_path)["crm"])[0]
    before = next(c for c in listed(connector) if c.key == key)

    result = connector.erase(key)

    assert (result.outcome, result.rows) == ("deleted", 1)
    assert connector.fetch(key).status == "not_found"
    assert connector.erase(key).outcome == "not_found"
    tombstone = next(c for c in listed(connector) if c.key == key)
    assert tombstone.deleted and tombstone.version == before.version + 1
    assert tombstone.attributes == {}
    restarted = crm.CrmApi.open(tmp_path, "t").store.get(key)
    assert set(restarted) == {"id", "version", "updated_at", "deleted"}


def test_support_erasure_anonymises_the_contact_and_keeps_ticket_statistics(hub_connectors):
    connector = hub_connectors["support"]
    key = next(c.key for c in listed(connector)
               if connector.fetch(c.key).record["tickets"])
    before = connector.fetch(key).record

    result = connector.erase(key)

    assert result.outcome == "anonymised"
    after = connector.fetch(key).record
    assert after["firstName"] is after["emailAddress"] is after["lastName"] is None
    assert after["ticket_stats"] == before["ticket_stats"]
    assert [t["id"] for t in after["tickets"]] == [t["id"] for t in before["tickets"]]
    assert all(t["subject"] is None for t in after["tickets"])
    change = next(c for c in listed(connector) if c.key == key)
    assert change.deleted and change.attributes == {}
    assert connector.erase(key).outcome == "anonymised"  # repeating it is harmless
    assert connector.fetch(key).record["version"] == after["version"]


def test_billing_retains_and_the_web_shop_deletes(hub_connectors, tmp_path):
    keys = seeded_keys(tmp_path)
    billing_key, shop_key = sorted(keys["billing"])[0], sorted(keys["webshop"])[0]

    with pytest.raises(ErasureRefused):
        hub_connectors["billing"].erase(billing_key)
    shop_result = hub_connectors["webshop"].erase(shop_key)

    assert hub_connectors["billing"].fetch(billing_key).status == "ok"
    assert shop_result.outcome == "deleted"
    assert hub_connectors["webshop"].fetch(shop_key).status == "not_found"
    assert seeded_keys(tmp_path)["webshop"] == keys["webshop"] - {shop_key}


def test_an_erase_through_the_billing_read_dsn_fails_visibly(hub_connectors, tmp_path, environ):
    statement = "DELETE FROM customers WHERE customer_id = %(key)s"
    environ["BILLING_READ_ONLY"] = environ["DEMO_BILLING_DATABASE_URL"] + "?mode=ro"
    refused = build_connectors(tmp_path, environ, billing={
        "erase_policy": "delete", "erase_dsn_env": "BILLING_READ_ONLY",
        "erase_statement": statement})["billing"]
    key = sorted(seeded_keys(tmp_path)["billing"])[0]

    result = refused.erase(key)

    assert result.outcome == "error" and "SQLITE_READONLY" in result.error
    assert hub_connectors["billing"].fetch(key).status == "ok"


def test_the_rest_systems_require_their_own_token(running, hub_connectors, tmp_path, environ):
    crm_url, support_url = running.url(running.crm), running.url(running.support)
    key = sorted(seeded_keys(tmp_path)["crm"])[0]

    assert httpx.get(f"{crm_url}/customers/{key}").status_code == 401
    wrong = {"Authorization": "Bearer " + environ["DEMO_SUPPORT_TOKEN"]}
    assert httpx.get(f"{crm_url}/customers/{key}", headers=wrong).status_code == 401
    assert httpx.delete(f"{crm_url}/customers/{key}").status_code == 401
    assert httpx.get(f"{support_url}/contacts").status_code == 401
    assert httpx.get(f"{crm_url}/health").status_code == 200
    impostor = build_connectors(tmp_path, {**environ, "DEMO_CRM_TOKEN": "guess"})["crm"]
    assert impostor.fetch(key).error == "HTTP 401"
    assert hub_connectors["crm"].fetch(key).status == "ok"
    assert hub_connectors["crm"].health().ok and hub_connectors["support"].health().ok


def test_starting_without_a_token_is_refused(tmp_path):
    serve.prepare(tmp_path, people=10, environ={})
    with pytest.raises(TokenMissing, match="DEMO_SUPPORT_TOKEN"):
        serve.start(tmp_path, crm_port=0, support_port=0,
                    environ={"DEMO_CRM_TOKEN": "x"})


def test_the_rest_systems_answer_an_erasure_with_the_count_the_hub_reads(
        running, hub_connectors, tmp_path, environ):
    keys = seeded_keys(tmp_path)
    crm_key, support_key = sorted(keys["crm"])[1], sorted(keys["support"])[1]
    crm_auth = {"Authorization": "Bearer " + environ["DEMO_CRM_TOKEN"]}
    support_auth = {"Authorization": "Bearer " + environ["DEMO_SUPPORT_TOKEN"]}
    crm_url, support_url = running.url(running.crm), running.url(running.support)
    document = json.loads((tmp_path / "sources.json").read_text())
    settings = {s["code"]: s["connector_settings"] for s in document["sources"]}

    deleted = httpx.delete(f"{crm_url}/customers/{crm_key}", headers=crm_auth)
    again = httpx.delete(f"{crm_url}/customers/{crm_key}", headers=crm_auth)
    anonymised = [httpx.post(f"{support_url}/contacts/{support_key}/anonymise",
                             headers=support_auth) for _ in range(2)]

    assert (deleted.status_code, deleted.json()) == (200, {"id": crm_key, "erased": 1})
    assert again.status_code == 404  # gone: the hub records the key as not found
    # Repeating the anonymisation still counts the contact: a retry is not an ignored call.
    assert [a.json()["erased"] for a in anonymised] == [1, 1]
    assert settings["crm"]["erased_count_field"] == "erased"
    assert settings["support"]["erased_count_field"] == "erased"
    assert hub_connectors["crm"].erase(sorted(keys["crm"])[2]).rows == 1
    assert hub_connectors["crm"].erase(crm_key).outcome == "not_found"


def test_a_demo_cursor_that_forgot_an_erased_key_resumes_without_skipping(running, tmp_path,
                                                                         environ):
    from connectors import cursor_forget

    document = json.loads((tmp_path / "sources.json").read_text())
    connectors = build_connectors(tmp_path, environ, **SMALL_PAGES)
    for code in ("crm", "support"):
        connector = connectors[code]
        settings = next(s for s in document["sources"] if s["code"] == code)
        every = listed(connector)
        first = next(connector.list_changes())
        erased = first.changes[-1].key

        rewritten = cursor_forget("http", settings["connector_settings"], first.cursor, [erased])

        assert erased not in rewritten and rewritten != first.cursor, code
        resumed = [change.key for change in listed(connector, rewritten)]
        # Everything after the first page comes, preceded only by replays of its last instant.
        rest = [change.key for change in every[len(first.changes):]]
        assert rest and resumed[-len(rest):] == rest and erased in resumed, code
        assert len(resumed) - len(rest) < len(first.changes), code  # not a restart
    for connector in connectors.values():
        connector.close()
