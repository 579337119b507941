"""Erasure fanned out to four sources: a source that is down, retries on schedule, legal holds,
zero-row erasures, and the hub's own part (tombstone, suppression, notifications, audit)."""

import sqlite3
from datetime import timedelta

import pytest

from hub.models import Entity, Event, PrivacyRequest, PrivacyStep, SourceRecord
from hub.services import privacy as services
from hub.services.federation import entity_records_fetch
from hub.services.ingest import record_upsert
from hub.services.privacy_steps import privacy_steps_run_due
from hub.services.sources import source_configure
from tests.connectors.scripted_server import Reply
from tests.hub.test_privacy_support import (
    CODES,
    SUBJECT_KEYS,
    Clock,
    approved_request,
    configure,
    erase_path,
    make_user,
    run_request,
    script_erase,
    script_export,
)

Step = PrivacyStep.State


def steps_by_source(request):
    return {step.source.code: step for step in PrivacyStep.objects.filter(request=request)
            .select_related("source")}


def erase_calls(servers, code):
    return len(servers[code].seen("DELETE", erase_path(code, SUBJECT_KEYS[code])))


def test_a_source_that_is_down_is_retried_on_schedule_until_the_erasure_completes(
        servers, subject, officer):
    clock = Clock()
    for code in ("crm", "support", "webshop"):
        script_erase(servers[code], SUBJECT_KEYS[code])
    script_erase(servers["billing"], SUBJECT_KEYS["billing"], Reply(503, {"detail": "down"}))
    request = approved_request("erasure", subject, officer, clock)

    services.privacy_request_run(request_id=request.pk, actor=officer, now=clock,
                                 dispatch=False)
    assert privacy_steps_run_due(now=clock) == 4

    request.refresh_from_db()
    steps = steps_by_source(request)
    assert request.state == PrivacyRequest.State.PARTIALLY_COMPLETED
    assert {code: s.state for code, s in steps.items()} == {
        "crm": Step.DONE, "support": Step.DONE, "webshop": Step.DONE, "billing": Step.RETRYING}
    billing = steps["billing"]
    assert billing.last_error == "HTTP 503" and billing.attempts == 1
    # Backoff with jitter: at least half the base delay, at most the full one.
    delay = (billing.next_attempt_at - clock()).total_seconds()
    assert 30 <= delay <= 60
    assert billing.retry_until == clock() + timedelta(hours=24)
    # The hub keeps the subject until every source has answered.
    assert Entity.objects.get(pk=subject).state == Entity.State.ACTIVE

    clock.advance(seconds=25)
    assert privacy_steps_run_due(now=clock) == 0  # not due yet: the source is left alone
    assert erase_calls(servers, "billing") == 1

    script_erase(servers["billing"], SUBJECT_KEYS["billing"], Reply(204))
    clock.moment = billing.next_attempt_at
    assert privacy_steps_run_due(now=clock) == 1

    request.refresh_from_db()
    assert request.state == PrivacyRequest.State.COMPLETED
    assert request.completed_at == clock()
    assert {code: erase_calls(servers, code) for code in CODES} == {
        "crm": 1, "support": 1, "webshop": 1, "billing": 2}
    assert Entity.objects.get(pk=subject).state == Entity.State.ERASED
    assert request.hub_erasure["records"] == 4


def test_the_retry_window_ends_in_error_and_retry_failed_reruns_only_that_step(
        servers, subject, officer):
    clock = Clock()
    # A breaker that never opens, so that every scheduled retry reaches the server.
    configure("billing", servers["billing"], failure_threshold=1000)
    for code in ("crm", "support", "webshop"):
        script_erase(servers[code], SUBJECT_KEYS[code])
    script_erase(servers["billing"], SUBJECT_KEYS["billing"], Reply(500))
    request, _ = run_request("erasure", subject, officer, clock)
    for _ in range(40):  # keep moving past each scheduled retry until the window closes
        clock.advance(hours=1, seconds=1)
        privacy_steps_run_due(now=clock)
    request.refresh_from_db()
    billing = steps_by_source(request)["billing"]
    assert billing.state == Step.ERROR
    assert billing.last_error == "retry window ended: HTTP 500"
    assert request.state == PrivacyRequest.State.PARTIALLY_COMPLETED
    attempts_before = erase_calls(servers, "billing")
    assert attempts_before == billing.attempts > 2

    script_erase(servers["billing"], SUBJECT_KEYS["billing"], Reply(204))
    services.privacy_request_retry_failed(request_id=request.pk, actor=officer, now=clock,
                                          dispatch=False)
    assert privacy_steps_run_due(now=clock) == 1

    request.refresh_from_db()
    assert request.state == PrivacyRequest.State.COMPLETED
    assert erase_calls(servers, "billing") == attempts_before + 1
    assert {code: erase_calls(servers, code) for code in ("crm", "support", "webshop")} == {
        "crm": 1, "support": 1, "webshop": 1}


def test_a_legal_hold_skips_the_source_with_its_basis_and_never_calls_it(
        servers, subject, officer):
    clock = Clock()
    configure("billing", servers["billing"], erase_policy="retain",
              legal_basis="Tax law: invoices kept 10 years")
    for code in ("crm", "support", "webshop"):
        script_erase(servers[code], SUBJECT_KEYS[code])
    request, _ = run_request("erasure", subject, officer, clock)
    billing = steps_by_source(request)["billing"]
    assert (billing.state, billing.skip_reason) == (Step.SKIPPED, "legal_hold")
    assert billing.skip_detail == "Tax law: invoices kept 10 years"
    assert erase_calls(servers, "billing") == 0
    assert request.state == PrivacyRequest.State.COMPLETED


def test_zero_rows_erased_for_an_existing_record_is_an_error_not_success(
        servers, subject, officer, tmp_path, monkeypatch):
    clock = Clock()
    database = tmp_path / "billing.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, first TEXT, last TEXT)")
        connection.execute("INSERT INTO customers VALUES (?, 'M', 'O')",
                           [SUBJECT_KEYS["billing"]])
    connection.close()
    monkeypatch.setenv("PRIVACY_TEST_BILLING_DSN", f"sqlite:///{database}")
    # The statement is wrong (it matches no row): the source "succeeds" at erasing nothing.
    source_configure(code="billing", connector_kind="sql", erase_policy="delete",
                     field_mapping={"first": "given_name", "last": "family_name"},
                     connector_settings={
                         "dsn_env": "PRIVACY_TEST_BILLING_DSN", "table": "customers",
                         "erase_dsn_env": "PRIVACY_TEST_BILLING_DSN", "key_column": "id",
                         "erase_statement": "DELETE FROM customers WHERE id = %(key)s || 'x'"})
    for code in ("crm", "support", "webshop"):
        script_erase(servers[code], SUBJECT_KEYS[code])
    request, _ = run_request("erasure", subject, officer, clock)
    billing = steps_by_source(request)["billing"]
    assert (billing.state, billing.last_error) == (Step.ERROR, "erased zero rows")
    assert request.state == PrivacyRequest.State.PARTIALLY_COMPLETED
    assert billing.targets[0]["key"] == SUBJECT_KEYS["billing"]  # kept for the retry
    clock.advance(days=2)
    assert privacy_steps_run_due(now=clock) == 0  # a person must look; no automatic retry


def test_a_rest_source_answering_that_it_erased_zero_records_is_an_error_not_success(
        servers, subject, officer):
    clock = Clock()
    configure("support", servers["support"], erase_policy="anonymise", erase_method="POST",
              erase_path="/contacts/{key}/anonymise", erased_count_field="erased")
    servers["support"].script("POST", f"/contacts/{SUBJECT_KEYS['support']}/anonymise",
                              Reply(200, {"erased": 0}))
    configure("crm", servers["crm"], erased_count_field="erased")
    script_erase(servers["crm"], SUBJECT_KEYS["crm"], Reply(200, {"erased": 1}))
    script_erase(servers["billing"], SUBJECT_KEYS["billing"], Reply(404, {"detail": "gone"}))
    script_erase(servers["webshop"], SUBJECT_KEYS["webshop"])

    request, _ = run_request("erasure", subject, officer, clock)

    steps = steps_by_source(request)
    assert (steps["support"].state, steps["support"].last_error) == (Step.ERROR,
                                                                      "erased zero rows")
    assert (steps["crm"].state, steps["crm"].rows_affected) == (Step.DONE, 1)
    assert steps["billing"].state == Step.NOT_FOUND  # the source no longer holds the key
    assert steps["billing"].targets[0]["outcome"] == "not_found"
    assert request.state == PrivacyRequest.State.PARTIALLY_COMPLETED
    clock.advance(days=2)
    assert privacy_steps_run_due(now=clock) == 0  # a person must look; no automatic retry
    assert len(servers["support"].seen("POST")) == 1


def test_applications_that_fetched_the_person_are_notified_with_ids_only(
        servers, subject, officer):
    clock = Clock()
    shop_app = make_user("shop-app")
    crm_app = make_user("crm-app")
    for app_user in (shop_app, crm_app, shop_app):
        entity_records_fetch(golden_id=subject, actor=app_user, timeout=1.0)
    for code in CODES:
        script_erase(servers[code], SUBJECT_KEYS[code])
    request, _ = run_request("erasure", subject, officer, clock)

    notices = Event.objects.filter(kind="privacy.erasure_notice")
    assert sorted(e.payload["recipient_user_id"] for e in notices) == sorted(
        [shop_app.pk, crm_app.pk])
    assert all(e.entity_id == subject and set(e.payload) == {"request_id", "recipient_user_id"}
               for e in notices)


def test_the_audit_says_who_did_what_and_what_each_source_answered_without_values(
        servers, subject, officer, person):
    clock = Clock()
    for code in CODES:
        script_erase(servers[code], SUBJECT_KEYS[code])
    request, _ = run_request("erasure", subject, officer, clock)
    assert (request.received_by, request.verified_by, request.approved_by) == (
        officer, officer, officer)
    assert request.verification_method == "identity_document"
    assert request.received_at == request.verified_at == request.approved_at == clock()
    answers = Event.objects.filter(kind="privacy.step_attempted", payload__request_id=request.pk)
    assert sorted((e.payload["source_id"], e.payload["state"], e.payload["rows"])
                  for e in answers) == sorted(
        (s.source_id, "done", 1) for s in PrivacyStep.objects.filter(request=request))
    kinds = list(Event.objects.filter(payload__request_id=request.pk)
                 .values_list("kind", flat=True))
    for kind in ("privacy.request_received", "privacy.request_verified",
                 "privacy.request_approved", "privacy.request_started",
                 "privacy.subject_erased", "privacy.request_completed"):
        assert kind in kinds
    text = str(list(Event.objects.filter(kind__startswith="privacy.")
                    .values_list("payload", flat=True))).casefold()
    for value in (*person.values(), *SUBJECT_KEYS.values()):
        if len(value) > 2:
            assert value.casefold() not in text
    assert SourceRecord.objects.filter(state=SourceRecord.State.ERASED).count() == 4


@pytest.mark.parametrize("connector_kind", ["", "http"])
def test_a_source_without_connector_is_skipped_as_not_supported(
        servers, subject, officer, connector_kind):
    clock = Clock()
    if not connector_kind:
        source_configure(code="webshop", connector_kind="", connector_settings={},
                         field_mapping={}, erase_policy="delete")
    for code in CODES:
        script_erase(servers[code], SUBJECT_KEYS[code])
    request, _ = run_request("erasure", subject, officer, clock)
    webshop = steps_by_source(request)["webshop"]
    if connector_kind:
        assert webshop.state == Step.DONE
    else:
        assert (webshop.state, webshop.skip_reason) == (Step.SKIPPED, "not_supported")
        assert erase_calls(servers, "webshop") == 0


def test_a_record_joining_the_subject_while_the_request_runs_is_erased_too(
        servers, subject, officer, person):
    clock = Clock()
    for code in CODES:
        script_erase(servers[code], SUBJECT_KEYS[code])
    script_erase(servers["billing"], SUBJECT_KEYS["billing"], Reply(503))
    request, _ = run_request("erasure", subject, officer, clock)
    # The support desk syncs a second record of the person while billing is down.
    late = record_upsert(source_code="support", source_key="SUP-LATE-1", attributes=person)
    assert late.golden_id == subject
    script_erase(servers["support"], "SUP-LATE-1")
    script_erase(servers["billing"], SUBJECT_KEYS["billing"], Reply(204))

    clock.advance(hours=1)
    privacy_steps_run_due(now=clock)  # billing succeeds; the late record gets its own call
    privacy_steps_run_due(now=clock)

    request.refresh_from_db()
    assert request.state == PrivacyRequest.State.COMPLETED
    assert len(servers["support"].seen("DELETE", "/customers/SUP-LATE-1")) == 1
    assert erase_calls(servers, "support") == 1
    assert request.hub_erasure["records"] == 5
    assert not SourceRecord.objects.filter(source_key="SUP-LATE-1").exists()


def test_an_export_still_retrying_when_the_erasure_completes_is_cancelled_and_never_runs(
        servers, subject, officer, person):
    clock = Clock()
    for code in ("billing", "support", "webshop"):
        script_export(servers[code], SUBJECT_KEYS[code], {"id": SUBJECT_KEYS[code], **person})
    servers["crm"].script("GET", f"/customers/{SUBJECT_KEYS['crm']}", Reply(503))
    export, _ = run_request("export", subject, officer, clock)
    assert export.state == PrivacyRequest.State.PARTIALLY_COMPLETED
    assert PrivacyStep.objects.filter(request=export, result__isnull=False).count() == 3
    for code in CODES:
        script_erase(servers[code], SUBJECT_KEYS[code])

    erasure, _ = run_request("erasure", subject, officer, clock)

    assert erasure.state == PrivacyRequest.State.COMPLETED
    assert erasure.hub_erasure["other_requests_cancelled"] == 1
    export.refresh_from_db()
    assert (export.state, export.export_bundle) == (PrivacyRequest.State.CANCELLED, None)
    assert str(erasure.pk) in export.close_reason
    steps = steps_by_source(export)
    assert steps["crm"].state == Step.ERROR and steps["crm"].next_attempt_at is None
    assert all(t["key"] == "" for step in steps.values() for t in step.targets)
    assert all(step.result is None for step in steps.values())
    fetches = len(servers["crm"].seen("GET"))
    clock.advance(days=1)
    assert privacy_steps_run_due(now=clock) == 0
    assert len(servers["crm"].seen("GET")) == fetches
