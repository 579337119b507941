"""``manage.py evaluate FILE.csv``: measure matching quality on labelled data, safely.

The command re-runs itself as a worker process on a throwaway SQLite database (the hub's own
database is never opened by the worker), then prints the worker's report.
"""

import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from hub.evaluation import (
    Clock,
    EvaluationFileError,
    load_rows,
    predicted_entities,
    read_rows,
    review_pairs,
)
from hub.models import ReviewTask, SourceRecord
from hub.services.batch_apply import batch_match_apply
from hub.services.batch_match import batch_match_plan, records_frame
from hub.services.match_config import active_match_config, match_model_store
from linkage.evaluate import bcubed, blocking_metrics, pairwise_metrics, with_review_decided
from linkage.model import TooFewRecords
from linkage.pipeline import link_frame

WORKER_FLAG = "HUB_EVALUATION_WORKER"


class Command(BaseCommand):
    help = ("Train and batch-match a labelled CSV (source, source_key, key attributes, truth "
            "column) in a throwaway database and report precision, recall, F1, B-cubed, review "
            "load, blocking quality, time per phase and peak memory.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--truth-column", default="cluster")
        parser.add_argument("--assignments-out", type=Path)
        parser.add_argument("--json", action="store_true", help="print one JSON object last")

    def handle(self, *args, file, truth_column, assignments_out, json, **options):
        if not file.is_file():
            raise CommandError(f"file: {file} does not exist")
        if os.environ.get(WORKER_FLAG):
            return self._work(file, truth_column, assignments_out, json)
        with tempfile.TemporaryDirectory() as folder:
            env = {**os.environ, WORKER_FLAG: "1",
                   "DATABASE_URL": f"sqlite:///{Path(folder) / 'evaluation.sqlite3'}"}
            command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "evaluate",
                       str(file.resolve()), "--truth-column", truth_column]
            if assignments_out:
                command += ["--assignments-out", str(assignments_out.resolve())]
            if json:
                command.append("--json")
            done = subprocess.run(command, env=env, capture_output=True, text=True)
        self.stdout.write(done.stdout, ending="")
        messages = done.stderr.strip().splitlines()
        if done.returncode != 0:
            self._warn(messages[:-1])
            # The worker's own CommandError ends its stderr: pass its message on, once.
            raise CommandError(messages[-1].removeprefix("CommandError: ") if messages
                               else "failed")
        self._warn(messages)

    def _warn(self, lines: list[str]) -> None:
        """Pass on what the worker wrote to stderr (warnings about the file)."""
        for line in lines:
            self.stderr.write(line)

    def _work(self, file, truth_column, assignments_out, as_json):
        clock = Clock()
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        clock("migrate", started)
        started = time.perf_counter()
        try:
            read = read_rows(file, truth_column)
        except (EvaluationFileError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"{file.name}: {error}") from error
        self._report_reading(read)
        truth, bad_values = load_rows(read.rows, truth_column)
        clock("load", started)
        started = time.perf_counter()
        model = self._train()
        clock("train", started)
        started = time.perf_counter()
        run = batch_match_plan()
        clock("match", started)
        started = time.perf_counter()
        batch_match_apply(run)
        clock("write", started)
        predicted = predicted_entities()
        reviewed = with_review_decided(predicted, review_pairs(), truth)
        auto, decided = pairwise_metrics(truth, predicted), pairwise_metrics(truth, reviewed)
        b_precision, b_recall, b_f1 = bcubed(truth, predicted)
        blocking = blocking_metrics(run.result.pairs[["left", "right"]], truth, len(truth))
        report = {
            "records": len(truth), "bad_values": dict(bad_values), "ignored_columns": read.ignored,
            "unlabelled_records": read.unlabelled,
            "model": model,
            "auto_links": _metrics(auto), "with_review_decided": _metrics(decided),
            "bcubed": {"precision": round(b_precision, 6), "recall": round(b_recall, 6),
                       "f1": round(b_f1, 6)},
            "review_tasks": len(review_pairs()),
            "blocking": {k: (round(v, 6) if isinstance(v, float) else v)
                         for k, v in blocking.items()},
            "timings": {**clock.timings, **{f"match.{k}": round(v, 3)
                                            for k, v in run.timings.items()}},
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        if assignments_out:
            self._write_assignments(assignments_out, predicted)
        self._print(report, as_json)

    def _train(self) -> str:
        """Train a model on the loaded records and put it in force; its version.

        A file too small to train on is matched with the model in force, which is said.
        """
        frame, _current = records_frame(None)
        config = active_match_config()
        try:
            trained = link_frame(frame, config, train_model=True).config
        except TooFewRecords as error:
            self.stderr.write(f"warning: {error}; matched with model {config.version}")
            return config.version
        match_model_store(config=trained, report={"evaluation": True}, activate=True)
        return trained.version

    def _report_reading(self, read) -> None:
        for column in read.ignored:
            self.stderr.write(f"warning: column '{column}' is not a key attribute; ignored")
        for column, name in read.renamed.items():
            self.stderr.write(f"warning: column '{column}' read as '{name}'")
        if read.unlabelled:
            self.stderr.write(f"warning: {read.unlabelled} row(s) have no truth value; each "
                              "counts as a person of its own")

    def _write_assignments(self, path, predicted):
        in_review = set(ReviewTask.objects.filter(state="open").values_list(
            "source_record_id", flat=True))
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["source", "source_key", "golden_id", "in_review"])
            for record_id, source, key in SourceRecord.objects.values_list(
                    "id", "source__code", "source_key").order_by("id"):
                writer.writerow([source, key, predicted.get(record_id, ""),
                                 str(record_id in in_review).lower()])

    def _print(self, report, as_json):
        for name in ("auto_links", "with_review_decided"):
            m = report[name]
            self.stdout.write(f"{name:<20} precision {m['precision']:.4f}  recall "
                              f"{m['recall']:.4f}  F1 {m['f1']:.4f}")
        b, k = report["bcubed"], report["blocking"]
        self.stdout.write(f"{'B-cubed':<20} precision {b['precision']:.4f}  recall "
                          f"{b['recall']:.4f}  F1 {b['f1']:.4f}")
        self.stdout.write(f"review tasks {report['review_tasks']}; blocking: pairs completeness "
                          f"{k.get('pairs_completeness')}, reduction ratio "
                          f"{k.get('reduction_ratio')}; bad values {report['bad_values']}")
        self.stdout.write(f"timings {report['timings']}; peak memory "
                          f"{report['peak_memory_mb']} MB")
        if as_json:
            self.stdout.write(json.dumps(report))


def _metrics(metrics) -> dict:
    return {"precision": round(metrics.precision, 6), "recall": round(metrics.recall, 6),
            "f1": round(metrics.f1, 6), "true_positives": metrics.true_positives,
            "false_positives": metrics.false_positives,
            "false_negatives": metrics.false_negatives}
