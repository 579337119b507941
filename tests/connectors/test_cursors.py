"""Sync cursors forget erased keys: key-less positions where the layout is known, else cleared.

Each kind is also listed from its rewritten cursor against real data (a SQLite database, a
file, the demo REST servers in tests/demo_sources), where the resume must skip nothing."""

import base64
import json
import sqlite3

import pytest

from connectors import create, cursor_forget
from connectors.cursors import reveals

KEY = "CRM-7731-MOH"
MAPPING = {"first": "given_name"}


def b64(value, padded=True) -> str:
    encoded = base64.urlsafe_b64encode(json.dumps(value).encode()).decode()
    return encoded if padded else encoded.rstrip("=")


@pytest.mark.parametrize("cursor", [
    KEY, f"after:{KEY}", json.dumps(["2024-12-09T23:29:38Z", KEY]),
    b64(["2024-12-09T23:29:38Z", KEY]), b64(["2024-12-09T23:29:38Z", KEY], padded=False),
    base64.b64encode(json.dumps({"last": KEY.lower()}).encode()).decode(),
    "pos%3DCRM-7731-MOH", json.dumps(["2024", "Crm-\u00e9-1"]),
])
def test_a_key_is_found_however_the_cursor_wraps_it(cursor):
    assert reveals(cursor, ["nope", KEY, "CRM-\u00c9-1"])


@pytest.mark.parametrize("cursor,keys", [
    (json.dumps(["2024-12-09T23:29:38Z", "CRM-0001"]), [KEY]),
    (json.dumps(["datetime", "2024-12-09T23:29:38", 17]), ["9", "3", "202", "1"]),
    (b64(["2024-12-09T23:29:38Z", "CRM-7731-MOHX"]), [KEY]),
    ("", [KEY]),
])
def test_other_keys_and_digits_inside_a_timestamp_are_not_a_key(cursor, keys):
    assert not reveals(cursor, keys)


def test_sql_cursor_on_an_erased_key_becomes_the_key_less_position_of_its_instant():
    cursor = json.dumps(["datetime", "2026-01-02T09:00:00+00:00", KEY])

    assert json.loads(cursor_forget("sql", {}, cursor, [KEY])) == [
        "datetime", "2026-01-02T09:00:00+00:00", None]
    assert cursor_forget("sql", {}, cursor, ["CRM-1"]) == cursor
    integer_key = json.dumps(["value", "2026-01-02", 5])
    assert json.loads(cursor_forget("sql", {}, integer_key, ["5"])) == ["value", "2026-01-02",
                                                                         None]


def test_file_cursor_forgets_a_key_and_a_fingerprint_cursor_holds_none():
    assert json.loads(cursor_forget("file", {}, json.dumps(["2026-01-02", KEY]), [KEY])) == [
        "2026-01-02", None]
    fingerprint = json.dumps(["9f2c41aa07e3b1d0", 40])
    assert cursor_forget("file", {}, fingerprint, ["40", "9f2c41aa07e3b1d0x"]) == fingerprint


def test_http_cursor_in_a_declared_layout_keeps_its_position_with_an_empty_key():
    position = ["2024-12-09T23:29:38Z", KEY]

    rewritten = cursor_forget("http", {"cursor_format": "base64-json"}, b64(position), [KEY])
    plain = cursor_forget("http", {"cursor_format": "json"}, json.dumps(position), [KEY])
    unpadded = cursor_forget("http", {"cursor_format": "base64-json"},
                             b64(position, padded=False), [KEY])

    assert rewritten == b64(["2024-12-09T23:29:38Z", ""])
    assert json.loads(plain) == ["2024-12-09T23:29:38Z", ""]
    assert unpadded == b64(["2024-12-09T23:29:38Z", ""], padded=False)
    assert cursor_forget("http", {"cursor_format": "base64-json"}, b64(position),
                         ["CRM-1"]) == b64(position)


def test_a_cursor_the_kind_cannot_read_is_cleared_only_when_it_reveals_the_key():
    opaque = b64(["2024-12-09T23:29:38Z", KEY])

    assert cursor_forget("http", {}, opaque, [KEY]) == ""  # the next sync starts over
    assert cursor_forget("http", {}, opaque, ["CRM-1"]) == opaque
    assert cursor_forget("sql", {}, f"v1:{KEY}", [KEY]) == ""
    assert cursor_forget("no-such-kind", {}, f"v1:{KEY}", [KEY]) == ""
    assert cursor_forget("http", {"cursor_format": "json"}, f"v1:{KEY}", [KEY]) == ""


# -- resuming from a rewritten cursor against real data ----------------------------------------

ROWS = [  # key, first, updated_at: three rows share the instant of the erased one
    ("A-1", "Ann", "2026-01-01T09:00:00Z"), ("B-1", "Bea", "2026-01-02T09:00:00Z"),
    (KEY, "Margaret", "2026-01-02T09:00:00Z"), ("Z-1", "Zoe", "2026-01-02T09:00:00Z"),
    ("C-1", "Cid", "2026-01-03T09:00:00Z"),
]


def keys_listed(connector, cursor):
    return [change.key for page in connector.list_changes(cursor) for change in page.changes]


@pytest.fixture
def sqlite_source(tmp_path, monkeypatch):
    path = tmp_path / "source.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id text PRIMARY KEY, first text, updated text)")
        conn.executemany("INSERT INTO people VALUES (?, ?, ?)", ROWS)
    conn.close()
    monkeypatch.setenv("PEOPLE_DSN", f"sqlite:///{path}")
    return create("sql", {"dsn_env": "PEOPLE_DSN", "table": "people", "key_column": "id",
                          "updated_at_column": "updated", "mapping": MAPPING, "page_size": 3})


def test_a_sql_listing_resumes_from_a_forgotten_key_without_skipping_a_row(sqlite_source):
    [first, _] = list(sqlite_source.list_changes())
    assert [c.key for c in first.changes] == ["A-1", "B-1", KEY]

    rewritten = cursor_forget("sql", {}, first.cursor, [KEY])

    assert KEY not in rewritten
    # The rows of the erased row's instant come again (replays), then the rest; none is lost.
    assert keys_listed(sqlite_source, rewritten) == ["B-1", KEY, "Z-1", "C-1"]


def test_a_file_listing_resumes_from_a_forgotten_key_without_skipping_a_record(tmp_path):
    (tmp_path / "people.jsonl").write_text("".join(
        json.dumps({"id": key, "first": first, "updated": updated}) + "\n"
        for key, first, updated in ROWS))
    connector = create("file", {"root": str(tmp_path), "path": "people.jsonl", "key_field": "id",
                                "updated_at_field": "updated", "mapping": MAPPING,
                                "page_size": 3})
    first = next(connector.list_changes())

    rewritten = cursor_forget("file", {"updated_at_field": "updated"}, first.cursor, [KEY])

    assert KEY not in rewritten
    assert keys_listed(connector, rewritten) == ["B-1", KEY, "Z-1", "C-1"]
