"""The SQL connector against a real SQLite file: same operations as on PostgreSQL, stdlib driver."""

import sqlite3

import pytest

from connectors import ConfigurationError, ErasureRefused, create

MAPPING = {"first_name": "given_name", "last_name": "family_name", "email": "email",
           "dob": "birth_date"}
ROWS = [  # id, first, last, email, dob, updated_at, version, deleted
    ("C1", "Margaret", "Okonkwo-Hale", "m@x.test", "1984-03-17", "2026-01-01T09:00:00Z", 1, 0),
    ("C2", "Ann", "Lee", "ann@x.test", None, "2026-01-01T09:00:00Z", 4, 0),
    ("C3", "Piotr", "Wojciechowski", None, "1990-01-01", "2026-01-01T09:00:00Z", 2, 0),
    ("C4", "Ben", "Ode", "ben@x.test", None, "2026-01-02T09:00:00Z", 1, 1),
    ("C5", "Chloe", "Park", "c@x.test", None, "2026-01-02T09:00:00Z", 7, 0),
]


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A SQLite file with a ``customers`` table; read and erase DSNs in the environment."""
    path = tmp_path / "billing.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("""
            CREATE TABLE customers (
                id text PRIMARY KEY, first_name text, last_name text, email text, dob text,
                updated_at text NOT NULL, row_version integer NOT NULL,
                is_deleted integer NOT NULL DEFAULT 0)""")
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    conn.close()
    monkeypatch.setenv("BILLING_READ_DSN", f"sqlite:///{path}")
    monkeypatch.setenv("BILLING_ERASE_DSN", f"sqlite:///{path}")
    return path


def connector(**overrides):
    settings = {"dsn_env": "BILLING_READ_DSN", "erase_dsn_env": "BILLING_ERASE_DSN",
                "table": "customers", "key_column": "id", "updated_at_column": "updated_at",
                "version_column": "row_version", "deleted_column": "is_deleted",
                "mapping": MAPPING, "erase_policy": "delete", **overrides}
    return create("sql", settings)


def count(path, where="1"):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT count(*) FROM customers WHERE {where}").fetchone()[0]
    finally:
        conn.close()


def test_fetch_returns_whole_rows_and_not_found(database):
    results = connector().fetch_many(["C1", "C99"])

    assert [r.status for r in results] == ["ok", "not_found"]
    assert results[0].record == {
        "id": "C1", "first_name": "Margaret", "last_name": "Okonkwo-Hale", "email": "m@x.test",
        "dob": "1984-03-17", "updated_at": "2026-01-01T09:00:00Z", "row_version": 1,
        "is_deleted": 0}
    assert connector().export("C3").record["last_name"] == "Wojciechowski"


def test_list_changes_pages_in_updated_at_then_key_order_and_resumes_after_ties(database):
    pages = list(connector(page_size=2).list_changes())

    assert [[c.key for c in page.changes] for page in pages] == [
        ["C1", "C2"], ["C3", "C4"], ["C5"]]
    first = pages[0].changes[0]
    assert first.attributes == {"given_name": "Margaret", "family_name": "Okonkwo-Hale",
                                "email": "m@x.test", "birth_date": "1984-03-17"}
    assert (first.version, first.updated_at, first.deleted) == (1, "2026-01-01T09:00:00Z", False)
    assert pages[1].changes[1].deleted is True
    resumed = list(connector(page_size=2).list_changes(pages[0].cursor))
    assert [c.key for page in resumed for c in page.changes] == ["C3", "C4", "C5"]
    assert list(connector().list_changes(pages[-1].cursor)) == []


def test_erase_with_delete_policy_deletes_one_row(database):
    result = connector().erase("C2")

    assert (result.outcome, result.rows, result.error) == ("deleted", 1, "")
    assert count(database, "id = 'C2'") == 0
    assert connector().erase("C2").outcome == "not_found"


def test_erase_with_anonymise_policy_runs_the_configured_update(database):
    statement = ("UPDATE customers SET first_name = NULL, email = NULL, row_version = "
                 "row_version + 1 WHERE id = %(key)s")

    result = connector(erase_policy="anonymise", erase_statement=statement).erase("C1")

    assert (result.outcome, result.rows) == ("anonymised", 1)
    assert count(database, "id = 'C1' AND first_name IS NULL AND row_version = 2") == 1


def test_erase_affecting_several_rows_is_rolled_back(database):
    statement = "DELETE FROM customers WHERE id = %(key)s OR row_version > 3"

    result = connector(erase_statement=statement).erase("C1")

    assert result.outcome == "error" and "rolled back" in result.error
    assert count(database) == len(ROWS)


def test_erase_through_a_read_only_dsn_is_a_visible_error(database, monkeypatch):
    monkeypatch.setenv("BILLING_ERASE_DSN", f"sqlite:///{database}?mode=ro")

    result = connector().erase("C1")

    assert result.outcome == "error" and "SQLITE_READONLY" in result.error
    assert "Margaret" not in result.error
    assert count(database, "id = 'C1'") == 1


def test_the_read_connection_refuses_writes_even_with_a_writable_dsn(database):
    conn = connector()._read_connection()
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM customers")
    finally:
        conn.close()
    assert count(database) == len(ROWS)


def test_erase_under_retain_policy_is_refused(database):
    with pytest.raises(ErasureRefused):
        connector(erase_policy="retain", erase_dsn_env=None).erase("C1")
    assert count(database, "id = 'C1'") == 1


def test_a_missing_file_is_reported_not_created(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere.sqlite3"
    monkeypatch.setenv("BILLING_READ_DSN", f"sqlite:///{missing}")
    monkeypatch.setenv("BILLING_ERASE_DSN", f"sqlite:///{missing}")

    health = connector().health()
    fetched = connector().fetch("C1")

    assert health.ok is False and "SQLITE_CANTOPEN" in health.detail
    assert fetched.status == "error" and "SQLITE_CANTOPEN" in fetched.error
    assert connector().erase("C1").outcome == "error"
    assert not missing.exists()


def test_health_is_ok_on_a_readable_file(database):
    assert connector().health().ok is True


def test_a_long_statement_is_interrupted_as_a_timeout(database):
    slow = connector(statement_timeout_ms=1)
    original = slow.dialect.sql

    def sleepy_select(text):  # a self-join big enough to outlast the 1 ms deadline
        return original(text.replace("SELECT {} FROM {}", "SELECT {} FROM {}, "
                                     "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                     "FROM n WHERE i < 3000000) SELECT max(i) FROM n)"))

    slow.dialect.sql = sleepy_select
    result = slow.fetch("C1")

    assert result.status == "timeout" and "SQLITE_INTERRUPT" in result.error


def test_mixed_or_malformed_dsns_are_configuration_errors(database, monkeypatch):
    monkeypatch.setenv("BILLING_ERASE_DSN", "host=127.0.0.1 dbname=billing")
    with pytest.raises(ConfigurationError, match="different kind of database"):
        connector()
    monkeypatch.setenv("BILLING_ERASE_DSN", f"sqlite:///{database}?mode=memory")
    with pytest.raises(ConfigurationError, match="mode=ro or mode=rw"):
        connector()


def test_identifiers_are_quoted_so_a_table_setting_cannot_inject_sql(database):
    hostile = connector(table='customers" WHERE 1=1; DROP TABLE customers; --')

    assert hostile.fetch("C1").status == "error"
    assert count(database) == len(ROWS)
