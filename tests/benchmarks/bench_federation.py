"""Benchmark: GET /api/entities/{id}/records against four local HTTP sources answering in 50 ms.

    python tests/benchmarks/bench_federation.py [--calls 500] [--source-delay-ms 50]
        [--database-url URL]

Starts four threaded HTTP servers on 127.0.0.1, each answering one customer record after the
delay, configures them as the sources of one entity in a fresh SQLite database (or in the
PostgreSQL database given, which is EMPTIED first, as bench_ingest does), and calls the
API through Django's test client. Prints the API's p50/p99 next to the slowest source's own
p50/p99 (measured with a plain HTTP client): a concurrent fan-out costs about one source's
latency plus the hub's overhead, a sequential one four times it. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("crm", "billing", "support", "webshop")
PERSON = {"given_name": "Margaret", "family_name": "Okonkwo-Hale", "birth_date": "1984-03-17",
          "email": "m.okonkwo@example-mail.co.uk", "postcode": "N7 8QT", "country": "GB"}


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


class SlowSource:
    """A threaded HTTP server answering every GET with a small JSON record after ``delay``."""

    def __init__(self, delay: float):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real REST source would offer
            # Headers and body go out in two writes; without TCP_NODELAY the body waits for
            # the client's delayed ACK (40 ms on Linux), which would measure the kernel.
            disable_nagle_algorithm = True

            def do_GET(self):
                time.sleep(delay)
                body = json.dumps({"id": self.path.rsplit("/", 1)[-1],
                                   "segment": "retail"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _latencies(call, count: int) -> list[float]:
    values = []
    for _ in range(count):
        before = time.perf_counter()
        call()
        values.append((time.perf_counter() - before) * 1000)
    return values


def run_benchmark(*, calls: int, source_delay_ms: float = 50.0) -> dict:
    """Serve four sources, link one record in each to one entity, time ``calls`` API calls."""
    import httpx
    from rest_framework.test import APIClient

    from hub.services.connections import connectors_reset
    from hub.services.ingest import record_upsert
    from hub.services.sources import source_configure
    from hub.services.tokens import token_issue

    servers = {code: SlowSource(source_delay_ms / 1000) for code in SOURCES}
    connectors_reset()
    try:
        golden_id = None
        for code, server in servers.items():
            source_configure(code=code, connector_kind="http", erase_policy="delete",
                             field_mapping={"first": "given_name", "last": "family_name"},
                             connector_settings={"base_url": server.url})
            golden_id = record_upsert(source_code=code, source_key=f"{code}-1",
                                      attributes=PERSON).golden_id
        token, _ = token_issue(username="bench-app")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        url = f"/api/entities/{golden_id}/records"
        warm = client.get(url).json()  # first call builds the connectors
        statuses = sorted(block["status"] for block in warm["records"])
        api_ms = _latencies(lambda: client.get(url), calls)
        source_ms = {}
        with httpx.Client() as plain:
            for code, server in servers.items():
                source_ms[code] = _latencies(
                    lambda u=f"{server.url}/customers/{code}-1": plain.get(u),
                    max(10, min(calls, 100)))
    finally:
        connectors_reset()
        for server in servers.values():
            server.close()
    slowest = max(source_ms, key=lambda code: percentile(source_ms[code], 0.5))
    return {
        "benchmark": "federation_entity_records",
        "calls": calls,
        "sources": len(SOURCES),
        "source_delay_ms": source_delay_ms,
        "statuses": statuses,
        "api_p50_ms": round(percentile(api_ms, 0.50), 2),
        "api_p99_ms": round(percentile(api_ms, 0.99), 2),
        "slowest_source": slowest,
        "slowest_source_p50_ms": round(percentile(source_ms[slowest], 0.50), 2),
        "slowest_source_p99_ms": round(percentile(source_ms[slowest], 0.99), 2),
        "sequential_estimate_ms": round(sum(percentile(v, 0.5) for v in source_ms.values()), 2),
    }


def _prepare_database(url: str) -> str:
    """Migrate (and empty) the database at ``url``; returns its vendor."""
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # httpx logs every request at INFO
    sys.path.insert(0, str(ROOT))
    from django.test.utils import setup_test_environment

    from tests.benchmarks.bench_ingest import _prepare_database as prepare

    vendor = prepare(url)
    setup_test_environment()  # lets the test client's "testserver" host through
    return vendor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--source-delay-ms", type=float, default=50.0)
    sys.path.insert(0, str(ROOT))
    from tests.benchmarks.bench_ingest import database_url_argument, run_on_database

    database_url_argument(parser)
    args = parser.parse_args()
    figures = run_on_database(args.database_url, lambda: run_benchmark(
        calls=args.calls, source_delay_ms=args.source_delay_ms), prepare=_prepare_database)
    print(f"{figures['calls']} calls of GET /api/entities/{{id}}/records on "
          f"{figures['database']} over "
          f"{figures['sources']} sources ({figures['statuses']}):")
    print(f"  API            p50 {figures['api_p50_ms']} ms, p99 {figures['api_p99_ms']} ms")
    print(f"  slowest source p50 {figures['slowest_source_p50_ms']} ms, "
          f"p99 {figures['slowest_source_p99_ms']} ms ({figures['slowest_source']}); "
          f"sequential would be about {figures['sequential_estimate_ms']} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
