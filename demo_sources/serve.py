"""Seeding a data directory and running the demo systems beside the hub.

    python -m demo_sources serve --data-dir DIR [--people N] [--seed S] [--host 127.0.0.1]
                                 [--crm-port 8101] [--support-port 8102]

On first use the data directory is seeded (``seed.json`` records with what); later starts reuse
it, so erasures and edits survive a restart. The two REST servers then listen, ``sources.json``
(the hub's source configuration) and ``sources.env`` (the non-secret variables the hub needs,
i.e. the billing DSN when it is a SQLite file) are written, and one line ``demo sources ready``
is printed. SIGTERM or Ctrl-C stops the servers.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

from demo_sources import billing, config, crm, support, webshop
from demo_sources.rest import RecordStore, read_token, start_server
from demo_sources.seed import DEFAULT_PEOPLE, DEFAULT_SEED, DemoData, build

READY_LINE = "demo sources ready"
SEED_FILE = "seed.json"


def prepare(data_dir: Path, *, people: int = DEFAULT_PEOPLE, seed: int = DEFAULT_SEED,
            environ: Mapping[str, str]) -> dict:
    """Seed ``data_dir`` unless it already is; the seed description (``seed.json``) either way.

    Each system's data is written only where it is missing, so a restart never undoes an
    erasure. A different ``people`` or ``seed`` than recorded is ignored: empty the directory
    to reseed.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    marker = data_dir / SEED_FILE
    if marker.exists():
        recorded = json.loads(marker.read_text())
        people, seed = recorded["people"], recorded["seed"]
    data: DemoData | None = None

    def demo_data() -> DemoData:
        nonlocal data
        data = data or build(people=people, seed=seed)
        return data

    for path, records in ((crm.STORE_FILE, lambda d: d.crm_customers),
                          (support.STORE_FILE, lambda d: d.support_contacts)):
        if not (data_dir / path).exists():
            RecordStore.write(data_dir / path, records(demo_data()))
    if not (data_dir / webshop.ROOT / webshop.EXPORT_FILE).exists():
        webshop.write(data_dir, demo_data())
    if billing.DATABASE_URL_ENV in environ or not (data_dir / billing.SQLITE_FILE).exists():
        # PostgreSQL is asked whether its tables exist; building the data only if needed
        # costs a second, so it is built here rather than threading laziness through.
        billing.write(data_dir, demo_data(), environ)
    if data is not None:
        counts = {"crm": len(data.crm_customers), "billing": len(data.billing_customers),
                  "support": len(data.support_contacts), "webshop": len(data.webshop_customers),
                  "invoices": len(data.billing_invoices)}
        marker.write_text(json.dumps({"people": people, "seed": seed, "records": counts}) + "\n")
    return json.loads(marker.read_text())


@dataclass
class RunningSources:
    """The two listening REST servers and where they listen."""

    crm: ThreadingHTTPServer
    support: ThreadingHTTPServer
    host: str

    def url(self, server: ThreadingHTTPServer) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{server.server_address[1]}"

    def close(self) -> None:
        """Stop both servers and close their sockets."""
        for server in (self.crm, self.support):
            server.shutdown()
            server.server_close()


def start(data_dir: Path, *, host: str = "127.0.0.1", crm_port: int = 8101,
          support_port: int = 8102, environ: Mapping[str, str]) -> RunningSources:
    """Start both REST servers over a prepared data dir and write the hub's configuration.

    TokenMissing if a token variable is unset: a demo system without a token would be open.
    """
    crm_token = read_token(crm.TOKEN_ENV, environ)
    support_token = read_token(support.TOKEN_ENV, environ)
    crm_server = start_server(crm.CrmApi.open(data_dir, crm_token), host, crm_port)
    try:
        support_server = start_server(support.SupportApi.open(data_dir, support_token),
                                      host, support_port)
    except BaseException:
        crm_server.shutdown()
        crm_server.server_close()
        raise
    running = RunningSources(crm_server, support_server, host)
    config.write(data_dir / "sources.json", config.sources(
        data_dir=data_dir, crm_url=running.url(crm_server),
        support_url=running.url(support_server)))
    variables = {}
    if billing.DATABASE_URL_ENV not in environ:  # a PostgreSQL URL may hold a password
        variables[billing.DATABASE_URL_ENV] = billing.billing_dsn(data_dir, environ)
    (data_dir / "sources.env").write_text(
        "".join(f"{name}={value}\n" for name, value in variables.items()))
    return running


def serve(data_dir: Path, *, people: int, seed: int, host: str, crm_port: int,
          support_port: int, environ: Mapping[str, str]) -> None:
    """Prepare, start, announce readiness, and run until SIGTERM or Ctrl-C."""
    for variable in (crm.TOKEN_ENV, support.TOKEN_ENV):
        read_token(variable, environ)  # refuse before spending time on seeding
    description = prepare(data_dir, people=people, seed=seed, environ=environ)
    running = start(data_dir, host=host, crm_port=crm_port, support_port=support_port,
                    environ=environ)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    counts = ", ".join(f"{name} {n}" for name, n in description["records"].items())
    print(f"demo sources: {counts} records ({description['people']} people); "
          f"crm {running.url(running.crm)}, support {running.url(running.support)}; "
          f"configuration in {data_dir / 'sources.json'}", flush=True)
    print(READY_LINE, flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.close()
