"""After a completed erasure no value of the subject is left anywhere in the hub's database,
and a source sending the person again is held for review instead of being re-linked."""

import base64
import json
import sqlite3

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection

from hub.models import (
    Entity,
    Link,
    PrivacyRequest,
    ReviewTask,
    SourceRecord,
    SourceSystem,
    SuppressionEntry,
)
from hub.services import privacy as services
from hub.services.events import event_record
from hub.services.ingest import record_upsert
from hub.services.privacy_export import ExportExpired, privacy_export_download
from hub.services.privacy_steps import privacy_steps_run_due
from hub.services.privacy_suppression import canonical_email
from hub.services.sources import source_configure
from hub.services.sync import source_sync
from tests.connectors.scripted_server import Reply
from tests.hub.test_privacy_support import (
    CODES,
    OTHER_KEYS,
    OTHER_PERSON,
    SUBJECT_KEYS,
    Clock,
    approved_request,
    make_user,
    run_request,
    script_erase,
    script_export,
)


def every_stored_text() -> list[tuple[str, str, str]]:
    """(table, column, value) for every non-empty value of every table, sessions decoded."""
    found = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for model in apps.get_models(include_auto_created=True):
            assert model._meta.db_table in tables, model  # no model escapes the scan
        for table in tables:
            columns = [c.name for c in
                       connection.introspection.get_table_description(cursor, table)]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value not in (None, ""):
                        found.append((table, column, str(value)))
    for session in Session.objects.all():
        found.append(("django_session", "decoded", json.dumps(session.get_decoded())))
    return found


def subject_values(person) -> set[str]:
    """Everything that identifies the subject: name, e-mail, phone (as sent, E.164 and
    digits), birth date and the source keys."""
    values = {person["given_name"], person["family_name"], person["email"], person["phone"],
              "+442079460321", "2079460321", person["birth_date"], "17/03/1984",
              person["address_line"], *SUBJECT_KEYS.values()}
    return {value.casefold() for value in values}


def decoded(text: str) -> str:
    """``text`` and, when it is base64 (a sync cursor may be), what it decodes to."""
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
        return f"{text}\n{raw.decode('utf-8')}"
    except ValueError:  # not base64, or not text once decoded
        return text


def leaks(values) -> list[tuple[str, str, str]]:
    return [(table, column, text[:80]) for table, column, text in every_stored_text()
            if any(value in decoded(text).casefold() for value in values)]


def other_person_rows():
    return sorted(SourceRecord.objects.filter(source_key__in=OTHER_KEYS.values()).values_list(
        "source_key", "state", "attributes", "standardised", "content_hash", "entity_id"))


def plant_personal_data_where_careless_code_might(golden_id, person):
    """Values of the subject in the places a careless service or an admin might leave them."""
    record = SourceRecord.objects.filter(entity_id=golden_id).first()
    event_record(kind="test.careless", entity_id=golden_id,
                 payload={"note": f"called {person['given_name']} on {person['phone']}"})
    link = Link.objects.get(source_record=record, ended_at=None)
    Link.objects.filter(pk=link.pk).update(
        explanation={**link.explanation, "debug": person["email"]})
    admin = make_user("admin-user")
    LogEntry.objects.log_actions(
        user_id=admin.pk, queryset=[record], action_flag=CHANGE,
        change_message=f"Changed e-mail to {person['email']}")
    LogEntry.objects.filter(object_id=str(record.pk)).update(
        object_repr=f"{person['given_name']} {person['family_name']}")
    assert ContentType.objects.get_for_model(SourceRecord)
    session = SessionStore()
    session["search_form"] = {"email": person["email"]}
    session.create()
    other_session = SessionStore()
    other_session["search_form"] = {"email": OTHER_PERSON["email"]}
    other_session.create()
    return other_session.session_key


def erase(golden_id, servers, officer, clock):
    for code in CODES:
        script_erase(servers[code], SUBJECT_KEYS[code])
    request = approved_request("erasure", golden_id, officer, clock)
    services.privacy_request_run(request_id=request.pk, actor=officer, now=clock,
                                 dispatch=False)
    privacy_steps_run_due(now=clock)
    request.refresh_from_db()
    assert request.state == PrivacyRequest.State.COMPLETED
    return request


def test_no_value_of_an_erased_subject_is_left_in_any_column_of_any_table(
        servers, subject, officer, person):
    other_session_key = plant_personal_data_where_careless_code_might(subject, person)
    values = subject_values(person)
    assert len(leaks(values)) > 10  # the scan does find the subject while they are there
    others_before = other_person_rows()

    request = erase(subject, servers, officer, Clock())

    assert leaks(values) == []
    assert other_person_rows() == others_before  # other people's data untouched
    assert Session.objects.filter(session_key=other_session_key).exists()
    assert Entity.objects.get(pk=subject).state == Entity.State.ERASED
    counts = request.hub_erasure
    assert counts["records"] == 4 and counts["sessions_dropped"] == 1
    assert counts["events_scrubbed"] >= 1 and counts["admin_log_scrubbed"] >= 1
    assert counts["links_scrubbed"] >= 1
    # What remains is keyed hashes, never the values.
    kinds = sorted(SuppressionEntry.objects.filter(golden_id=subject)
                   .values_list("kind", flat=True))
    assert kinds == ["email", "name_birth_date", "phone", *["source_record"] * 4]
    assert all(len(entry.digest) == 64 for entry in SuppressionEntry.objects.all())


@pytest.mark.parametrize("resend", ["same_key", "new_key_same_email", "new_key_same_phone"])
def test_a_source_sending_the_erased_person_again_opens_a_suppression_review_task(
        servers, subject, officer, person, resend):
    erase(subject, servers, officer, Clock())
    key, attributes = SUBJECT_KEYS["crm"], dict(person)
    if resend == "new_key_same_email":
        key = "CRM-NEW-1"
        attributes = {"given_name": "Maggie", "email": person["email"].upper()}
    elif resend == "new_key_same_phone":
        key = "CRM-NEW-2"
        attributes = {"family_name": "Hale", "phone": "+44 20 7946 0321"}

    result = record_upsert(source_code="crm", source_key=key, attributes=attributes)

    assert result.outcome == "review" and result.golden_id is None
    record = SourceRecord.objects.get(source__code="crm", source_key=key)
    assert record.entity_id is None and record.state != SourceRecord.State.ACTIVE
    assert not record.blocking_keys.exists()
    task = ReviewTask.objects.get(source_record=record, state=ReviewTask.State.OPEN)
    assert (task.reason, task.candidate_entity_id) == ("suppressed", subject)
    assert result.review_tasks == [{"id": task.pk, "candidate_golden_id": subject,
                                    "score": 0.0, "reason": "suppressed"}]
    assert Entity.objects.filter(state=Entity.State.ACTIVE, records__source_key=key).count() == 0
    # Sending it again changes nothing and opens no second task.
    record_upsert(source_code="crm", source_key=key, attributes=attributes)
    assert ReviewTask.objects.filter(source_record=record).count() == 1


def test_other_people_are_linked_as_usual_after_an_erasure(servers, subject, officer):
    erase(subject, servers, officer, Clock())
    result = record_upsert(source_code="webshop", source_key="WEB-77", attributes=OTHER_PERSON)
    assert result.outcome == "linked"
    assert result.golden_id == SourceRecord.objects.get(source_key=OTHER_KEYS["crm"]).entity_id


def test_the_suppression_list_needs_its_key_and_says_so(servers, subject, officer, person,
                                                        settings):
    erase(subject, servers, officer, Clock())
    settings.PRIVACY_HMAC_KEY = ""
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="PRIVACY_HMAC_KEY"):
        record_upsert(source_code="crm", source_key="CRM-X", attributes=person)


def test_an_erasure_refuses_to_start_without_the_key(servers, subject, officer, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.PRIVACY_HMAC_KEY = ""
    request = approved_request("erasure", subject, officer, Clock())
    with pytest.raises(ImproperlyConfigured, match="PRIVACY_HMAC_KEY"):
        services.privacy_request_run(request_id=request.pk, actor=officer, dispatch=False)
    request.refresh_from_db()
    assert request.state == PrivacyRequest.State.APPROVED
    assert not servers["crm"].seen("DELETE")


def test_emails_are_hashed_in_canonical_form():
    assert canonical_email(" Jane.Doe+News@GoogleMail.com") == "janedoe@gmail.com"
    assert canonical_email("j.doe+x@example-mail.co.uk") == "j.doe@example-mail.co.uk"


# -- records that arrived through sync, with cursors, and an export before the erasure ---------

FIELDS = ("given_name", "family_name", "birth_date", "email", "phone", "address_line",
          "locality", "postcode", "country")
IDENTITY = {name: name for name in FIELDS}
EARLIER, LATEST = "2026-01-01T08:00:00Z", "2026-01-05T08:00:00Z"


def b64(position) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def synced_sources(servers, person, tmp_path, monkeypatch):
    """Four sources that sync the subject (the latest record in each, so that every cursor
    ends on the subject's key) and another person: a REST CRM with a base64 cursor, a REST
    support desk with an opaque one, a SQL billing database and a JSON Lines web shop."""
    other_keys = {code: f"{code.upper()}-1200-TJB" for code in CODES}
    rows = {code: [{"key": other_keys[code], "updated": EARLIER, **OTHER_PERSON},
                   {"key": SUBJECT_KEYS[code], "updated": LATEST, **person}]
            for code in CODES}
    cursors = {"crm": (b64([LATEST, SUBJECT_KEYS["crm"]]), "base64-json"),
               "support": (f"after:{SUBJECT_KEYS['support']}", "opaque")}
    for code in ("crm", "support"):
        cursor, layout = cursors[code]
        servers[code].script("GET", "/customers", lambda seen, code=code, cursor=cursor: Reply(
            200, {"items": [] if seen.query else rows[code], "next": cursor}))
        source_configure(code=code, connector_kind="http", field_mapping=IDENTITY,
                         erase_policy="delete", connector_settings={
                             "base_url": servers[code].url, "retry_attempts": 1,
                             "key_field": "key", "updated_at_field": "updated",
                             "cursor_format": layout})
    database = tmp_path / "billing.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute(f"CREATE TABLE customers (key text PRIMARY KEY, updated text, "
                     f"{', '.join(FIELDS)})")
        conn.executemany(f"INSERT INTO customers VALUES ({', '.join('?' * (len(FIELDS) + 2))})",
                         [[row["key"], row["updated"], *(row.get(f) for f in FIELDS)]
                          for row in rows["billing"]])
    conn.close()
    monkeypatch.setenv("SCAN_BILLING_DSN", f"sqlite:///{database}")
    source_configure(code="billing", connector_kind="sql", field_mapping=IDENTITY,
                     erase_policy="delete", connector_settings={
                         "dsn_env": "SCAN_BILLING_DSN", "erase_dsn_env": "SCAN_BILLING_DSN",
                         "table": "customers", "key_column": "key",
                         "updated_at_column": "updated"})
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "customers.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows["webshop"]))
    source_configure(code="webshop", connector_kind="file", field_mapping=IDENTITY,
                     erase_policy="delete", connector_settings={
                         "root": str(tmp_path / "shop"), "path": "customers.jsonl",
                         "key_field": "key", "updated_at_field": "updated"})
    for code in CODES:
        report = source_sync(source_code=code)
        assert (report.error, report.counts["new"]) == ("", 2), code
    return other_keys


def test_no_value_is_left_of_a_subject_synced_from_real_connectors_and_exported_before(
        servers, officer, person, tmp_path, monkeypatch):
    other_keys = synced_sources(servers, person, tmp_path, monkeypatch)
    subject = SourceRecord.objects.get(source__code="crm", source_key=SUBJECT_KEYS["crm"])
    golden_id = subject.entity_id
    assert set(SourceRecord.objects.filter(entity_id=golden_id).values_list(
        "source_key", flat=True)) == set(SUBJECT_KEYS.values())
    for code in ("crm", "support"):
        script_export(servers[code], SUBJECT_KEYS[code], {"key": SUBJECT_KEYS[code], **person})
    export, _ = run_request("export", golden_id, officer, Clock())
    assert export.state == "completed" and export.export_bundle is not None
    # A later export still open when the erasure completes has nothing left to do.
    pending_export = approved_request("export", golden_id, officer, Clock())
    values = subject_values(person)
    cursors = dict(SourceSystem.objects.values_list("code", "sync_cursor"))
    assert all(SUBJECT_KEYS[code].casefold() in (
        cursor if code != "crm" else base64.urlsafe_b64decode(cursor).decode()).casefold()
        for code, cursor in cursors.items())  # every cursor ends on the subject's key
    assert any(table == "hub_privacyrequest" for table, _, _ in leaks(values))

    request = erase(golden_id, servers, officer, Clock())

    assert leaks(values) == []
    after = dict(SourceSystem.objects.values_list("code", "sync_cursor"))
    assert json.loads(after["billing"]) == ["value", LATEST, None]
    assert json.loads(after["webshop"]) == [LATEST, None]
    assert base64.urlsafe_b64decode(after["crm"]) == json.dumps([LATEST, ""]).encode()
    assert after["support"] == ""  # opaque: the next sync starts over
    assert request.hub_erasure["sync_cursors_rewritten"] == 4
    assert request.hub_erasure["export_bundles_purged"] == 1
    with pytest.raises(ExportExpired):
        privacy_export_download(token=export.export_token)
    pending_export.refresh_from_db()
    assert pending_export.state == PrivacyRequest.State.CANCELLED
    # Other people's data and the sources' progress are intact: the next syncs resume.
    assert SourceRecord.objects.filter(source_key__in=other_keys.values(),
                                       state="active").count() == 4
    for code in ("billing", "webshop"):
        report = source_sync(source_code=code)
        assert (report.error, report.counts["new"]) == ("", 0), code
