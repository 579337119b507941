"""A seeded data directory with both REST servers running on free ports, and the hub's own
connectors built from the ``sources.json`` the demo writes."""

import json

import pytest

from connectors import create
from demo_sources import serve

PEOPLE = 60
TOKENS = {"DEMO_CRM_TOKEN": "crm-test-token", "DEMO_SUPPORT_TOKEN": "support-test-token"}


def build_connectors(data_dir, environ, **overrides):
    """One connector per source, exactly as the hub would configure them from sources.json."""
    document = json.loads((data_dir / "sources.json").read_text())
    built = {}
    for source in document["sources"]:
        settings = {**source["connector_settings"], "mapping": source["field_mapping"],
                    "erase_policy": source["erase_policy"], **overrides.get(source["code"], {})}
        built[source["code"]] = create(source["connector_kind"], settings, environ=environ)
    return built


@pytest.fixture
def environ():
    """The variables dev.py would hand to both processes (no billing URL: SQLite)."""
    return dict(TOKENS)


@pytest.fixture
def running(tmp_path, environ):
    """Prepared data in ``tmp_path`` and the two servers listening; stopped afterwards."""
    serve.prepare(tmp_path, people=PEOPLE, environ=environ)
    sources = serve.start(tmp_path, crm_port=0, support_port=0, environ=environ)
    for line in (tmp_path / "sources.env").read_text().splitlines():
        name, _, value = line.partition("=")
        environ[name] = value  # the hub process gets these from dev.py
    yield sources
    sources.close()


@pytest.fixture
def hub_connectors(running, tmp_path, environ):
    """The hub's connectors for the four running demo systems."""
    built = build_connectors(tmp_path, environ)
    yield built
    for connector in built.values():
        connector.close()
