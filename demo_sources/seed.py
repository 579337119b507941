"""The demo's source data: four systems' own records of one synthetic population.

People and their noisy per-source views come from ``linkage.synthetic`` (typos, nicknames, moved
house, changed surname, other email addresses, phone formats, gaps, and the hard cases: twins,
parent and child of one name, spouses, namesakes). This module only dresses each view in its
system's own field names and adds what that system holds besides: CRM segments, support tickets,
invoices, web-shop orders. Every extra is drawn from a random stream seeded by the seed, the
source and the record key, so the same arguments give byte-identical data on every run.

    python -m demo_sources seed --data-dir DIR [--people N] [--seed S]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

from linkage.synthetic import generate_records

DEFAULT_PEOPLE = 5000
DEFAULT_SEED = 20251
SOURCES = ("crm", "billing", "support", "webshop")

# Timestamps lie in a fixed window, never "now": seeding twice must give the same versions.
_EPOCH = datetime(2019, 1, 1, tzinfo=UTC)
_WINDOW_DAYS = 6 * 365
_CURRENCY = {"GB": "GBP", "US": "USD"}
_SEGMENTS = ("retail", "retail", "retail", "premium", "small-business")
_ACCOUNT_OWNERS = ("sales-north", "sales-south", "key-accounts", "inside-sales")
_TICKET_SUBJECTS = (
    "Cannot log in", "Refund request", "Parcel not delivered", "Change of address",
    "Invoice question", "Product defect", "Cancel subscription", "Password reset",
)
_TICKET_CHANNELS = ("email", "phone", "chat", "web")
_LANGUAGES = {"GB": "en", "US": "en", "IE": "en", "DE": "de", "FR": "fr", "NL": "nl"}

# Each system's own names for the canonical key attributes (None: the system does not keep it).
FIELD_NAMES: dict[str, dict[str, str]] = {
    "crm": {"given_name": "first_name", "family_name": "last_name", "birth_date": "dob",
            "email": "email", "phone": "mobile", "address_line": "street",
            "address_line2": "street2", "locality": "city", "postcode": "zip",
            "region": "state", "country": "country", "national_id": "national_id"},
    "billing": {"given_name": "forename", "family_name": "surname",
                "birth_date": "date_of_birth", "email": "email_address",
                "phone": "phone_number", "address_line": "street", "address_line2": "street2",
                "locality": "city", "postcode": "postal_code", "region": "county",
                "country": "country_code", "national_id": "tax_id"},
    "support": {"given_name": "firstName", "family_name": "lastName", "birth_date": "birthday",
                "email": "emailAddress", "phone": "phoneNumber", "address_line": "addressLine",
                "address_line2": "addressLine2", "locality": "city",
                "postcode": "postalCode", "region": "region", "country": "countryCode"},
    "webshop": {"given_name": "given", "family_name": "family", "birth_date": "birthdate",
                "email": "mail", "phone": "tel", "address_line": "address1",
                "address_line2": "address2", "locality": "town", "postcode": "zip",
                "region": "region", "country": "country"},
}


@dataclass
class DemoData:
    """Everything the four demo systems hold, plus the truth (which person each record is)."""

    crm_customers: list[dict[str, Any]] = field(default_factory=list)
    support_contacts: list[dict[str, Any]] = field(default_factory=list)
    billing_customers: list[dict[str, Any]] = field(default_factory=list)
    billing_invoices: list[dict[str, Any]] = field(default_factory=list)
    webshop_customers: list[dict[str, Any]] = field(default_factory=list)
    truth: list[dict[str, Any]] = field(default_factory=list)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(rnd: Random, after: datetime | None = None) -> datetime:
    start = after or _EPOCH
    room = max(1, int((_EPOCH + timedelta(days=_WINDOW_DAYS) - start).total_seconds()))
    return start + timedelta(seconds=int(rnd.random() * room))


def _own_fields(source: str, record: dict[str, Any]) -> dict[str, Any]:
    return {own: record.get(canonical) for canonical, own in FIELD_NAMES[source].items()}


def _lifecycle(rnd: Random) -> tuple[datetime, datetime, int]:
    created = _moment(rnd)
    version = 1 + int(rnd.random() ** 2 * 6)  # most records were edited rarely
    updated = created if version == 1 else _moment(rnd, created)
    return created, updated, version


def _crm(record: dict[str, Any], rnd: Random) -> dict[str, Any]:
    created, updated, version = _lifecycle(rnd)
    return {"id": record["source_key"], **_own_fields("crm", record),
            "segment": rnd.choice(_SEGMENTS), "account_owner": rnd.choice(_ACCOUNT_OWNERS),
            "marketing_opt_in": rnd.random() < 0.4, "created_at": _stamp(created),
            "updated_at": _stamp(updated), "version": version, "deleted": False}


def _support(record: dict[str, Any], rnd: Random, next_ticket: list[int]) -> dict[str, Any]:
    created, updated, version = _lifecycle(rnd)
    tickets = []
    for _ in range(int(rnd.random() ** 1.5 * 7)):
        opened = _moment(rnd, created)
        status = rnd.choice(("open", "pending", "solved", "solved", "closed", "closed"))
        closed = _stamp(_moment(rnd, opened)) if status in ("solved", "closed") else None
        next_ticket[0] += 1
        tickets.append({"id": f"T-{next_ticket[0]:06d}", "subject": rnd.choice(_TICKET_SUBJECTS),
                        "status": status, "channel": rnd.choice(_TICKET_CHANNELS),
                        "priority": rnd.choice(("low", "normal", "normal", "high")),
                        "opened_at": _stamp(opened), "closed_at": closed})
    tickets.sort(key=lambda ticket: ticket["opened_at"])
    return {"id": record["source_key"], **_own_fields("support", record),
            "language": _LANGUAGES.get(record.get("country") or "", "en"),
            "createdAt": _stamp(created), "updatedAt": _stamp(updated), "version": version,
            "anonymised": False, "tickets": tickets}


def _billing(record: dict[str, Any], rnd: Random, invoices: list[dict[str, Any]],
             next_invoice: list[int]) -> dict[str, Any]:
    created, updated, version = _lifecycle(rnd)
    currency = _CURRENCY.get(record.get("country") or "", "EUR")
    for _ in range(int(rnd.random() * 9)):
        issued = _moment(rnd, created).date()
        status = rnd.choice(("paid", "paid", "paid", "paid", "open", "overdue", "void"))
        next_invoice[0] += 1
        invoices.append({"invoice_id": f"INV-{issued.year}-{next_invoice[0]:06d}",
                         "customer_id": record["source_key"], "issued_on": issued.isoformat(),
                         "due_on": (issued + timedelta(days=30)).isoformat(),
                         "amount_cents": 500 + int(rnd.random() ** 2 * 60000),
                         "currency": currency, "status": status})
    return {"customer_id": record["source_key"], **_own_fields("billing", record),
            "payment_terms": rnd.choice(("net30", "net30", "net14", "prepaid")),
            "currency": currency, "created_at": _stamp(created), "updated_at": _stamp(updated),
            "row_version": version}


def _webshop(record: dict[str, Any], rnd: Random) -> dict[str, Any]:
    created, updated, version = _lifecycle(rnd)
    currency = _CURRENCY.get(record.get("country") or "", "EUR")
    orders = []
    for number in range(int(rnd.random() ** 1.3 * 8)):
        placed = _moment(rnd, created)
        orders.append({"order_id": f"{record['source_key']}-O{number + 1}",
                       "placed_at": _stamp(placed), "items": 1 + int(rnd.random() ** 2 * 6),
                       "total": round(5 + rnd.random() ** 2 * 400, 2), "currency": currency,
                       "status": rnd.choice(("delivered", "delivered", "shipped", "returned"))})
    orders.sort(key=lambda order: order["placed_at"])
    return {"customer_ref": record["source_key"], **_own_fields("webshop", record),
            "newsletter": rnd.random() < 0.3, "registered": _stamp(created)[:10],
            "updated": _stamp(updated), "revision": version, "orders": orders}


def build(*, people: int = DEFAULT_PEOPLE, seed: int = DEFAULT_SEED) -> DemoData:
    """All four systems' records for ``people`` synthetic people, the same for the same seed."""
    data = DemoData()
    next_ticket, next_invoice = [0], [0]
    for record in generate_records(people=people, seed=seed, sources=SOURCES,
                                   with_scenarios=True):
        source, key = record["source"], record["source_key"]
        # One stream per record: its extras do not shift when another record changes.
        rnd = Random(f"{seed}:{source}:{key}")
        if source == "crm":
            data.crm_customers.append(_crm(record, rnd))
        elif source == "support":
            data.support_contacts.append(_support(record, rnd, next_ticket))
        elif source == "billing":
            data.billing_customers.append(
                _billing(record, rnd, data.billing_invoices, next_invoice))
        else:
            data.webshop_customers.append(_webshop(record, rnd))
        data.truth.append({"source": source, "source_key": key, "person_id": record["person_id"],
                           "scenario": record["scenario"],
                           "scenario_group": record["scenario_group"]})
    return data
