"""Sync: full and incremental loads through the ingest path, resumable and idempotent."""

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from connectors.base import ConnectorError
from hub.models import Event, SourceRecord, SourceSystem
from hub.services.connections import connectors_reset, source_connector
from hub.services.sources import source_configure
from hub.services.sync import SyncInterrupted, source_sync
from tests.connectors.scripted_server import Reply, ScriptedServer

FIELDS = ["id", "first", "last", "born", "mail", "updated", "gone"]
MAPPING = {"first": "given_name", "last": "family_name", "born": "birth_date", "mail": "email"}
PEOPLE = [
    ("K1", "Margaret", "Okonkwo", "1984-03-17", "m.okonkwo@example.org"),
    ("K2", "Tobias", "Lindqvist", "1990-11-02", "tobias@example.se"),
    ("K3", "Aiko", "Tanaka", "1975-06-30", "aiko.t@example.jp"),
    ("K4", "Rui", "Carvalho", "1969-01-05", "rui.c@example.pt"),
    ("K5", "Ines", "Moreau", "2001-12-24", "ines@example.fr"),
    ("K6", "Pavel", "Novak", "1988-08-08", "pavel.n@example.cz"),
]


def write_rows(folder, rows):
    with open(folder / "customers.csv", "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(dict(zip(FIELDS, row, strict=False)))


def rows(day="2024-01-01", people=PEOPLE):
    return [(*person, f"{day}T10:00:0{i}Z", "") for i, person in enumerate(people)]


@pytest.fixture
def file_source(db, tmp_path):
    connectors_reset()
    write_rows(tmp_path, rows())
    source, _ = source_configure(
        code="files", connector_kind="file", field_mapping=MAPPING, erase_policy="delete",
        connector_settings={"root": str(tmp_path), "path": "customers.csv", "key_field": "id",
                            "updated_at_field": "updated", "deleted_field": "gone",
                            "page_size": 2})
    yield source
    connectors_reset()


def counts(report):
    return report.as_dict()["counts"]


def record_events():
    return Event.objects.filter(kind__startswith="record.").count()


def test_first_load_ingests_every_record_and_stores_the_cursor(file_source):
    report = source_sync(source_code="files")
    assert counts(report) == {"new": 6, "changed": 0, "unchanged": 0, "deleted": 0,
                              "rejected": 0}
    assert report.completed and report.pages == 3
    assert SourceRecord.objects.filter(source=file_source, state="active").count() == 6
    file_source.refresh_from_db()
    assert file_source.sync_cursor and file_source.last_synced_at
    event = Event.objects.get(kind="source.synced")
    assert event.payload["counts"]["new"] == 6 and event.payload["completed"] is True
    assert "Margaret" not in str(event.payload) and "K1" not in str(event.payload)


def test_second_run_changes_nothing(file_source):
    source_sync(source_code="files")
    before = record_events()
    again = source_sync(source_code="files")
    assert counts(again) == {"new": 0, "changed": 0, "unchanged": 0, "deleted": 0,
                             "rejected": 0}
    full = source_sync(source_code="files", full=True)
    assert counts(full) == {"new": 0, "changed": 0, "unchanged": 6, "deleted": 0,
                            "rejected": 0}
    assert record_events() == before


def test_incremental_load_reads_only_what_changed_since_the_cursor(file_source, tmp_path):
    source_sync(source_code="files")
    changed = rows()
    changed[1] = ("K2", "Tobias", "Lindqvist", "1990-11-02", "tobias.l@example.se",
                  "2024-02-01T00:00:00Z", "")
    changed.append(("K7", "Lena", "Fischer", "1993-04-12", "lena@example.de",
                    "2024-02-02T00:00:00Z", ""))
    write_rows(tmp_path, changed)
    report = source_sync(source_code="files")
    assert counts(report) == {"new": 1, "changed": 1, "unchanged": 0, "deleted": 0,
                              "rejected": 0}
    assert SourceRecord.objects.get(source_key="K2").attributes["email"] == "tobias.l@example.se"


def test_deleted_rows_leave_their_entity(file_source, tmp_path):
    source_sync(source_code="files")
    gone = rows()
    gone[0] = (*PEOPLE[0], "2024-03-01T00:00:00Z", "true")
    gone.append(("K9", "Never", "Seen", "", "", "2024-03-02T00:00:00Z", "true"))
    write_rows(tmp_path, gone)
    report = source_sync(source_code="files")
    assert counts(report)["deleted"] == 1 and counts(report)["unchanged"] == 1
    record = SourceRecord.objects.get(source_key="K1")
    assert record.state == "deleted" and record.entity is None


def test_rejected_items_are_counted_with_reasons_and_the_rest_is_loaded(file_source, tmp_path):
    bad = rows()
    bad[2] = ("K3", "Aiko", "Tanaka", "1975-02-31", "aiko.t@example.jp",
              "2024-01-01T10:00:02Z", "")
    bad[4] = ("K5", "Ines", "Moreau", "2001-12-24", "ines@example.fr", "last tuesday", "")
    write_rows(tmp_path, bad)
    report = source_sync(source_code="files")
    assert counts(report) == {"new": 4, "changed": 0, "unchanged": 0, "deleted": 0,
                              "rejected": 2}
    assert dict(report.reasons) == {"birth_date: impossible date": 1,
                                    "updated_at: not an ISO date-time": 1}
    assert not SourceRecord.objects.filter(source_key__in=["K3", "K5"]).exists()
    assert "1975-02-31" not in str(Event.objects.get(kind="source.synced").payload)


class FailingAfter:
    """Wraps a connector: its listing fails with ``error`` once ``pages`` pages were given."""

    def __init__(self, connector, pages, error):
        self.connector, self.pages, self.error = connector, pages, error

    def list_changes(self, since_cursor=None):
        for number, page in enumerate(self.connector.list_changes(since_cursor)):
            if number == self.pages:
                raise self.error
            yield page


def test_a_source_failing_mid_way_keeps_committed_pages_and_resume_adds_no_duplicates(
        file_source):
    failure = ConnectorError("GET /customers/K5: HTTP 502", code="HTTP 502")
    broken = FailingAfter(source_connector(file_source), 2, failure)
    report = source_sync(source_code="files", connector=broken)
    assert not report.completed and report.pages == 2
    assert report.error == "HTTP 502 (ConnectorError)"  # the code, not the message with a key
    assert SourceRecord.objects.count() == 4
    resumed = source_sync(source_code="files")
    assert counts(resumed)["new"] == 2 and counts(resumed)["unchanged"] == 0
    assert SourceRecord.objects.count() == 6
    assert Event.objects.filter(kind="record.created").count() == 6


def test_ctrl_c_between_pages_raises_with_partial_counts_and_resumes(file_source):
    broken = FailingAfter(source_connector(file_source), 1, KeyboardInterrupt())
    with pytest.raises(SyncInterrupted) as caught:
        source_sync(source_code="files", connector=broken)
    assert caught.value.report.pages == 1 and counts(caught.value.report)["new"] == 2
    assert counts(source_sync(source_code="files"))["new"] == 4
    assert Event.objects.filter(kind="record.created").count() == 6


def test_interruption_inside_a_page_rolls_back_the_page_and_its_cursor(file_source, tmp_path,
                                                                       monkeypatch):
    source_sync(source_code="files")
    cursor = SourceSystem.objects.get(code="files").sync_cursor
    later = [("K8", "Olga", "Petrova", "1980-05-05", "olga@example.ru",
              "2024-05-01T00:00:00Z", ""),
             (*PEOPLE[1], "2024-05-02T00:00:00Z", "true")]
    write_rows(tmp_path, rows() + later)

    def interrupted_delete(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("hub.services.sync.record_delete", interrupted_delete)
    with pytest.raises(SyncInterrupted) as caught:
        source_sync(source_code="files")
    assert caught.value.report.pages == 0 and counts(caught.value.report)["new"] == 0
    assert not SourceRecord.objects.filter(source_key="K8").exists()
    assert SourceSystem.objects.get(code="files").sync_cursor == cursor
    monkeypatch.undo()
    report = source_sync(source_code="files")
    assert counts(report)["new"] == 1 and counts(report)["deleted"] == 1


def test_limit_pages_stops_early_and_the_next_run_continues(file_source):
    first = source_sync(source_code="files", limit_pages=1)
    assert first.pages == 1 and not first.completed
    rest = source_sync(source_code="files")
    assert counts(rest)["new"] == 4 and rest.completed


def test_sync_command_reports_counts_and_shows_progress(file_source, capsys):
    out = StringIO()
    call_command("sync", "files", stdout=out)
    assert out.getvalue().strip() == (
        "files: 6 new, 0 changed, 0 unchanged, 0 deleted, 0 rejected (3 pages)")
    assert "files: 6 changes" in capsys.readouterr().err


def test_sync_command_names_unknown_sources(db):
    with pytest.raises(CommandError, match="sync incomplete for: nope"):
        call_command("sync", "nope", "--no-progress", stdout=StringIO(), stderr=StringIO())


def test_sync_over_http_follows_cursors_and_second_run_changes_nothing(db):
    connectors_reset()
    items = [{"id": f"H{n}", "first": name, "last": "Sample", "v": 1}
             for n, name in enumerate(["Ann", "Bea", "Cid"])]

    def listing(request):
        if request.query.get("cursor") in (None, "0"):
            return Reply(200, {"items": items[:2], "next": "2"})
        return Reply(200, {"items": items[2:], "next": None})

    with ScriptedServer() as server:
        server.script("GET", "/customers", listing)
        source_configure(code="crm", connector_kind="http", erase_policy="delete",
                         field_mapping={"first": "given_name", "last": "family_name"},
                         connector_settings={"base_url": server.url, "version_field": "v"})
        first = source_sync(source_code="crm")
        second = source_sync(source_code="crm")
    assert counts(first)["new"] == 3 and first.pages == 2
    assert SourceSystem.objects.get(code="crm").sync_cursor == "2"
    # The last page is read again from its own cursor; replaying it changes nothing.
    assert counts(second) == {"new": 0, "changed": 0, "unchanged": 1, "deleted": 0,
                              "rejected": 0}
    connectors_reset()


def test_a_failing_source_is_reported_by_code_without_keys_or_values(file_source, tmp_path):
    # The "gone" column read as the version: one row's is not a number, which stops the sync.
    source_configure(code="files", connector_kind="file", field_mapping=MAPPING,
                     erase_policy="delete",
                     connector_settings={"root": str(tmp_path), "path": "customers.csv",
                                         "key_field": "id", "updated_at_field": "updated",
                                         "version_field": "gone", "page_size": 2})
    write_rows(tmp_path, [*rows(), ("K4-BAD", "Rui", "Carvalho", "1969-01-05",
                                    "rui.c@example.pt", "2024-01-02T00:00:00Z", "twelve")])
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="sync incomplete for: files"):
        call_command("sync", "files", "--no-progress", stdout=out, stderr=err)

    assert "files: stopped after 3 pages: bad version (ConnectorError)" in err.getvalue()
    event = Event.objects.get(kind="source.synced")
    assert (event.payload["failed"], event.payload["error"]) == (
        True, "bad version (ConnectorError)")
    printed = out.getvalue() + err.getvalue()
    for value in ("K4-BAD", "Rui", "Carvalho", "rui.c@example.pt", "twelve"):
        assert value not in printed and value not in str(event.payload)


def test_an_http_source_failing_is_reported_by_code_without_keys(db):
    connectors_reset()
    items = [{"id": "H-4411-MOH", "first": "Ann", "last": "Sample", "v": "first"}]
    with ScriptedServer() as server:
        server.script("GET", "/customers", Reply(200, {"items": items, "next": None}))
        source_configure(code="crm", connector_kind="http", erase_policy="delete",
                         field_mapping={"first": "given_name", "last": "family_name"},
                         connector_settings={"base_url": server.url, "version_field": "v"})
        report = source_sync(source_code="crm")
    connectors_reset()
    assert report.error == "malformed response (MalformedResponse)"
    assert "H-4411-MOH" not in str(Event.objects.get(kind="source.synced").payload)
