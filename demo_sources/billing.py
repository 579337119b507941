"""The demo billing database: customers and invoices, a SQLite file unless PostgreSQL is set.

``DEMO_BILLING_DATABASE_URL`` chooses the database: unset, the file ``billing/billing.sqlite3``
in the data directory (its DSN is then ``sqlite:///<absolute path>``); a ``postgresql://`` URL
uses that database (the tables are created there). The hub reads the view
``customer_accounts``: each customer row with its invoice count, total and last invoice date,
so a data-subject export shows what billing holds. Billing retains its records (tax law), so
nothing here erases.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from demo_sources.seed import DemoData

DATABASE_URL_ENV = "DEMO_BILLING_DATABASE_URL"
SQLITE_FILE = Path("billing") / "billing.sqlite3"
VIEW = "customer_accounts"

CUSTOMER_COLUMNS = (
    "customer_id", "forename", "surname", "date_of_birth", "email_address", "phone_number",
    "street", "street2", "city", "postal_code", "county", "country_code", "tax_id",
    "payment_terms", "currency", "created_at", "updated_at", "row_version",
)
INVOICE_COLUMNS = ("invoice_id", "customer_id", "issued_on", "due_on", "amount_cents",
                   "currency", "status")

# {date} and {moment} differ: text in SQLite (ISO strings sort correctly), real types in
# PostgreSQL, where the connector hands them back as ISO strings all the same.
_SCHEMA = """
CREATE TABLE customers (
    customer_id text PRIMARY KEY, forename text, surname text, date_of_birth {date},
    email_address text, phone_number text, street text, street2 text, city text,
    postal_code text, county text, country_code text, tax_id text, payment_terms text,
    currency text, created_at {moment} NOT NULL, updated_at {moment} NOT NULL,
    row_version integer NOT NULL);
CREATE INDEX customers_updated ON customers (updated_at, customer_id);
CREATE TABLE invoices (
    invoice_id text PRIMARY KEY,
    customer_id text NOT NULL REFERENCES customers (customer_id),
    issued_on {date} NOT NULL, due_on {date} NOT NULL, amount_cents integer NOT NULL,
    currency text NOT NULL, status text NOT NULL);
CREATE INDEX invoices_customer ON invoices (customer_id);
CREATE VIEW customer_accounts AS
SELECT c.*,
    (SELECT count(*) FROM invoices i WHERE i.customer_id = c.customer_id) AS invoice_count,
    (SELECT coalesce(sum(i.amount_cents), 0) FROM invoices i
     WHERE i.customer_id = c.customer_id) AS invoiced_cents,
    (SELECT count(*) FROM invoices i WHERE i.customer_id = c.customer_id
     AND i.status IN ('open', 'overdue')) AS unpaid_invoices,
    (SELECT max(i.issued_on) FROM invoices i
     WHERE i.customer_id = c.customer_id) AS last_invoice_on
FROM customers c;
"""


def billing_dsn(data_dir: Path, environ: Mapping[str, str]) -> str:
    """The configured PostgreSQL URL, or the DSN of the SQLite file in ``data_dir``."""
    return environ.get(DATABASE_URL_ENV) or f"sqlite:///{(data_dir / SQLITE_FILE).resolve()}"


def _statements(dialect: str) -> list[str]:
    types = ({"date": "text", "moment": "text"} if dialect == "sqlite"
             else {"date": "date", "moment": "timestamptz"})
    return [s.strip() for s in _SCHEMA.format(**types).split(";") if s.strip()]


def _rows(records: list[dict[str, Any]], columns: tuple[str, ...]) -> list[tuple]:
    return [tuple(record[column] for column in columns) for record in records]


def write_sqlite(path: Path, data: DemoData) -> bool:
    """Create and fill the SQLite file unless it exists (erasures and edits stay); True if new."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    try:
        with conn:
            for statement in _statements("sqlite"):
                conn.execute(statement)
            _insert(conn, "?", data)
    finally:
        conn.close()
    partial.replace(path)  # a crash mid-seed leaves no half-filled database behind
    return True


def write_postgresql(url: str, data: DemoData) -> bool:
    """Create and fill the tables in PostgreSQL unless ``customers`` exists; True if new."""
    import psycopg  # only needed, and only imported, when PostgreSQL is configured

    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('customers') IS NOT NULL").fetchone()[0]
        if exists:
            return False
        with conn.transaction():
            for statement in _statements("postgresql"):
                conn.execute(statement)
            with conn.cursor() as cur:
                _insert(cur, "%s", data)
    return True


def _insert(target: Any, marker: str, data: DemoData) -> None:
    for table, columns, records in (
        ("customers", CUSTOMER_COLUMNS, data.billing_customers),
        ("invoices", INVOICE_COLUMNS, data.billing_invoices),
    ):
        placeholders = ", ".join([marker] * len(columns))
        target.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "
                           f"VALUES ({placeholders})", _rows(records, columns))


def write(data_dir: Path, data: DemoData, environ: Mapping[str, str]) -> bool:
    """Write billing where ``environ`` says; True if it was created now."""
    dsn = billing_dsn(data_dir, environ)
    if dsn.startswith("sqlite:///"):
        return write_sqlite(Path(dsn[len("sqlite:///"):]), data)
    return write_postgresql(dsn, data)
