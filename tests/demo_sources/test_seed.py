"""Seeding: deterministic, every system in its own shape, duplicates and hard cases present."""

import json
import sqlite3
from collections import defaultdict

from demo_sources import serve
from demo_sources.seed import build


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    first, second = build(people=80, seed=7), build(people=80, seed=7)

    assert first == second
    assert build(people=80, seed=8).crm_customers != first.crm_customers


def test_each_system_uses_its_own_field_names_and_extras():
    data = build(people=80, seed=1)

    crm, contact = data.crm_customers[0], data.support_contacts[0]
    assert {"id", "first_name", "last_name", "dob", "mobile", "version", "updated_at"} <= set(crm)
    assert "given_name" not in crm
    assert {"firstName", "lastName", "emailAddress", "tickets", "updatedAt"} <= set(contact)
    assert {"forename", "surname", "tax_id", "row_version"} <= set(data.billing_customers[0])
    assert {"customer_ref", "given", "mail", "orders", "revision"} <= set(
        data.webshop_customers[0])
    billed = {c["customer_id"] for c in data.billing_customers}
    assert data.billing_invoices and {i["customer_id"] for i in data.billing_invoices} <= billed
    tickets = [t["id"] for c in data.support_contacts for t in c["tickets"]]
    assert tickets and len(tickets) == len(set(tickets))


def test_people_appear_in_several_sources_with_differences_and_hard_cases_are_present():
    data = build(people=600, seed=3)
    by_person = defaultdict(set)
    for row in data.truth:
        by_person[row["person_id"]].add(row["source"])

    assert len({p for p, sources in by_person.items() if len(sources) >= 2}) > 100
    assert {"twin", "parent_child", "spouse", "common_name"} <= {
        row["scenario"] for row in data.truth}
    # The same person's CRM and web-shop records disagree somewhere (typo, moved, new email...).
    crm = {r["id"]: r for r in data.crm_customers}
    shop = {r["customer_ref"]: r for r in data.webshop_customers}
    keys = defaultdict(dict)
    for row in data.truth:
        keys[row["person_id"]][row["source"]] = row["source_key"]
    pairs = [(crm[k["crm"]], shop[k["webshop"]]) for k in keys.values()
             if "crm" in k and "webshop" in k]
    differing = [a for a, b in pairs if (a["email"], a["last_name"], a["zip"])
                 != (b["mail"], b["family"], b["zip"])]
    assert pairs and 0 < len(differing) < len(pairs)


def test_preparing_two_directories_gives_identical_files(tmp_path):
    for name in ("a", "b"):
        serve.prepare(tmp_path / name, people=40, environ={})

    for relative in ("crm/customers.json", "support/contacts.json", "webshop/customers.jsonl",
                     "seed.json"):
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes()
    rows = []
    for name in ("a", "b"):
        conn = sqlite3.connect(tmp_path / name / "billing" / "billing.sqlite3")
        rows.append(conn.execute("SELECT * FROM customer_accounts ORDER BY 1").fetchall())
        conn.close()
    assert rows[0] and rows[0] == rows[1]


def test_preparing_again_keeps_what_is_there_so_erasures_stick(tmp_path):
    serve.prepare(tmp_path, people=40, environ={})
    export = tmp_path / "webshop" / "customers.jsonl"
    kept = export.read_text().splitlines()[1:]
    export.write_text("\n".join(kept) + "\n")

    description = serve.prepare(tmp_path, people=999, seed=5, environ={})

    assert export.read_text().splitlines() == kept
    assert (description["people"], json.loads((tmp_path / "seed.json").read_text())["people"]) \
        == (40, 40)
