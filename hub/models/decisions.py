"""Decisions: a steward's judgement that two source records are or are not the same person."""

from django.conf import settings
from django.db import models


class Decision(models.Model):
    """A pairwise verdict (same / different) on two source records, by a steward.

    Automatic matching never contradicts an active decision: a "different" pair never ends in
    one entity. The pair is stored in ascending id order so each pair has one active decision.
    Undoing a decision deactivates it (the row stays for the audit trail).
    """

    class Verdict(models.TextChoices):
        SAME = "same"
        DIFFERENT = "different"

    record_a = models.ForeignKey("hub.SourceRecord", on_delete=models.CASCADE, related_name="+")
    record_b = models.ForeignKey("hub.SourceRecord", on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    is_active = models.BooleanField(default=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="decision_pair_ordered",
                                   condition=models.Q(record_a__lt=models.F("record_b"))),
            models.UniqueConstraint(fields=["record_a", "record_b"],
                                    condition=models.Q(is_active=True),
                                    name="decision_one_active_per_pair"),
        ]
        indexes = [models.Index(fields=["record_b", "record_a"])]

    def __str__(self) -> str:
        return f"{self.record_a_id} {self.verdict} {self.record_b_id}"
