"""The SQL connector against a real PostgreSQL, in a throwaway database with a read-only role.

Without a PostgreSQL server these tests are skipped, except when ``DATABASE_URL`` points at
PostgreSQL (CI): then an unreachable server fails them (``tests/connectors/postgres.py``).
"""

import json
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from connectors import ConfigurationError, ErasureRefused, create, cursor_forget, validate
from tests.connectors.postgres import admin_connection, postgres_required, throwaway_database

MAPPING = {"first_name": "given_name", "last_name": "family_name", "email": "email",
           "dob": "birth_date"}
T1 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
ROWS = [  # id, first, last, email, dob, updated_at, version, deleted
    (1, "Margaret", "Okonkwo-Hale", "m@x.test", "1984-03-17", T1, 1, False),
    (2, "Ann", "Lee", "ann@x.test", None, T1, 4, False),
    (3, "Piotr", "Wojciechowski", None, "1990-01-01", T1, 2, False),
    (4, "Ben", "Ode", "ben@x.test", None, T2, 1, True),
    (5, "Chloe", "Park", "c@x.test", None, T2, 7, False),
]


@pytest.fixture(scope="session")
def database():
    """A fresh database with a ``customers`` table and a SELECT-only login role; dropped after."""
    reader = f"connectors_ro_{uuid.uuid4().hex[:10]}"
    with throwaway_database("connectors_test") as (admin, _name, owner):
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(reader)))
        try:
            with psycopg.connect(owner) as conn:
                conn.execute("""
                    CREATE TABLE customers (
                        id integer PRIMARY KEY, first_name text, last_name text, email text,
                        dob date, updated_at timestamptz NOT NULL, row_version integer NOT NULL,
                        is_deleted boolean NOT NULL DEFAULT false)""")
                conn.execute(sql.SQL("GRANT SELECT ON customers TO {}").format(
                    sql.Identifier(reader)))
            yield {"owner": owner, "reader": make_conninfo(owner, user=reader)}
        finally:
            # The role holds privileges in the database, so it can go only once that has.
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(_name)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(reader)))


def test_an_unreachable_server_skips_except_when_the_suite_runs_on_postgresql():
    nowhere = "host=127.0.0.1 port=1 user=nobody dbname=postgres"

    with pytest.raises(pytest.fail.Exception, match="must run"):
        admin_connection(nowhere, environ={"DATABASE_URL": "postgresql://ci@127.0.0.1/hub"})
    with pytest.raises(pytest.skip.Exception):
        admin_connection(nowhere, environ={"DATABASE_URL": "sqlite:///hub.sqlite3"})
    with pytest.raises(pytest.skip.Exception):
        admin_connection(nowhere, environ={})
    assert postgres_required({"DATABASE_URL": "postgres://x/y"})


@pytest.fixture
def customers(database):
    """The ROWS, freshly loaded for each test."""
    with psycopg.connect(database["owner"]) as conn:
        conn.execute("TRUNCATE customers")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO customers VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", ROWS)
    return database


@pytest.fixture
def env(customers, monkeypatch):
    """The DSNs exist only in the environment; settings name the variables."""
    monkeypatch.setenv("BILLING_READ_DSN", customers["reader"])
    monkeypatch.setenv("BILLING_ERASE_DSN", customers["owner"])
    return customers


def connector(**overrides):
    settings = {"dsn_env": "BILLING_READ_DSN", "erase_dsn_env": "BILLING_ERASE_DSN",
                "table": "customers", "key_column": "id", "updated_at_column": "updated_at",
                "version_column": "row_version", "deleted_column": "is_deleted",
                "mapping": MAPPING, "erase_policy": "delete", **overrides}
    return create("sql", settings)


def count(dsn, where="true"):
    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT count(*) FROM customers WHERE {where}").fetchone()[0]


def test_fetch_returns_whole_rows_as_plain_data_and_not_found(env):
    results = connector().fetch_many(["1", "99"])

    assert [r.status for r in results] == ["ok", "not_found"]
    assert results[0].record["email"] == "m@x.test"
    assert results[0].record["dob"] == "1984-03-17"
    assert results[0].record["updated_at"] == T1.isoformat()


def test_export_returns_the_row(env):
    assert connector().export("3").record["last_name"] == "Wojciechowski"


def test_list_changes_pages_in_updated_at_then_key_order_with_canonical_attributes(env):
    pages = list(connector(page_size=2).list_changes())

    assert [[c.key for c in page.changes] for page in pages] == [["1", "2"], ["3", "4"], ["5"]]
    first = pages[0].changes[0]
    assert first.attributes == {"given_name": "Margaret", "family_name": "Okonkwo-Hale",
                                "email": "m@x.test", "birth_date": "1984-03-17"}
    assert (first.version, first.updated_at, first.deleted) == (1, T1, False)
    assert pages[1].changes[1].deleted is True


def test_list_changes_resumes_after_a_saved_cursor_without_skipping_ties(env):
    first_page = next(connector(page_size=2).list_changes())

    resumed = list(connector(page_size=2).list_changes(first_page.cursor))

    assert [c.key for page in resumed for c in page.changes] == ["3", "4", "5"]
    final_cursor = resumed[-1].cursor
    assert list(connector().list_changes(final_cursor)) == []
    with psycopg.connect(env["owner"]) as conn:
        conn.execute("UPDATE customers SET updated_at = now(), row_version = 2 WHERE id = 1")
    again = list(connector().list_changes(final_cursor))
    assert [(c.key, c.version) for page in again for c in page.changes] == [("1", 2)]


def test_erase_with_delete_policy_deletes_one_row(env):
    result = connector().erase("2")

    assert (result.outcome, result.rows, result.error) == ("deleted", 1, "")
    assert count(env["owner"], "id = 2") == 0
    assert connector().erase("2").outcome == "not_found"


def test_erase_with_anonymise_policy_runs_the_configured_update(env):
    statement = ("UPDATE customers SET first_name = NULL, last_name = NULL, email = NULL, "
                 "dob = NULL WHERE id = %(key)s")

    result = connector(erase_policy="anonymise", erase_statement=statement).erase("1")

    assert (result.outcome, result.rows) == ("anonymised", 1)
    assert count(env["owner"], "id = 1 AND first_name IS NULL AND email IS NULL") == 1


def test_erase_affecting_no_row_of_an_existing_record_is_an_error(env):
    statement = "UPDATE customers SET email = NULL WHERE id = %(key)s AND false"

    result = connector(erase_policy="anonymise", erase_statement=statement).erase("1")

    assert result.outcome == "error" and "0 rows" in result.error


def test_erase_affecting_several_rows_is_rolled_back(env):
    statement = "DELETE FROM customers WHERE id = %(key)s OR id > 3"

    result = connector(erase_statement=statement).erase("1")

    assert result.outcome == "error" and "rolled back" in result.error
    assert count(env["owner"]) == len(ROWS)


def test_erase_through_the_read_only_role_is_a_visible_error(env, monkeypatch):
    monkeypatch.setenv("BILLING_ERASE_DSN", env["reader"])

    result = connector().erase("1")

    assert result.outcome == "error" and "42501" in result.error
    assert "Margaret" not in result.error
    assert count(env["owner"], "id = 1") == 1


def test_the_read_session_refuses_writes_even_with_a_privileged_dsn(env, monkeypatch):
    monkeypatch.setenv("BILLING_READ_DSN", env["owner"])
    read_only_refusal = pytest.raises(psycopg.errors.ReadOnlySqlTransaction)
    with connector()._read_connection() as conn, read_only_refusal:
        conn.execute("DELETE FROM customers")


def test_erase_under_retain_policy_is_refused(env):
    with pytest.raises(ErasureRefused):
        connector(erase_policy="retain", erase_dsn_env=None).erase("1")
    assert count(env["owner"], "id = 1") == 1


def test_reads_and_erasures_use_their_own_connections(env):
    opened = []

    def factory(conninfo):
        opened.append(conninfo)
        return psycopg.connect(conninfo)

    sql_connector = create("sql", {"dsn_env": "BILLING_READ_DSN",
                                   "erase_dsn_env": "BILLING_ERASE_DSN", "table": "customers",
                                   "key_column": "id", "mapping": MAPPING,
                                   "erase_policy": "delete"}, connection_factory=factory)
    sql_connector.erase("5")

    assert opened == [env["reader"], env["owner"]]


def test_health_is_ok_and_reports_an_unreachable_database(env, monkeypatch):
    assert connector().health().ok is True
    monkeypatch.setenv("BILLING_READ_DSN", "host=127.0.0.1 port=1 user=nobody connect_timeout=1")
    health = connector().health()
    assert health.ok is False and "OperationalError" in health.detail


def test_a_missing_dsn_variable_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("NO_SUCH_DSN", raising=False)
    with pytest.raises(ConfigurationError, match="NO_SUCH_DSN"):
        create("sql", {"dsn_env": "NO_SUCH_DSN", "table": "customers", "key_column": "id",
                       "mapping": MAPPING})


def test_erase_settings_are_checked_for_a_parameterised_statement_of_the_right_kind():
    base = {"dsn_env": "R", "erase_dsn_env": "W", "table": "customers", "key_column": "id",
            "mapping": MAPPING}

    assert validate("sql", {**base, "erase_policy": "anonymise"}) == [
        ("erase_statement", "an UPDATE is required to anonymise")]
    problems = validate("sql", {**base, "erase_policy": "delete",
                                "erase_statement": "DELETE FROM customers WHERE id = '1'; "
                                                   "DROP TABLE customers"})
    assert ("erase_statement", "must use the parameter %(key)s") in problems
    assert ("erase_statement", "must be a single statement") in problems
    assert validate("sql", {**base, "erase_policy": "delete", "erase_dsn_env": None}) == [
        ("erase_dsn_env", "required when erase_policy is delete")]
    assert ("dsn_env", "must name an environment variable, not hold the secret itself") in (
        validate("sql", {**base, "dsn_env": "postgresql://u:pw@db/x"}))


def test_a_cursor_that_forgot_an_erased_key_resumes_with_every_row_of_that_instant(env):
    pages = list(connector(page_size=2).list_changes())
    last_of_first = pages[0].changes[-1].key  # (T1, 2): row 3 shares T1 and comes after it

    rewritten = cursor_forget("sql", {}, pages[0].cursor, [last_of_first])

    assert json.loads(rewritten)[2] is None
    resumed = [c.key for page in connector(page_size=2).list_changes(rewritten)
               for c in page.changes]
    assert resumed == ["1", "2", "3", "4", "5"]  # T1 again: replays, and nothing skipped
