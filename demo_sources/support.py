"""The demo support desk: contacts and their tickets over REST, anonymised on erasure.

    GET  /contacts?page_token=C&per_page=N   {"data": [...], "meta": {"next_page_token": C'}}
    GET  /contacts/{id}                      {"contact": {..., "tickets": [...],
                                              "ticket_stats": {...}}}, 404 if unknown
    POST /contacts/{id}/anonymise            erasure: 200 with {"id": ..., "anonymised": true,
                                             "erased": 1}; repeating it changes nothing
    GET  /health                             no token needed

Listed contacts leave their tickets out (a sync needs only the key attributes). Anonymising
blanks every personal field of the contact and every ticket subject, keeps ticket ids, status,
channel, priority and dates (the desk's statistics), and marks the contact ``anonymised``.
``erased`` counts the contacts that are anonymised when the call returns (1, also when an
earlier call did it, so that a retried call is not mistaken for one the desk ignored).
Every other call needs ``Authorization: Bearer <DEMO_SUPPORT_TOKEN>``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from demo_sources.crm import now_stamp
from demo_sources.rest import JsonApi, RecordStore, Reply, page_size
from demo_sources.seed import FIELD_NAMES

TOKEN_ENV = "DEMO_SUPPORT_TOKEN"
STORE_FILE = Path("support") / "contacts.json"
PERSONAL_FIELDS = tuple(FIELD_NAMES["support"].values())


def ticket_stats(tickets: list[dict]) -> dict:
    """Counts by status, and the total."""
    return {"total": len(tickets), **Counter(ticket["status"] for ticket in tickets)}


class SupportApi(JsonApi):
    """Routes of the demo support desk over its record store."""

    name = "support"

    def __init__(self, store: RecordStore, token: str):
        super().__init__(token)
        self.store = store
        self.route("GET", "/contacts", self.list_contacts)
        self.route("GET", r"/contacts/(?P<key>[^/]+)", self.get_contact)
        self.route("POST", r"/contacts/(?P<key>[^/]+)/anonymise", self.anonymise_contact)

    @classmethod
    def open(cls, data_dir: Path, token: str) -> SupportApi:
        """The API over the store seeded in ``data_dir``."""
        return cls(RecordStore(data_dir / STORE_FILE, key_field="id",
                               updated_field="updatedAt"), token)

    def list_contacts(self, match, query) -> Reply:
        items, cursor = self.store.page(query.get("page_token"), page_size(query, "per_page"))
        for item in items:
            item["ticketCount"] = len(item.pop("tickets"))
        return 200, {"data": items, "meta": {"next_page_token": cursor}}

    def get_contact(self, match, query) -> Reply:
        record = self.store.get(match["key"])
        if record is None:
            return 404, {"error": "contact not found"}
        record["ticket_stats"] = ticket_stats(record["tickets"])
        return 200, {"contact": record}

    def anonymise_contact(self, match, query) -> Reply:
        def anonymise(record) -> bool:
            if record["anonymised"]:
                return False
            record.update(dict.fromkeys(PERSONAL_FIELDS))
            for ticket in record["tickets"]:
                ticket["subject"] = None
            record.update(anonymised=True, version=record["version"] + 1, updatedAt=now_stamp())
            return True

        changed = self.store.change(match["key"], anonymise)
        if changed is None:
            return 404, {"error": "contact not found"}
        return 200, {"id": match["key"], "anonymised": True, "erased": 1}
