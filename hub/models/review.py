"""Review tasks: uncertain candidates waiting for a data steward."""

from django.conf import settings
from django.db import models


class ReviewTask(models.Model):
    """The question "is this source record the same customer as that entity?".

    Opened when a record scores between the review and the auto-link threshold against an
    entity, or above auto-link against more than one entity (the matcher does not guess).
    ``score`` and ``explanation`` are those of the best-scoring record of the candidate entity.

    A steward claims a task (``assignee``, ``claimed_at``) and resolves it with a ``verdict``
    (same / different), recorded with ``resolved_by`` and ``resolved_at``; tasks whose question
    no longer stands are cancelled. Resolving needs the ``resolve_reviewtask`` permission.
    """

    class State(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"
        CANCELLED = "cancelled"

    class Reason(models.TextChoices):
        UNCERTAIN = "uncertain", "score between the thresholds"
        AMBIGUOUS = "ambiguous", "auto-link score against several entities"
        WEAK_BRIDGE = "weak_bridge", "one weak link between two large entities"
        TOO_LARGE = "too_large", "the link would make an over-large entity"
        SUPPRESSED = "suppressed", "identifiers match an erased person"

    source_record = models.ForeignKey("hub.SourceRecord", on_delete=models.CASCADE,
                                      related_name="review_tasks")
    candidate_entity = models.ForeignKey("hub.Entity", on_delete=models.PROTECT,
                                         related_name="review_tasks")
    candidate_record = models.ForeignKey("hub.SourceRecord", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    score = models.FloatField()
    explanation = models.JSONField(default=dict, blank=True)
    model_version = models.CharField(max_length=64, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)
    verdict = models.CharField(max_length=10, blank=True,
                               choices=[("same", "same"), ("different", "different")])
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_record", "candidate_entity"],
                                    condition=models.Q(state="open"),
                                    name="review_one_open_per_pair"),
        ]
        indexes = [models.Index(fields=["state", "created_at"])]
        permissions = [("resolve_reviewtask", "Can claim and resolve review tasks")]

    def __str__(self) -> str:
        return f"review {self.pk}"
