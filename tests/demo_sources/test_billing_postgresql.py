"""The demo billing database on PostgreSQL (``DEMO_BILLING_DATABASE_URL``), in a throwaway
database this module creates and drops, read by the hub's SQL connector as sources.json
configures it. Skipped without a PostgreSQL server, failed when the suite runs on PostgreSQL."""

import json

import psycopg
import pytest

from connectors import ErasureRefused, create
from demo_sources import billing, config, serve
from tests.connectors.postgres import throwaway_database
from tests.demo_sources.conftest import TOKENS


@pytest.fixture(scope="module")
def billing_url():
    with throwaway_database("demo_billing_test") as (_admin, _name, dsn):
        yield dsn


@pytest.fixture(scope="module")
def seeded(billing_url, tmp_path_factory):
    """A data directory seeded with billing in PostgreSQL; the environment the hub gets."""
    data_dir = tmp_path_factory.mktemp("demo")
    environ = {**TOKENS, billing.DATABASE_URL_ENV: billing_url}
    description = serve.prepare(data_dir, people=40, environ=environ)
    return data_dir, environ, description


def billing_connector(data_dir, environ, **overrides):
    """The hub's billing connector, from the configuration the demo writes."""
    document = config.sources(data_dir=data_dir, crm_url="http://127.0.0.1:1",
                              support_url="http://127.0.0.1:2")
    source = next(s for s in document["sources"] if s["code"] == "billing")
    return create("sql", {**source["connector_settings"], "mapping": source["field_mapping"],
                          "erase_policy": source["erase_policy"], **overrides},
                  environ=environ)


def query(url, statement, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(statement, params).fetchall()


def test_seeding_creates_the_tables_in_postgresql_and_a_restart_keeps_them(seeded, billing_url):
    data_dir, environ, description = seeded
    customers = query(billing_url, "SELECT count(*) FROM customers")[0][0]
    assert customers == description["records"]["billing"] > 0
    assert query(billing_url, "SELECT count(*) FROM invoices")[0][0] == (
        description["records"]["invoices"])
    assert not (data_dir / billing.SQLITE_FILE).exists()

    query(billing_url, "UPDATE customers SET payment_terms = 'kept' "
                       "WHERE customer_id = (SELECT min(customer_id) FROM customers) "
                       "RETURNING customer_id")
    serve.prepare(data_dir, people=40, environ=environ)  # a restart of the demo

    assert query(billing_url, "SELECT count(*) FROM customers")[0][0] == customers
    assert query(billing_url, "SELECT count(*) FROM customers "
                              "WHERE payment_terms = 'kept'")[0][0] == 1


def test_the_hubs_connector_lists_and_fetches_the_view_with_invoice_figures(seeded,
                                                                           billing_url):
    data_dir, environ, _ = seeded
    connector = billing_connector(data_dir, environ, page_size=7)
    keys = sorted(row[0] for row in query(billing_url, "SELECT customer_id FROM customers"))

    pages = list(connector.list_changes())
    listed = [change.key for page in pages for change in page.changes]
    record = connector.fetch(keys[0]).record

    assert sorted(listed) == keys and len(pages) > 1
    assert json.loads(pages[-1].cursor)[0] == "datetime"  # timestamptz, typed as such
    assert list(connector.list_changes(pages[-1].cursor)) == []
    assert pages[0].changes[0].attributes.get("family_name")
    assert {"invoice_count", "invoiced_cents", "unpaid_invoices", "last_invoice_on"} <= set(
        record)
    assert isinstance(record["updated_at"], str)  # plain JSON-ready values
    assert connector.fetch("NO-SUCH-KEY").status == "not_found"


def test_erasure_is_refused_under_the_legal_hold_and_a_wrong_statement_fails_visibly(
        seeded, billing_url):
    data_dir, environ, _ = seeded
    key = query(billing_url, "SELECT customer_id FROM customers c WHERE EXISTS "
                             "(SELECT 1 FROM invoices i WHERE i.customer_id = c.customer_id) "
                             "ORDER BY customer_id LIMIT 1")[0][0]
    with pytest.raises(ErasureRefused):
        billing_connector(data_dir, environ).erase(key)

    delete = billing_connector(
        data_dir, environ, erase_policy="delete", erase_dsn_env=billing.DATABASE_URL_ENV,
        erase_statement="DELETE FROM customers WHERE customer_id = %(key)s").erase(key)
    anonymise = billing_connector(
        data_dir, environ, erase_policy="anonymise", erase_dsn_env=billing.DATABASE_URL_ENV,
        erase_statement="UPDATE customers SET forename = NULL, surname = NULL, "
                        "email_address = NULL, phone_number = NULL, date_of_birth = NULL "
                        "WHERE customer_id = %(key)s").erase(key)

    # Its invoices reference the customer: PostgreSQL refuses the DELETE, and says so.
    assert delete.outcome == "error" and "23503" in delete.error and key not in delete.error
    assert (anonymise.outcome, anonymise.rows) == ("anonymised", 1)
    assert query(billing_url, "SELECT forename, email_address FROM customers "
                              "WHERE customer_id = %s", key) == [(None, None)]
