"""Benchmark: the steward workbench's pages over the demo, with source records fetched live.

    python tests/benchmarks/bench_workbench.py [--people 5000] [--tasks 10] [--repeats 10]
                                               [--database-url postgresql://...]

Does what ``python3 dev.py demo`` does, in a temporary folder: starts the four demo source
systems (``python -m demo_sources serve`` in a process of its own: the REST CRM and support desk
on free ports, the SQL billing database and the web-shop export as files) seeded with
``--people`` synthetic people, configures them in a fresh hub database (a SQLite file unless
``--database-url``) with ``manage.py load_sources``, pulls every record in with ``manage.py
sync`` (matched in real time, so the review queue fills as in the demo) and creates the demo
login with ``manage.py load_demo``. Then it times with Django's test client, logged in as the
demo admin:

- ``queue``: the review queue as it opens (priority order), filtered by a source with another
  order, and filtered by assignee and age;
- ``task_page``: the first ``--tasks`` tasks of the queue, plus for any source those miss the
  first task that involves it (so every connector is exercised below);
- ``task_with_source_records``: each of those task pages followed by the live fetch of both
  sides' full records through the real connectors, one side after the other as the page's
  script does (what a steward waits for after pressing "r");
- ``entity_page``: the candidate customer of each of those tasks;
- ``dashboard``.

Each page is requested once to warm up (templates, connectors), then each of its URLs
``--repeats`` times. Printed per page: p50 and max of a request, and the most SQL queries one
request made. Target: every max under 300 ms. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_MS = 300.0
DEMO_TOKENS = ("DEMO_CRM_TOKEN", "DEMO_SUPPORT_TOKEN")
DEMO_SOURCES = ("crm", "billing", "support", "webshop")
READY_LINE = "demo sources ready"  # what demo_sources/serve.py prints once it listens


@contextmanager
def demo_sources_running(data_dir: Path, *, people: int) -> Iterator[dict[str, str]]:
    """The demo source systems serving ``data_dir`` in their own process, started as
    ``dev.py demo`` starts them but on free ports and with fresh tokens; yields the variables
    the hub's connectors need (both tokens and the billing DSN from ``sources.env``).

    Billing stays a SQLite file in ``data_dir`` even if ``DEMO_BILLING_DATABASE_URL`` is set
    here, so that a benchmark never writes into somebody's PostgreSQL.
    """
    variables = {name: secrets.token_urlsafe(24) for name in DEMO_TOKENS}
    environ = {k: v for k, v in os.environ.items() if k != "DEMO_BILLING_DATABASE_URL"}
    process = subprocess.Popen(
        [sys.executable, "-m", "demo_sources", "serve", "--data-dir", str(data_dir),
         "--people", str(people), "--crm-port", "0", "--support-port", "0"],
        cwd=ROOT, env={**environ, **variables}, stdout=subprocess.PIPE, text=True)
    try:
        said = []
        for line in process.stdout:
            said.append(line)
            if line.strip() == READY_LINE:
                break
        else:
            raise RuntimeError("the demo source systems did not start:\n" + "".join(said))
        # Keep reading what they print, so that a full pipe never blocks them.
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
        for line in (data_dir / "sources.env").read_text().splitlines():
            name, _, value = line.partition("=")
            if name:
                variables[name] = value
        yield variables
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """``variables`` set in this process's environment (the connectors read their secrets
    there), and the previous values put back afterwards."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def hub_load_demo(data_dir: Path) -> float:
    """``load_sources``, ``sync`` and ``load_demo`` as ``dev.py demo`` runs them; returns the
    seconds the sync took."""
    from django.core.management import call_command
    from django.test import override_settings

    call_command("load_sources", str(data_dir / "sources.json"), stdout=StringIO())
    started = time.perf_counter()
    call_command("sync", no_progress=True, stdout=StringIO())
    seconds = time.perf_counter() - started
    # load_demo finds the records in place and only adds the admin login (it insists on DEBUG
    # because of the known password).
    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())
    return seconds


def tasks_to_visit(user, count: int) -> list:
    """The first ``count`` tasks of the queue in its default order, plus for each demo source
    none of them involves the first task that does (either side's entity holding a record of
    it), so that the live fetch goes through every connector."""
    from django.db.models import Q

    from hub.admin.workbench.queue import ordered_tasks, queue_params
    from hub.models import SourceRecord
    from hub.selectors.workbench import thresholds_current

    ordered = ordered_tasks(user, queue_params({}), thresholds_current())
    chosen = list(ordered[:count])
    if not chosen:
        raise RuntimeError("the demo opened no review task: use more --people")

    def covered() -> set[str]:
        entities = {gid for task in chosen
                    for gid in (task.source_record.entity_id, task.candidate_entity_id) if gid}
        return set(SourceRecord.objects.filter(entity_id__in=entities, state="active")
                   .values_list("source__code", flat=True))

    for code in DEMO_SOURCES:
        if code in covered():
            continue
        holding = SourceRecord.objects.filter(source__code=code, state="active")
        extra = ordered.filter(Q(source_record__entity__in=holding.values("entity_id"))
                               | Q(candidate_entity__in=holding.values("entity_id"))).first()
        if extra is not None:
            chosen.append(extra)
    return chosen


def _visit(client, urls: list[str], statuses: Counter | None = None) -> float:
    """GET ``urls`` one after the other; milliseconds in all. Counts each live-record block's
    (source, status) into ``statuses`` when given."""
    started = time.perf_counter()
    responses = [client.get(url) for url in urls]
    elapsed = (time.perf_counter() - started) * 1000
    for url, response in zip(urls, responses, strict=True):
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        if statuses is not None and response["Content-Type"].startswith("application/json"):
            statuses.update((block["source"], block["status"])
                            for block in response.json()["blocks"])
    return elapsed


def _queries(client, urls: list[str]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        _visit(client, urls)
    return len(captured.captured_queries)


def time_pages(client, pages: dict[str, list[list[str]]], repeats: int,
               statuses: Counter) -> dict[str, dict]:
    """Per page: p50 and max over every timed visit of each of its URL lists, and the most
    queries one visit made. The first visit of each page warms up and is not counted."""
    figures = {}
    for name, visits in pages.items():
        _visit(client, visits[0])
        timings = []
        for urls in visits:
            for round_ in range(repeats):
                timings.append(_visit(client, urls, statuses if round_ == 0 else None))
        figures[name] = {
            "p50_ms": round(statistics.median(timings), 1),
            "max_ms": round(max(timings), 1),
            "samples": len(timings),
            "queries": max(_queries(client, urls) for urls in visits),
        }
    return figures


def run_benchmark(*, people: int, tasks: int, repeats: int, folder: Path) -> dict:
    """Start the demo sources in ``folder``, load them into the configured (empty) hub
    database and time the workbench pages."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from hub.models import Entity, ReviewTask, SourceRecord
    from hub.services.connections import connectors_reset

    data_dir = folder / "demo-sources"
    with demo_sources_running(data_dir, people=people) as variables, environment(variables):
        connectors_reset()  # connectors built before these variables were set must go
        try:
            sync_seconds = hub_load_demo(data_dir)
            user = get_user_model().objects.get(username="admin")
            client = Client()
            client.force_login(user)
            visited = tasks_to_visit(user, tasks)
            queue = reverse("admin:workbench_queue")
            pages = {
                "queue": [[queue], [f"{queue}?source=billing&order=score_desc"],
                          [f"{queue}?assignee=unassigned&age=day"]],
                "task_page": [[reverse("admin:workbench_task", args=[t.pk])] for t in visited],
                "task_with_source_records": [
                    [reverse("admin:workbench_task", args=[t.pk]),
                     *(reverse("admin:workbench_source_records", args=[gid])
                       for gid in dict.fromkeys([t.source_record.entity_id,
                                                 t.candidate_entity_id]) if gid)]
                    for t in visited],
                "entity_page": [[reverse("admin:workbench_entity",
                                         args=[t.candidate_entity_id])] for t in visited],
                "dashboard": [[reverse("admin:workbench_dashboard")]],
            }
            statuses: Counter = Counter()
            figures = time_pages(client, pages, repeats, statuses)
        finally:
            connectors_reset()
    active = SourceRecord.objects.filter(state=SourceRecord.State.ACTIVE)
    live: dict[str, dict[str, int]] = {}
    for (code, status), count in sorted(statuses.items()):
        live.setdefault(code, {})[status] = count
    return {
        "benchmark": "workbench_pages",
        "people": people,
        "records": active.count(),
        "records_by_source": dict(Counter(active.values_list("source__code", flat=True))),
        "entities": Entity.objects.filter(state=Entity.State.ACTIVE).count(),
        "open_tasks": ReviewTask.objects.filter(state=ReviewTask.State.OPEN).count(),
        "sync_seconds": round(sync_seconds, 1),
        "tasks_visited": len(visited),
        "repeats": repeats,
        "live_records": live,
        "pages": figures,
        "target_ms": TARGET_MS,
        "all_under_target": all(f["max_ms"] < TARGET_MS for f in figures.values()),
    }


def _prepare_database(url: str) -> str:
    """Migrate (and empty) the hub database at ``url``; returns its vendor."""
    # The test client's host; no setup_test_environment(), whose template instrumentation
    # would be timed too.
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # httpx logs every request at INFO
    sys.path.insert(0, str(ROOT))
    from tests.benchmarks.bench_ingest import _prepare_database as prepare

    return prepare(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5000,
                        help="demo size (demo_sources serve --people; about 2.1 records each)")
    parser.add_argument("--tasks", type=int, default=10, help="task pages to time")
    parser.add_argument("--repeats", type=int, default=10, help="timed requests per URL")
    sys.path.insert(0, str(ROOT))
    import tempfile

    from tests.benchmarks.bench_ingest import database_url_argument, run_on_database

    database_url_argument(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = run_on_database(args.database_url, lambda: run_benchmark(
            people=args.people, tasks=args.tasks, repeats=args.repeats, folder=Path(folder)),
            prepare=_prepare_database)
    print(f"demo of {figures['people']} people on {figures['database']}: "
          f"{figures['records']} records {figures['records_by_source']}, "
          f"{figures['entities']} customers, {figures['open_tasks']} open review tasks "
          f"(sync {figures['sync_seconds']} s)")
    print(f"live records fetched while timing: {figures['live_records']}")
    for name, page in figures["pages"].items():
        verdict = "ok" if page["max_ms"] < TARGET_MS else "OVER TARGET"
        print(f"{name:26} p50 {page['p50_ms']:7.1f} ms  max {page['max_ms']:7.1f} ms  "
              f"{page['samples']:4} samples  {page['queries']:3} queries  {verdict}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
