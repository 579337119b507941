"""``manage.py train``: estimate a new match model version from the hub's records."""

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from hub.models import Decision, MatchModel
from hub.services.batch_match import records_frame
from hub.services.match_config import active_match_config, match_model_store
from linkage.model import TooFewRecords
from linkage.pipeline import link_frame


class Command(BaseCommand):
    help = ("Estimate u (random pairs), m (EM, refined by steward decisions when there are "
            "enough) and the prior from the current records; print the m/u table and how the "
            "thresholds split the candidate pairs; store the result as a new model version.")

    def add_arguments(self, parser):
        parser.add_argument("--activate", action="store_true",
                            help="make the new version the model in force")

    def handle(self, *args, activate, **options):
        frame, current = records_frame(None)
        labels = pd.DataFrame(list(Decision.objects.filter(is_active=True).values_list(
            "record_a_id", "record_b_id", "verdict")), columns=["left", "right", "verdict"])
        labels["same"] = labels["verdict"] == Decision.Verdict.SAME
        try:
            result = link_frame(frame, active_match_config(), train_model=True,
                                labels=labels[["left", "right", "same"]] if len(labels) else None)
        except TooFewRecords as error:
            raise CommandError(f"active records: {error}; the model in force is kept"
                               ) from error
        config = result.config
        self._table(config)
        split = self._split(result.pairs["weight"], config)
        self.stdout.write(f"Candidate pairs: {split}")
        if MatchModel.objects.filter(version=config.version).exists():
            self.stdout.write(f"Model {config.version} is already stored (same parameters).")
            return
        model = match_model_store(config=config, activate=activate, report={
            "records": len(frame), "decisions": len(labels), "pairs": split,
            "timings": result.timings})
        state = "active" if activate else "stored (activate with --activate)"
        self.stdout.write(f"Model {model.version} {state}.")

    def _table(self, config) -> None:
        self.stdout.write(f"{'attribute':<14}{'level':<26}{'m':>10}{'u':>12}{'weight':>9}")
        for comparison in config.comparisons:
            for level in comparison.levels:
                self.stdout.write(f"{comparison.attribute:<14}{level.name:<26}{level.m:>10.4f}"
                                  f"{level.u:>12.3g}{level.weight:>9.2f}")
        self.stdout.write(f"prior weight {config.prior_weight:.2f}; thresholds: review "
                          f"{config.review_threshold}, auto-link {config.auto_link_threshold}")

    @staticmethod
    def _split(weights, config) -> dict:
        auto = int((weights >= config.auto_link_threshold).sum())
        review = int((weights >= config.review_threshold).sum()) - auto
        return {"auto_link": auto, "review": review, "non_match": int(len(weights)) - auto - review}
