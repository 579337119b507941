"""``manage.py load_demo``: demo sources, a steward login, an API token and synthetic customers.

Idempotent: a second run finds the data in place and only prints how to get in.
"""

import os
from itertools import groupby

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from hub.models import Entity, ReviewTask, SourceRecord
from hub.services.ingest import records_upsert_batch
from hub.services.sources import source_add
from hub.services.tokens import token_issue
from linkage.attributes import CANONICAL_ATTRIBUTES
from linkage.synthetic import generate_records

DEMO_SOURCES = {"crm": "CRM (REST)", "billing": "Billing (SQL)", "support": "Support desk",
                "webshop": "Web shop export"}
CHUNK = 500


class Command(BaseCommand):
    help = "Load the demo: four sources, synthetic customers with duplicates, a login, a token."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=600,
                            help="synthetic people to generate (about 2.1 records each)")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, people, seed, **options):
        if not settings.DEBUG:
            raise CommandError("the demo creates a known admin login: run it with DEBUG on")
        for code, name in DEMO_SOURCES.items():
            source_add(code=code, name=name)
        password = self._ensure_admin()
        token, _ = token_issue(username="demo-app")
        if SourceRecord.objects.exists():
            self.stdout.write("Demo data already loaded.")
        else:
            self._load(people, seed)
        self._summary(password, token)

    def _ensure_admin(self) -> str:
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "demo-admin")
        users = get_user_model().objects
        if not users.filter(username="admin").exists():
            users.create_superuser("admin", "", password)
        return password

    def _load(self, people: int, seed: int) -> None:
        records = generate_records(people=people, seed=seed, sources=tuple(DEMO_SOURCES))
        records.sort(key=lambda r: r["source"])
        for source, group in groupby(records, key=lambda r: r["source"]):
            items = [{"source_key": r["source_key"],
                      "attributes": {k: r[k] for k in CANONICAL_ATTRIBUTES if r.get(k)}}
                     for r in group]
            for start in range(0, len(items), CHUNK):
                records_upsert_batch(source_code=source, items=items[start:start + CHUNK])
            self.stdout.write(f"  {source}: {len(items)} records ingested")

    def _summary(self, password: str, token: str) -> None:
        active = Entity.objects.filter(state=Entity.State.ACTIVE).count()
        tasks = ReviewTask.objects.filter(state=ReviewTask.State.OPEN).count()
        records = SourceRecord.objects.filter(state=SourceRecord.State.ACTIVE).count()
        self.stdout.write(
            f"Demo: {records} source records in {active} customers, {tasks} open review tasks.\n"
            f"Admin login: admin / {password}\n"
            f"API token:   {token}   (header 'Authorization: Token {token}')")
