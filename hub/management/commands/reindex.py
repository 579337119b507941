"""``manage.py reindex [--sources ...] [--dry-run]``: refresh stored match values and keys."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from hub.management.source_scope import add_scope_arguments, check_sources
from hub.services.reindex import active_records, reindex_records


class Command(BaseCommand):
    help = ("Re-standardise the active records (or those of --sources) from their attributes as "
            "received and rebuild their blocking keys under the model in force: after an upgrade "
            "of the standardisers or a model with other blocking rules. Then run match.")

    def add_arguments(self, parser):
        add_scope_arguments(parser)

    def handle(self, *args, sources, dry_run, **options):
        check_sources(sources)
        with tqdm(total=active_records(sources).count(), desc="reindex", unit="record",
                  disable=options["verbosity"] == 0) as bar:
            summary = reindex_records(sources=sources, dry_run=dry_run, progress=bar.update)
        verb = "Would refresh" if dry_run else "Refreshed"
        self.stdout.write(f"{verb}: {summary.restandardised} of {summary.records} records "
                          f"re-standardised, {summary.rekeyed} with new blocking keys.")
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
