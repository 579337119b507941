"""``manage.py run_privacy_steps [--loop SECONDS]``: run the privacy steps that are due.

The schedule (retries with backoff, steps left behind by a crash) is in the database, so one
pass after a restart picks up everything; ``--loop`` keeps running it, for set-ups without
Celery beat (``dev.py demo`` runs it so). In a loop, SIGTERM ends it once the pass under way
is done, so a stop that can wait never leaves a step to its lease; Ctrl-C ends it at once
(a step it interrupted is taken over when its lease runs out).
"""

import signal
import threading

from django.core.management.base import BaseCommand

from hub.services.privacy_export import privacy_exports_purge
from hub.services.privacy_steps import privacy_steps_run_due


class Command(BaseCommand):
    help = "Run every privacy-request step whose attempt is due."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0.0, metavar="SECONDS",
                            help="keep running, pausing this long between passes")

    def handle(self, *args, loop, **options):
        stop = threading.Event()
        previous = None
        if loop and threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.is_set():
                ran = privacy_steps_run_due()
                purged = privacy_exports_purge()
                self.stdout.write(f"privacy steps run: {ran}; expired exports deleted: {purged}")
                self.stdout.flush()  # a log file, in the demo: each pass shows when it ran
                if not loop:
                    return
                stop.wait(loop)
        except KeyboardInterrupt:
            pass
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        self.stdout.write("privacy step runner stopped")
