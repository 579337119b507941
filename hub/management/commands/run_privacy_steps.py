"""``manage.py run_privacy_steps [--loop SECONDS]``: run the privacy steps that are due.

The schedule (retries with backoff, steps left behind by a crash) is in the database, so one
pass after a restart picks up everything; ``--loop`` keeps running it, for set-ups without
Celery beat.
"""

import time

from django.core.management.base import BaseCommand

from hub.services.privacy_export import privacy_exports_purge
from hub.services.privacy_steps import privacy_steps_run_due


class Command(BaseCommand):
    help = "Run every privacy-request step whose attempt is due."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0.0, metavar="SECONDS",
                            help="keep running, pausing this long between passes")

    def handle(self, *args, loop, **options):
        while True:
            ran = privacy_steps_run_due()
            purged = privacy_exports_purge()
            self.stdout.write(f"privacy steps run: {ran}; expired exports deleted: {purged}")
            if not loop:
                return
            time.sleep(loop)
