"""Privacy requests against the demo systems of record: the REST CRM and support desk, the SQL
billing database and the web-shop file, configured from the ``sources.json`` the demo writes
and synced into the hub exactly as ``manage.py sync`` does."""

from collections import Counter

import pytest

from hub.models import PrivacyRequest, PrivacyStep, SourceRecord, SourceSystem
from hub.services import privacy as services
from hub.services.connections import source_connector
from hub.services.privacy_steps import privacy_steps_run_due
from hub.services.sources import source_configure
from hub.services.sync import source_sync
from tests.hub.demo_hub import demo_sources_configured
from tests.hub.test_privacy_support import (
    Clock,
    approved_request,
)

TOKENS = {"DEMO_CRM_TOKEN": "crm-privacy-token", "DEMO_SUPPORT_TOKEN": "support-privacy-token"}
CODES = ("crm", "billing", "support", "webshop")


@pytest.fixture
def demo(tmp_path, monkeypatch, privacy_settings, db):
    """The four demo systems seeded and serving, loaded into the hub and synced."""
    with demo_sources_configured(tmp_path, monkeypatch, people=60, tokens=TOKENS) as running:
        for code in CODES:
            report = source_sync(source_code=code)
            assert not report.error, code
        yield running


def person_in_every_source(exclude=()) -> str:
    """The golden ID of a synced person with a record in each of the four systems."""
    per_entity = Counter()
    for entity_id, _code in (SourceRecord.objects.filter(state="active")
                            .exclude(entity_id__in=exclude)
                            .values_list("entity_id", "source__code").distinct()):
        per_entity[entity_id] += 1
    return next(entity_id for entity_id, count in per_entity.most_common() if count == 4)


def keys_of(golden_id) -> dict[str, str]:
    return dict(SourceRecord.objects.filter(entity_id=golden_id)
                .values_list("source__code", "source_key"))


def run(kind, golden_id, officer, clock) -> PrivacyRequest:
    request = approved_request(kind, golden_id, officer, clock)
    services.privacy_request_run(request_id=request.pk, actor=officer, now=clock,
                                 dispatch=False)
    privacy_steps_run_due(now=clock)
    request.refresh_from_db()
    return request


def live(code, key):
    return source_connector(SourceSystem.objects.get(code=code)).fetch(key)


def test_erasure_deletes_in_the_crm_and_shop_anonymises_in_support_and_billing_holds(
        demo, officer):
    golden_id = person_in_every_source()
    keys = keys_of(golden_id)

    request = run("erasure", golden_id, officer, Clock())

    assert request.state == PrivacyRequest.State.COMPLETED
    steps = {s.source.code: s for s in PrivacyStep.objects.filter(request=request)}
    assert {code: (s.state, s.rows_affected) for code, s in steps.items()} == {
        "crm": ("done", 1), "support": ("done", 1), "webshop": ("done", 1),
        "billing": ("skipped", 0)}
    assert steps["billing"].skip_reason == "legal_hold"
    assert "Art. 17(3)(b)" in steps["billing"].skip_detail
    assert live("crm", keys["crm"]).status == "not_found"
    assert live("webshop", keys["webshop"]).status == "not_found"
    contact = live("support", keys["support"]).record
    assert contact["firstName"] is None and contact["emailAddress"] is None
    assert live("billing", keys["billing"]).status == "ok"  # retained under the legal hold
    assert not SourceRecord.objects.filter(source_key__in=keys.values()).exists()

    # The next sync of billing sends the retained person again: held, not re-linked.
    SourceSystem.objects.filter(code="billing").update(sync_cursor="")
    source_sync(source_code="billing", full=True)
    again = SourceRecord.objects.get(source__code="billing", source_key=keys["billing"])
    assert again.entity_id is None
    assert again.review_tasks.get().reason == "suppressed"


def test_sql_erasure_through_the_billing_database_when_its_policy_allows_it(demo, officer):
    golden_id = person_in_every_source()
    billing_key = keys_of(golden_id)["billing"]
    billing = SourceSystem.objects.get(code="billing")
    source_configure(
        code="billing", connector_kind="sql", field_mapping=billing.field_mapping,
        erase_policy="delete",
        connector_settings={**billing.connector_settings,
                            "erase_dsn_env": "DEMO_BILLING_DATABASE_URL",
                            "erase_statement": "DELETE FROM customers WHERE customer_id = %(key)s"})

    request = run("erasure", golden_id, officer, Clock())

    step = PrivacyStep.objects.get(request=request, source__code="billing")
    assert (step.state, step.rows_affected) == ("done", 1)
    assert live("billing", billing_key).status == "not_found"
    assert request.state == PrivacyRequest.State.COMPLETED


def test_export_fetches_the_full_record_from_every_demo_system(demo, officer):
    golden_id = person_in_every_source()
    keys = keys_of(golden_id)

    request = run("export", golden_id, officer, Clock())

    assert request.state == PrivacyRequest.State.COMPLETED
    sources = {block["source"]: block for block in request.export_bundle["sources"]}
    assert set(sources) == set(CODES)
    for code in CODES:
        [entry] = sources[code]["records"]
        assert entry["source_key"] == keys[code] and entry["status"] == "exported"
        assert entry["record"], code
        assert sources[code]["purposes"] and sources[code]["recipients"]
    assert {"invoice_count", "invoiced_cents"} <= set(sources["billing"]["records"][0]["record"])
    assert "tickets" in sources["support"]["records"][0]["record"]
    assert "orders" in sources["webshop"]["records"][0]["record"]
    assert {x["source_key"] for x in request.export_bundle["hub"]["cross_references"]} == set(
        keys.values())
