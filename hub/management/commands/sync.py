"""``manage.py sync [SOURCE ...] [--full] [--limit-pages N]``: pull changes from the sources."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from hub.models import SourceSystem
from hub.services.errors import InvalidInput, NotFound
from hub.services.sync import SyncInterrupted, source_sync


def _summary(report) -> str:
    counts = report.as_dict()["counts"]
    line = f"{report.source}: " + ", ".join(f"{counts[name]} {name}" for name in counts)
    line += f" ({report.pages} pages)"
    if report.reasons:
        line += "; rejected: " + ", ".join(
            f"{reason} x{count}" for reason, count in report.reasons.most_common())
    return line


class Command(BaseCommand):
    help = ("Load changes from the sources' connectors into the hub: a full load the first "
            "time, then incremental loads from the stored cursor. Safe to interrupt and rerun.")

    def add_arguments(self, parser):
        parser.add_argument("sources", nargs="*", metavar="SOURCE",
                            help="source codes (default: every active source with a connector)")
        parser.add_argument("--full", action="store_true",
                            help="ignore the stored cursor and read everything again")
        parser.add_argument("--limit-pages", type=int, default=None, metavar="N",
                            help="stop after N pages per source (resume with the next run)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, sources, full, limit_pages, no_progress, **options):
        if limit_pages is not None and limit_pages < 1:
            raise CommandError("--limit-pages must be at least 1")
        codes = sources or list(SourceSystem.objects.filter(is_active=True)
                                .exclude(connector_kind="").values_list("code", flat=True))
        if not codes:
            raise CommandError("no source to sync: configure one with load_sources or the admin")
        failed = []
        for code in codes:
            bar = tqdm(desc=code, unit=" changes", file=sys.stderr, disable=no_progress,
                       dynamic_ncols=True)
            try:
                report = source_sync(source_code=code, full=full, limit_pages=limit_pages,
                                     progress=bar.update)
            except SyncInterrupted as interrupted:
                bar.close()
                self.stdout.write(_summary(interrupted.report))
                raise CommandError(f"interrupted during {code}; committed pages are kept, "
                                   "run sync again to resume") from None
            except (NotFound, InvalidInput) as error:
                bar.close()
                reason = str(error) if isinstance(error, NotFound) else "source is not active"
                failed.append(code)
                self.stderr.write(f"{code}: {reason}")
                continue
            bar.close()
            self.stdout.write(_summary(report))
            if report.error:
                failed.append(code)
                self.stderr.write(f"{code}: stopped after {report.pages} pages: {report.error}; "
                                  "run sync again to resume")
        if failed:
            raise CommandError(f"sync incomplete for: {', '.join(failed)}")
