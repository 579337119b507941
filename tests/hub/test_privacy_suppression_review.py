"""Answering a "suppressed" review task: discard (it is the erased person) or release (it is
somebody else sharing an identifier), from the admin page."""

import json

from django.test import Client

from hub.models import Entity, PrivacyRequest, ReviewTask, SourceRecord, SourceSystem
from hub.services import privacy as services
from hub.services.errors import Conflict
from hub.services.ingest import record_upsert
from hub.services.privacy_steps import privacy_steps_run_due
from hub.services.privacy_suppression_review import (
    suppressed_record_discard,
    suppressed_record_release,
)
from tests.hub import test_privacy_support as support
from tests.hub.test_privacy_support import (
    CODES,
    OTHER_KEYS,
    SUBJECT_KEYS,
    Clock,
    approved_request,
    script_erase,
)


def erase(golden_id, servers, officer):
    for code in CODES:
        script_erase(servers[code], SUBJECT_KEYS[code])
    request = approved_request("erasure", golden_id, officer, Clock())
    services.privacy_request_run(request_id=request.pk, actor=officer, dispatch=False)
    privacy_steps_run_due()
    request.refresh_from_db()
    assert request.state == PrivacyRequest.State.COMPLETED


def held_task(source_key) -> ReviewTask:
    return ReviewTask.objects.get(source_record__source_key=source_key, reason="suppressed",
                                  state="open")


def test_discarding_forgets_the_resent_values_again(servers, subject, officer, person):
    erase(subject, servers, officer)
    record_upsert(source_code="support", source_key="SUP-AGAIN", attributes=person)
    task = held_task("SUP-AGAIN")

    admin = Client()
    admin.force_login(officer)
    page = admin.get("/admin/hub/privacyrequest/suppressed/")
    assert page.status_code == 200 and "SUP-AGAIN" in page.content.decode()
    admin.post("/admin/hub/privacyrequest/suppressed/", {"task_id": task.pk,
                                                         "answer": "discard"})

    task.refresh_from_db()
    record = SourceRecord.objects.get(pk=task.source_record_id)
    assert (task.state, task.verdict, task.resolved_by) == ("resolved", "same", officer)
    assert (record.state, record.attributes, record.source_key) == (
        "erased", {}, f"erased:{record.pk}")
    try:
        suppressed_record_discard(task_id=task.pk)
        raise AssertionError("a resolved task cannot be answered twice")
    except Conflict:
        pass


def test_releasing_matches_the_record_as_usual(servers, subject, officer, person):
    erase(subject, servers, officer)
    other_golden_id = SourceRecord.objects.get(source_key=OTHER_KEYS["crm"]).entity_id
    # Somebody else who shares the erased person's phone number (a family landline).
    namesake = {**support.OTHER_PERSON, "phone": person["phone"], "country": "GB"}
    result = record_upsert(source_code="webshop", source_key="WEB-FAMILY", attributes=namesake)
    assert result.outcome == "review" and result.golden_id is None

    suppressed_record_release(task_id=held_task("WEB-FAMILY").pk, actor=officer)

    record = SourceRecord.objects.get(source_key="WEB-FAMILY")
    assert record.state == "active" and record.entity_id is not None
    assert Entity.objects.get(pk=record.entity_id).state == Entity.State.ACTIVE
    # Same name, birth date and e-mail as the other person: matching links it to them.
    assert record.entity_id == other_golden_id
    assert record.blocking_keys.exists()


def test_discarding_a_resent_record_takes_its_key_out_of_the_sync_cursor(
        servers, subject, officer, person):
    erase(subject, servers, officer)
    # The source sent the person again as the last record of a sync page.
    record_upsert(source_code="support", source_key="SUP-AGAIN", attributes=person)
    source = SourceSystem.objects.get(code="support")
    held_cursor = json.dumps(["2026-02-01T10:00:00Z", "SUP-AGAIN"])
    SourceSystem.objects.filter(pk=source.pk).update(
        sync_cursor=held_cursor, connector_settings={
            **source.connector_settings, "cursor_format": "json"})
    other = SourceSystem.objects.get(code="crm")
    SourceSystem.objects.filter(pk=other.pk).update(sync_cursor='["t", "SUP-AGAIN"]')

    suppressed_record_discard(task_id=held_task("SUP-AGAIN").pk, actor=officer)

    assert json.loads(SourceSystem.objects.get(code="support").sync_cursor) == [
        "2026-02-01T10:00:00Z", ""]
    # Only the record's own source: another source's cursor names one of its own records.
    assert SourceSystem.objects.get(code="crm").sync_cursor == '["t", "SUP-AGAIN"]'
