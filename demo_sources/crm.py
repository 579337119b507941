"""The demo CRM: a REST API of customers in the CRM's own field names.

    GET    /customers?cursor=C&limit=N   {"items": [...], "next": C'}  (updated_at, id) order
    GET    /customers/{id}               the customer, 404 if unknown or erased
    DELETE /customers/{id}               erasure: the customer is deleted; 200 with
                                         {"id": ..., "erased": 1}, 404 if unknown or gone
    GET    /health                       no token needed

Every other call needs ``Authorization: Bearer <DEMO_CRM_TOKEN>``. An erased customer leaves a
tombstone holding only its id, a new version and ``deleted: true``, so a sync learns of the
deletion while nothing about the person remains. The erase answer counts the records erased,
so that the hub can tell an erasure from a call the source ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from demo_sources.rest import JsonApi, RecordStore, Reply, page_size

TOKEN_ENV = "DEMO_CRM_TOKEN"
STORE_FILE = Path("crm") / "customers.json"


def now_stamp() -> str:
    """The current UTC time in the sources' timestamp format."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class CrmApi(JsonApi):
    """Routes of the demo CRM over its record store."""

    name = "crm"

    def __init__(self, store: RecordStore, token: str):
        super().__init__(token)
        self.store = store
        self.route("GET", "/customers", self.list_customers)
        self.route("GET", r"/customers/(?P<key>[^/]+)", self.get_customer)
        self.route("DELETE", r"/customers/(?P<key>[^/]+)", self.delete_customer)

    @classmethod
    def open(cls, data_dir: Path, token: str) -> CrmApi:
        """The API over the store seeded in ``data_dir``."""
        return cls(RecordStore(data_dir / STORE_FILE, key_field="id",
                               updated_field="updated_at"), token)

    def list_customers(self, match, query) -> Reply:
        items, cursor = self.store.page(query.get("cursor"), page_size(query, "limit"))
        return 200, {"items": items, "next": cursor}

    def get_customer(self, match, query) -> Reply:
        record = self.store.get(match["key"])
        if record is None or record.get("deleted"):
            return 404, {"error": "customer not found"}
        return 200, record

    def delete_customer(self, match, query) -> Reply:
        def erase(record) -> bool:
            if record.get("deleted"):
                return False
            tombstone = {"id": record["id"], "version": record["version"] + 1,
                         "updated_at": now_stamp(), "deleted": True}
            record.clear()
            record.update(tombstone)
            return True

        changed = self.store.change(match["key"], erase)
        if not changed:
            return 404, {"error": "customer not found"}
        return 200, {"id": match["key"], "erased": 1}
