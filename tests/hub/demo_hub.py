"""The demo's four systems of record, seeded small, serving, and configured in the hub from the
``sources.json`` they write, for tests that run the hub against them."""

from contextlib import contextmanager

from django.core.management import call_command

from demo_sources import serve
from hub.services.connections import connectors_reset


@contextmanager
def demo_sources_configured(folder, monkeypatch, *, people: int, tokens: dict):
    """Seed and start the demo systems in ``folder`` (billing in SQLite), load their
    configuration into the hub, and yield the running servers; nothing is synced yet."""
    monkeypatch.delenv("DEMO_BILLING_DATABASE_URL", raising=False)
    for name, value in tokens.items():
        monkeypatch.setenv(name, value)
    serve.prepare(folder, people=people, environ=dict(tokens))
    running = serve.start(folder, crm_port=0, support_port=0, environ=dict(tokens))
    for line in (folder / "sources.env").read_text().splitlines():
        name, _, value = line.partition("=")
        monkeypatch.setenv(name, value)
    connectors_reset()
    try:
        call_command("load_sources", str(folder / "sources.json"))
        yield running
    finally:
        connectors_reset()
        running.close()
