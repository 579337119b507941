"""The hub's configuration of the four demo systems, written to ``DIR/sources.json``.

The format is what the hub's ``load_sources`` command reads: per source its code, name, trust
rank, connector kind and settings (secrets only as environment variable *names*), the field
mapping onto the canonical key attributes, and its privacy policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from demo_sources import billing, crm, support, webshop
from demo_sources.seed import FIELD_NAMES

_MARKETING = ["customer relationship management", "sales and marketing contact"]


def _mapping(source: str) -> dict[str, str]:
    return {own: canonical for canonical, own in FIELD_NAMES[source].items()}


def sources(*, data_dir: Path, crm_url: str, support_url: str) -> dict[str, Any]:
    """The ``{"sources": [...]}`` document for servers listening at the given base URLs."""
    return {"sources": [
        {"code": "crm", "name": "CRM", "trust_rank": 10, "connector_kind": "http",
         "connector_settings": {
             "base_url": crm_url, "token_env": crm.TOKEN_ENV,
             "fetch_path": "/customers/{key}", "list_path": "/customers",
             "cursor_param": "cursor", "cursor_format": "base64-json",
             "page_size_param": "limit", "page_size": 200,
             "items_field": "items", "next_cursor_field": "next", "key_field": "id",
             "version_field": "version", "updated_at_field": "updated_at",
             "deleted_field": "deleted", "erase_path": "/customers/{key}",
             "erase_method": "DELETE", "erased_count_field": "erased"},
         "field_mapping": _mapping("crm"), "erase_policy": "delete",
         "legal_basis": "Contract and legitimate interest (GDPR Art. 6(1)(b) and (f))",
         "purposes": _MARKETING,
         "data_categories": ["identity", "contact details", "postal address",
                             "national identifier", "marketing preferences"],
         "recipients": ["sales team", "marketing team"]},
        {"code": "billing", "name": "Billing", "trust_rank": 20, "connector_kind": "sql",
         "connector_settings": {
             "dsn_env": billing.DATABASE_URL_ENV, "table": billing.VIEW,
             "key_column": "customer_id", "updated_at_column": "updated_at",
             "version_column": "row_version", "page_size": 500},
         "field_mapping": _mapping("billing"), "erase_policy": "retain",
         "legal_basis": "Legal obligation (GDPR Art. 6(1)(c), Art. 17(3)(b)): invoices and the "
                        "billing identity on them are kept for the statutory tax retention "
                        "period",
         "purposes": ["invoicing", "tax and accounting records"],
         "data_categories": ["identity", "contact details", "billing address", "tax identifier",
                             "invoices and payments"],
         "recipients": ["finance team", "tax authorities", "auditors"]},
        {"code": "support", "name": "Support desk", "trust_rank": 40, "connector_kind": "http",
         "connector_settings": {
             "base_url": support_url, "token_env": support.TOKEN_ENV,
             "fetch_path": "/contacts/{key}", "record_field": "contact",
             "list_path": "/contacts", "cursor_param": "page_token",
             "cursor_format": "base64-json",
             "page_size_param": "per_page", "page_size": 200, "items_field": "data",
             "next_cursor_field": "meta.next_page_token", "key_field": "id",
             "version_field": "version", "updated_at_field": "updatedAt",
             "deleted_field": "anonymised", "erase_path": "/contacts/{key}/anonymise",
             "erase_method": "POST", "erase_idempotent": True,
             "erased_count_field": "erased"},
         "field_mapping": _mapping("support"), "erase_policy": "anonymise",
         "legal_basis": "Contract (GDPR Art. 6(1)(b)): answering the customer's requests",
         "purposes": ["customer support", "service quality statistics"],
         "data_categories": ["identity", "contact details", "support tickets"],
         "recipients": ["support team"]},
        {"code": "webshop", "name": "Web shop", "trust_rank": 30, "connector_kind": "file",
         "connector_settings": {
             "root": str((data_dir / webshop.ROOT).resolve()), "path": webshop.EXPORT_FILE,
             "format": "jsonl", "key_field": "customer_ref", "updated_at_field": "updated",
             "version_field": "revision", "page_size": 500},
         "field_mapping": _mapping("webshop"), "erase_policy": "delete",
         "legal_basis": "Contract (GDPR Art. 6(1)(b)): online orders and delivery",
         "purposes": ["order fulfilment and delivery", "newsletter (with consent)"],
         "data_categories": ["identity", "contact details", "delivery address",
                             "order history"],
         "recipients": ["logistics partners", "payment provider"]},
    ]}


def write(path: Path, document: dict[str, Any]) -> None:
    """Write the document as indented JSON (it holds no secrets, only variable names)."""
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
