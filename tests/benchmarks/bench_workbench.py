"""Benchmark: render the steward workbench's pages over the demo data with Django's test client.

    python tests/benchmarks/bench_workbench.py [--people 600] [--repeats 20]

Loads the demo (``manage.py load_demo``) into a throwaway SQLite database in a temporary folder,
gives every demo source a local file connector holding its records (a stand-in for the demo
source systems, so the task page's "load source records" really fetches), then times the
queue, a task page with its live source records, the entity page and the dashboard. Prints
p50 / max per page and the queries each one makes; the last line is JSON. Target: every page
under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_MS = 300.0


def demo_load(*, people: int) -> None:
    """The demo data, as ``manage.py load_demo`` makes it (it insists on DEBUG)."""
    from django.core.management import call_command
    from django.test import override_settings

    with override_settings(DEBUG=True):
        call_command("load_demo", people=people, seed=7, stdout=StringIO())


def fake_sources_configure(folder: Path) -> int:
    """Give each source a file connector over a JSON Lines file of its own records.

    The files hold the key attributes the hub received, which is all a benchmark needs from a
    "full" record: the cost measured is the federation round trip, not the payload.
    """
    from hub.models import SourceRecord, SourceSystem
    from hub.services.sources import source_configure
    from linkage.attributes import CANONICAL_ATTRIBUTES

    count = 0
    for source in SourceSystem.objects.all():
        path = folder / f"{source.code}.jsonl"
        with path.open("w") as out:
            for key, attributes in (SourceRecord.objects.filter(source=source)
                                    .values_list("source_key", "attributes")):
                out.write(json.dumps({"id": key, **attributes}) + "\n")
                count += 1
        source_configure(code=source.code, connector_kind="file",
                         connector_settings={"root": str(folder), "path": path.name,
                                             "key_field": "id"},
                         field_mapping={name: name for name in CANONICAL_ATTRIBUTES},
                         erase_policy="delete")
    return count


def _time(client, urls: list[str], repeats: int) -> dict:
    """Warm up once, then time ``repeats`` rounds of GETting ``urls`` one after the other."""
    from django.db import connection

    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        for url in urls:
            client.get(url)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        for url in urls:
            client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(timings), 1), "max_ms": round(max(timings), 1),
            "queries": len(queries)}


def run_benchmark(*, people: int, repeats: int, folder: Path) -> dict:
    """Load the demo into the configured database and time the workbench pages."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from hub.admin.workbench.queue import ordered_tasks, queue_params
    from hub.models import Entity, ReviewTask, SourceRecord
    from hub.selectors.workbench import thresholds_current

    demo_load(people=people)
    fake_sources_configure(folder)
    user = get_user_model().objects.get(username="admin")
    client = Client()
    client.force_login(user)
    task = ordered_tasks(user, queue_params({}), thresholds_current()).first()
    if task is None:
        raise RuntimeError("the demo opened no review task: use more --people")
    left = task.source_record.entity_id
    right = task.candidate_entity_id
    records_urls = [reverse("admin:workbench_source_records", args=[gid])
                    for gid in dict.fromkeys([left, right])]
    probe = client.get(records_urls[0]).json()
    pages = {
        "queue": [reverse("admin:workbench_queue")],
        "task_page": [reverse("admin:workbench_task", args=[task.pk])],
        # What a steward waits for after pressing "r": the page plus both sides fetched live.
        "task_with_source_records": [reverse("admin:workbench_task", args=[task.pk]),
                                     *records_urls],
        "entity_page": [reverse("admin:workbench_entity", args=[right])],
        "dashboard": [reverse("admin:workbench_dashboard")],
    }
    figures = {name: _time(client, urls, repeats) for name, urls in pages.items()}
    return {
        "benchmark": "workbench_pages",
        "people": people,
        "records": SourceRecord.objects.filter(state="active").count(),
        "entities": Entity.objects.filter(state="active").count(),
        "open_tasks": ReviewTask.objects.filter(state="open").count(),
        "repeats": repeats,
        "source_record_statuses": sorted({block["status"] for block in probe["blocks"]}),
        "pages": figures,
        "target_ms": TARGET_MS,
        "all_under_target": all(f["p50_ms"] < TARGET_MS for f in figures.values()),
    }


def _prepare_database(url: str) -> None:
    """Point Django at a fresh database and migrate it."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    # Production-like: no query log kept per request (load_demo gets DEBUG back for itself).
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=600, help="demo size (load_demo --people)")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        _prepare_database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        sources = Path(folder) / "sources"
        sources.mkdir()
        figures = run_benchmark(people=args.people, repeats=args.repeats, folder=sources)
    print(f"demo: {figures['records']} records, {figures['entities']} customers, "
          f"{figures['open_tasks']} open tasks; live records: {figures['source_record_statuses']}")
    for name, page in figures["pages"].items():
        print(f"{name:26} p50 {page['p50_ms']:7.1f} ms  max {page['max_ms']:7.1f} ms  "
              f"{page['queries']} queries")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
