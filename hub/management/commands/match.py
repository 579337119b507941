"""``manage.py match [--sources ...] [--dry-run]``: re-match whole sources in one batch."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from hub.management.source_scope import add_scope_arguments, check_sources
from hub.services.batch_apply import batch_match_apply
from hub.services.batch_match import batch_match_plan
from hub.services.batch_plan import NewEntity
from hub.services.errors import Conflict
from hub.services.reindex import index_staleness

EXAMPLES = 5


class Command(BaseCommand):
    help = ("Match all active records (or those of --sources) with the model in force, keeping "
            "every steward decision and manual link. --dry-run shows what would change.")

    def add_arguments(self, parser):
        add_scope_arguments(parser)

    def handle(self, *args, sources, dry_run, **options):
        check_sources(sources)
        checked, stale = index_staleness(sources=sources)
        if stale:
            self.stderr.write(f"Warning: {stale} of the {checked} most recent records have stale "
                              "standardised values or blocking keys (standardisers upgraded, or "
                              "other blocking rules in force): run manage.py reindex first.")
        with tqdm(total=3 if dry_run else 4, desc="match", unit="phase",
                  disable=options["verbosity"] == 0) as bar:
            bar.set_postfix_str("scoring candidate pairs")
            run = batch_match_plan(sources=sources)
            bar.update(2)
            self._report(run)
            bar.update(1)
            if not dry_run:
                bar.set_postfix_str("writing")
                try:
                    summary = batch_match_apply(run)
                except Conflict as error:
                    raise CommandError(str(error)) from error
                bar.update(1)
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
        else:
            self.stdout.write(f"Applied: {summary}")

    def _report(self, run) -> None:
        counts = {**run.plan.summary(), "review_candidates": len(run.review)}
        timings = ", ".join(f"{k} {v:.2f}s" for k, v in run.timings.items())
        self.stdout.write(f"Model {run.config.version}: {len(run.current)} records in scope.")
        self.stdout.write("Would change: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        self.stdout.write(f"Timings: {timings}")
        for record_id, old, target in run.plan.moves[:EXAMPLES]:
            to = "a new entity" if isinstance(target, NewEntity) else target
            self.stdout.write(f"  e.g. record {record_id}: {old} -> {to}")
        for old, target in list(run.plan.retired.items())[:EXAMPLES]:
            to = "a new entity" if isinstance(target, NewEntity) else target
            self.stdout.write(f"  e.g. entity {old} merges into {to}")
