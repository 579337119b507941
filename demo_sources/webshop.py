"""The demo web shop's nightly export: one JSON Lines file of customers with their orders.

The file is ``webshop/customers.jsonl`` under the data directory; the hub's file connector reads
it with that folder as its root and erases by rewriting the file without the customer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from demo_sources.seed import DemoData

ROOT = Path("webshop")
EXPORT_FILE = "customers.jsonl"


def write(data_dir: Path, data: DemoData) -> bool:
    """Write the export unless it exists (erasures stay); True if it was written now."""
    path = data_dir / ROOT / EXPORT_FILE
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{EXPORT_FILE}.partial")
    with partial.open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(record, ensure_ascii=False) + "\n"
                       for record in data.webshop_customers)
    os.replace(partial, path)
    return True
